"""A throwaway PostgreSQL database for a benchmark run."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url

SERVER = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


@asynccontextmanager
async def temporary_database(*, wait_for_flush: bool = True) -> AsyncIterator[str]:
    """A new database, dropped afterwards. `wait_for_flush=False`: its commits do not wait for
    the write-ahead log to reach the disk (synchronous_commit off), to tell the bot's own latency
    from the disk's; the bot's published figures are taken with the server's default (on)."""
    url = make_url(SERVER)
    name = f"helpdesk_bench_{uuid.uuid4().hex[:10]}"
    admin = dict(host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username or "postgres",
                 password=url.password, database=url.database or "postgres")
    conn = await asyncpg.connect(**admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    if not wait_for_flush:
        await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    await conn.close()
    try:
        yield url.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(**admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
