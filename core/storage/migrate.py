"""The Alembic migrations: applied at start-up and by `helpdesk-bot db upgrade`, stepped back by
`db downgrade`, listed by `db history`.

The migrations ship inside the package (core/storage/migrations), so no alembic.ini is needed
on disk: the configuration is built here and handed the connection to run on.
"""

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
    await _migrate(db, command.upgrade, revision)


async def downgrade(db: Database, revision: str) -> None:
    """Step the schema back to `revision` ("base": no tables at all)."""
    await _migrate(db, command.downgrade, revision)


async def _migrate(db: Database, step: Any, revision: str) -> None:
    async with db.write() as session:
        conn = await session.connection()
        if not db.is_sqlite:
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK})"))
        await conn.run_sync(_run, step, revision)


def _run(connection: Any, step: Any, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    step(cfg, revision)


async def current_revision(db: Database) -> str | None:
    async with db.read() as session:
        conn = await session.connection()
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def history(current: str | None = None) -> list[str]:
    """One line per migration, newest first, as `alembic history` writes them."""
    lines = []
    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        line = script.cmd_format(verbose=False, include_doc=True, include_parents=True, tree_indicators=True)
        lines.append(line.replace(", ", " (current), ", 1) if script.revision == current else line)
    return lines
