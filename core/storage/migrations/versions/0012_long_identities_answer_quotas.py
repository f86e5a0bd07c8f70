"""Identities as long as an address, quotas of automatic answers, installation keys.

A customer's identity and chat may be an address (up to 254 characters), so the columns that
hold them grow to 255. `answer_quotas` counts the automatic answers a channel sent one sender
within the hour, so that two robots answering each other stop after a few rounds.
`install_keys` holds random keys made at first use (the one that signs the bot's message ids).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _widen(size: int, was: int) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite keeps text of any length: only the declaration changes, as its documentation
        # shows for changes that leave the stored rows alone (a rebuild of the tables would trip
        # the foreign keys pointing at them, which cannot be switched off inside a transaction).
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
        bind.exec_driver_sql("PRAGMA writable_schema = ON")
        for table, column in (("customers", "platform_user_id"), ("customers", "chat_id"), ("outbox", "chat_id")):
            bind.exec_driver_sql(
                "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?",
                (f"{column} VARCHAR({was})", f"{column} VARCHAR({size})", table))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
        return
    with op.batch_alter_table("customers") as batch:
        batch.alter_column("platform_user_id", type_=sa.String(size), existing_type=sa.String(was))
        batch.alter_column("chat_id", type_=sa.String(size), existing_type=sa.String(was))
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("chat_id", type_=sa.String(size), existing_type=sa.String(was))


def upgrade() -> None:
    _widen(255, 64)
    op.create_table(
        "answer_quotas",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "sender"),
    )
    op.create_table(
        "install_keys",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("install_keys")
    op.drop_table("answer_quotas")
    _widen(64, 255)  # fails on PostgreSQL if a longer identity was stored meanwhile: nothing is cut
