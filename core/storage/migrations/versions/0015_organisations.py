"""Organisations: companies whose people share tickets, and the addresses that prove membership.

`organisations` with their sharing mode, the domains and the hand-added member addresses that
make an address a member, `verifications` (the codes sent to a claimed address, as keyed hashes),
and on `customers` the proven address (`address`) and the organisation it gives.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False, unique=True),
        sa.Column("sharing", sa.String(length=16), nullable=False),
        sa.Column("replies", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "organisation_domains",
        sa.Column("domain", sa.String(length=255), primary_key=True),
        sa.Column("organisation_id", sa.Integer(),
                  sa.ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
    )
    op.create_index("ix_organisation_domains_organisation_id", "organisation_domains", ["organisation_id"])
    op.create_table(
        "organisation_members",
        sa.Column("address", sa.String(length=255), primary_key=True),
        sa.Column("organisation_id", sa.Integer(),
                  sa.ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_organisation_members_organisation_id", "organisation_members", ["organisation_id"])
    op.create_table(
        "verifications",
        sa.Column("customer_id", sa.Integer(),
                  sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wrong", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
    )
    # Plain columns on customers, added and dropped in place (a batch rebuild of the table would
    # trip the foreign keys pointing at it, as 0012 explains); hence no foreign key either.
    op.add_column("customers", sa.Column("address", sa.String(length=255), nullable=True))
    op.add_column("customers", sa.Column("organisation_id", sa.Integer(), nullable=True))
    op.add_column("customers", sa.Column("organisation_role", sa.String(length=16), nullable=True))
    op.add_column("customers", sa.Column("address_proven", sa.Boolean(), nullable=False,
                                         server_default=sa.text("false")))
    op.create_table(
        "address_locks",
        sa.Column("address", sa.String(length=255), primary_key=True),
        sa.Column("wrong", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    )
    # The mail channel's customers wrote from their address before it was kept: kept now (as
    # claimed, not proven), so that a person who proves it finds their mailed tickets.
    op.execute("UPDATE customers SET address = lower(platform_user_id) "
               "WHERE platform = 'email' AND platform_user_id LIKE '%_@_%'")
    op.create_index("ix_customers_address", "customers", ["address"])
    op.create_index("ix_customers_organisation_id", "customers", ["organisation_id"])


def downgrade() -> None:
    op.drop_index("ix_customers_organisation_id", table_name="customers")
    op.drop_index("ix_customers_address", table_name="customers")
    op.drop_table("address_locks")
    for column in ("address_proven", "organisation_role", "organisation_id", "address"):
        op.get_bind().exec_driver_sql(f"ALTER TABLE customers DROP COLUMN {column}")
    op.drop_table("verifications")
    op.drop_table("organisation_members")
    op.drop_table("organisation_domains")
    op.drop_table("organisations")
