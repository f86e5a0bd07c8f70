"""Hand-overs to L3: `handovers`, what an agent wrote for the specialists when escalating.

Each: the ticket, the tier, the agent (the customer's contact), what was checked, how to
reproduce, what the customer was told, and where a desk posted it for the top level (answers
there are the ticket's).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("checked", sa.Text(), nullable=False),
        sa.Column("reproduce", sa.Text(), nullable=False),
        sa.Column("told", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place_chat", sa.String(length=64), nullable=True),
        sa.Column("place_message", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_handovers_place", "handovers", ["place_chat", "place_message"])
    op.create_index("ix_handovers_ticket_id", "handovers", ["ticket_id"])
    op.create_index("ix_handovers_agent_id", "handovers", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_handovers_place", table_name="handovers")
    op.drop_index("ix_handovers_agent_id", table_name="handovers")
    op.drop_index("ix_handovers_ticket_id", table_name="handovers")
    op.drop_table("handovers")
