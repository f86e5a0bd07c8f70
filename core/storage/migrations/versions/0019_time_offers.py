"""Time offers answered once: `time_entries.offer`, the key of the offer an entry was pressed in.

The desk's key of the offer's message (its desk, chat and message), unique, so that a second
press of the same offer, in this process or another, logs nothing more. NULL for time typed as
a command.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("time_entries") as batch:
        batch.add_column(sa.Column("offer", sa.String(length=160), nullable=True))
    op.create_index("ux_time_entries_offer", "time_entries", ["offer"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_time_entries_offer", table_name="time_entries")
    with op.batch_alter_table("time_entries") as batch:
        batch.drop_column("offer")
