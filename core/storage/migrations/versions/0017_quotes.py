"""Quotes for paid work: `quotes`, and who of an organisation may approve them.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quotes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_customer_id", sa.Integer(), sa.ForeignKey("customers.id", ondelete="SET NULL"),
                  nullable=True),
    )
    op.create_index("ix_quotes_ticket_id", "quotes", ["ticket_id"])
    op.create_index("ix_quotes_agent_id", "quotes", ["agent_id"])
    op.create_index("ix_quotes_created_at", "quotes", ["created_at"])
    op.create_index("ix_quotes_decided_at", "quotes", ["decided_at"])
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("approvers", sa.String(length=16), nullable=False, server_default="requester"))


def downgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("approvers")
    for name in ("ix_quotes_decided_at", "ix_quotes_created_at", "ix_quotes_agent_id", "ix_quotes_ticket_id"):
        op.drop_index(name, table_name="quotes")
    op.drop_table("quotes")
