"""SLA timers on tickets (warnings, breaches, pause, reminder, auto-close) and ratings.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TIMERS = ("first_response_warn_at", "resolution_warn_at", "first_response_warned_at", "resolution_warned_at",
          "first_response_breached_at", "resolution_breached_at", "paused_at", "reminder_due_at",
          "reminded_at", "auto_close_at")
INDEXES = {
    "ix_tickets_status_first_warn": ["status", "first_response_warn_at"],
    "ix_tickets_status_resolution_warn": ["status", "resolution_warn_at"],
    "ix_tickets_status_reminder": ["status", "reminder_due_at"],
    "ix_tickets_status_auto_close": ["status", "auto_close_at"],
    "ix_tickets_created": ["created_at"],
}


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for name in TIMERS:
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", columns)
    op.create_table(
        "ratings",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_ratings_agent_id", "ratings", ["agent_id"])
    op.create_index("ix_ratings_rated_at", "ratings", ["rated_at"])


def downgrade() -> None:
    op.drop_table("ratings")
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        for name in TIMERS:
            batch.drop_column(name)
