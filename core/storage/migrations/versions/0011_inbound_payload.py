"""A polled update as Telegram sent it, recorded before it is confirmed.

The poller records each fetched update and confirms it at once; the update is handled from
here. A worker killed before handling it leaves it to the next one, which finds it by the index
of events not yet done (instead of Telegram sending it again, which held the confirmation of
every later update back while one was in hand).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_events") as batch:
        batch.add_column(sa.Column("payload", sa.Text(), nullable=True))
    op.create_index("ix_inbound_events_open", "inbound_events", ["platform", "at"],
                    postgresql_where=sa.text("state <> 'done'"), sqlite_where=sa.text("state <> 'done'"))


def downgrade() -> None:
    op.drop_index("ix_inbound_events_open", table_name="inbound_events")
    with op.batch_alter_table("inbound_events") as batch:
        batch.drop_column("payload")
