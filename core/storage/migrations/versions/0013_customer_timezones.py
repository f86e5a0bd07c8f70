"""A customer's own time zone.

`customers.timezone` holds the IANA zone a customer chose with /timezone; None means the
default for their language from the configuration (`[timezones]`), else the department's.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # SQLite drops a column in place (3.35 and later): a batch rebuild of the table would trip
    # the foreign keys pointing at customers, as 0012 explains.
    op.get_bind().exec_driver_sql("ALTER TABLE customers DROP COLUMN timezone")
