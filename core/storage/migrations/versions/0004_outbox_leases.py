"""Outbox leases (several relays share the outbox) and an index for per-chat pacing.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
    op.create_index("ix_outbox_chat_sent", "outbox", ["platform", "chat_id", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_chat_sent", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_owner")
        batch.drop_column("lease_until")
