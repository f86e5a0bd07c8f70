"""Apply the Alembic migrations: at start-up and by `helpdesk-bot db upgrade`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from core.storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
_PG_LOCK = 0x48454C50  # "HELP": one migrating process at a time on PostgreSQL


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    async with db.write() as session:
        conn = await session.connection()
        if not db.is_sqlite:
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK})"))
        await conn.run_sync(_upgrade, revision)


def _upgrade(connection: Any, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def current_revision(db: Database) -> str | None:
    async with db.read() as session:
        conn = await session.connection()
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
