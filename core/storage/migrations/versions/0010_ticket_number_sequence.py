"""On PostgreSQL, ticket numbers come from a sequence instead of the counter row.

The counter row was locked from the moment a ticket took its number until the opening
transaction committed, so across all processes tickets were opened one at a time, and a wave
of submitted forms queued behind that lock (the updates benchmark's half-rate run: p99 0.6 s at
100 updates/s). A sequence hands out numbers without holding anything. The price: an opening
that fails after taking its number (the database fails, the process dies before the commit)
leaves a gap. SQLite has one writer at a time, keeps the counter and stays gapless.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE SEQUENCE ticket_numbers AS bigint")
    # Numbers go on from where the counter stood: nextval gives the counter's value + 1.
    op.execute("SELECT setval('ticket_numbers', value) FROM counters WHERE name = 'ticket'")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("UPDATE counters SET value = (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
               "FROM ticket_numbers) WHERE name = 'ticket'")
    op.execute("DROP SEQUENCE ticket_numbers")
