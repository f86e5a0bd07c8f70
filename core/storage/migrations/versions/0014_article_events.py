"""The knowledge base's article events, for the report.

`article_events`: an article shown, a ticket it deflected, helpful or not (with a comment),
and the searches that found nothing (core.services.articles).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("slug", sa.String(length=128), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_article_events_at", "article_events", ["at"])
    op.create_index("ix_article_events_customer", "article_events", ["customer_id", "slug"])


def downgrade() -> None:
    op.drop_index("ix_article_events_customer", table_name="article_events")
    op.drop_index("ix_article_events_at", table_name="article_events")
    op.drop_table("article_events")
