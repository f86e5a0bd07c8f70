"""Inbound events already taken, for deduplicating redelivered updates and retried events.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "event_id"),
    )
    op.create_index("ix_inbound_events_at", "inbound_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_events_at", table_name="inbound_events")
    op.drop_table("inbound_events")
