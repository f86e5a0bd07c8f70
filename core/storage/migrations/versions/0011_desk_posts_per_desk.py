"""Desk posts per desk: a ticket has a card on each desk that shows it.

The desk rows of the outbox name their desk (`desk:<channel>`). A post now records which desk it is on, the card's own message when it is not the thread's root
(a forum topic's card is a message in the topic), the digest of the card as last shown (an edit
that would change nothing is not sent), and whether the desk's thread was closed.

Before this revision one channel served the agents' desk, so the rows already stored are that
channel's: migrations record the data of their time, which names its platforms.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

FIRST_DESK = "slack"  # the one channel that served a desk before this revision


def upgrade() -> None:
    op.create_table(
        "desk_posts_new",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("desk", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.String(length=64), nullable=False),
        sa.Column("card", sa.String(length=64), nullable=True),
        sa.Column("card_digest", sa.String(length=64), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id", "desk"),
        sa.UniqueConstraint("desk", "channel", "ts"),
    )
    op.execute("INSERT INTO desk_posts_new (ticket_id, desk, channel, ts, card, closed, created_at) "
               f"SELECT ticket_id, '{FIRST_DESK}', channel, ts, ts, false, created_at FROM desk_posts")
    op.drop_table("desk_posts")
    op.rename_table("desk_posts_new", "desk_posts")
    op.execute(f"UPDATE outbox SET platform = 'desk:{FIRST_DESK}' WHERE platform = 'desk'")


def downgrade() -> None:
    op.create_table(
        "desk_posts_old",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("ts", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id"),
        sa.UniqueConstraint("channel", "ts"),
    )
    op.execute("INSERT INTO desk_posts_old (ticket_id, channel, ts, created_at) "
               f"SELECT ticket_id, channel, ts, created_at FROM desk_posts WHERE desk = '{FIRST_DESK}'")
    op.drop_table("desk_posts")
    op.rename_table("desk_posts_old", "desk_posts")
    op.execute(f"UPDATE outbox SET platform = 'desk' WHERE platform = 'desk:{FIRST_DESK}'")
    op.execute("DELETE FROM outbox WHERE platform LIKE 'desk:%'")
