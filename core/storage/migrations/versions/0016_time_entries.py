"""Time on tickets: `time_entries`, the minutes agents log on tickets.

Each entry: the ticket, the agent, minutes, an activity (a code of `[time] activities`, or
empty), a note, when it was logged and when its author last corrected it.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "time_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_time_entries_ticket_id", "time_entries", ["ticket_id"])
    op.create_index("ix_time_entries_agent_id", "time_entries", ["agent_id"])
    op.create_index("ix_time_entries_at", "time_entries", ["at"])


def downgrade() -> None:
    op.drop_index("ix_time_entries_at", table_name="time_entries")
    op.drop_index("ix_time_entries_agent_id", table_name="time_entries")
    op.drop_index("ix_time_entries_ticket_id", table_name="time_entries")
    op.drop_table("time_entries")
