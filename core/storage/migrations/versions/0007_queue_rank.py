"""The queue's order as a non-null column with partial indexes over open tickets.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OPEN = "status IN ('new', 'accepted', 'waiting')"


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("queue_rank", sa.DateTime(timezone=True), nullable=True))
    answered = "'9999-12-31 00:00:00.000000'" if op.get_context().dialect.name == "sqlite" \
        else "TIMESTAMPTZ '9999-12-31 00:00:00+00'"
    op.execute(f"UPDATE tickets SET queue_rank = COALESCE(waiting_since, {answered})")
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("queue_rank", nullable=False)
    op.drop_index("ix_tickets_department_status", table_name="tickets")
    op.create_index("ix_tickets_department_status", "tickets", ["department", "status"])
    op.create_index("ix_queue_department", "tickets", ["department", "queue_rank", "number"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index("ix_queue_all", "tickets", ["queue_rank", "number"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index("ix_queue_all", table_name="tickets")
    op.drop_index("ix_queue_department", table_name="tickets")
    op.drop_index("ix_tickets_department_status", table_name="tickets")
    op.create_index("ix_tickets_department_status", "tickets", ["department", "status", "waiting_since"])
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("queue_rank")
