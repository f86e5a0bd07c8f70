"""Shared fixtures: the configuration, a fresh database per test on SQLite and PostgreSQL, and
the mail servers (a real Dovecot, an SMTP sink) that the e-mail, start-up and secrets tests use.

PostgreSQL tests use TEST_DATABASE_URL (a server URL; each test run creates a throwaway
database on it and drops it afterwards). Without it they probe 127.0.0.1:5432 and, when no
server answers, skip with the reason shown.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.delivery.contract import Pacing
from core.domain.config import HelpdeskConfig, load_config
from core.services import Services
from core.storage.db import Database
from core.storage.migrate import upgrade
from tests.fakes.dovecot import Dovecot, require_dovecot
from tests.fakes.smtp_sink import SmtpSink

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SINK_USER, SINK_PASSWORD = "helpdesk@example.test", "p@ss:w/rd#1"  # characters a URL must encode


def _pg_server_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return DEFAULT_PG
    except OSError:
        return None


def _admin(url: str, sql: str) -> None:
    """Run one statement on the server, from a thread: fixtures may already be in a loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _admin_async(url, sql)).result()


async def _admin_async(url: str, sql: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username or "postgres",
        password=u.password, database=u.database or "postgres",
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test run, dropped afterwards."""
    server = _pg_server_url()
    if server is None:
        pytest.skip("PostgreSQL not available: set TEST_DATABASE_URL or run a server on 127.0.0.1:5432")
    from sqlalchemy.engine import make_url

    name = f"helpdesk_test_{uuid.uuid4().hex[:12]}"
    try:
        _admin(server, f'CREATE DATABASE "{name}"')
    except Exception as exc:
        if os.environ.get("CI"):
            raise  # in CI a server that answers must work: a skip would hide it
        pytest.skip(f"PostgreSQL at {make_url(server).render_as_string(hide_password=True)} "
                    f"refused a test database: {exc}")
    url = make_url(server).set(drivername="postgresql+asyncpg", database=name)
    yield url.render_as_string(hide_password=False)
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def config() -> HelpdeskConfig:
    return load_config()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}")
    else:
        database = Database(request.getfixturevalue("pg_database"))
        await _reset_pg(database)
    await upgrade(database)
    yield database
    await database.dispose()


async def _reset_pg(database: Database) -> None:
    from sqlalchemy import text

    async with database.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        # A Monday morning in Prague, inside the default office hours.
        self.now = start or datetime(2026, 11, 16, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(db: Database, config: HelpdeskConfig, clock: FakeClock) -> Services:
    return Services.build(db, config, clock)


@dataclass
class Line:
    """A channel as the relay sees it: a name, a sender, its pace, and Telegram's rule for a
    group chat (a leading '-'), since the tests' chats are Telegram's."""

    name: str
    sender: Any
    pacing: Pacing = field(default_factory=Pacing)
    desk: Any = None

    def is_group(self, chat_id: str) -> bool:
        return chat_id.startswith("-")


@pytest.fixture
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    """A started SMTP server on 127.0.0.1 that wants a login; `url()` carries it."""
    sink = SmtpSink(user=SINK_USER, password=SINK_PASSWORD)
    await sink.start()
    try:
        yield sink
    finally:
        await sink.stop()


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    """A fresh Dovecot for each test (starting one is quick), stopped afterwards; the test skips
    without Dovecot (fails in CI)."""
    require_dovecot()
    with Dovecot(tmp_path / "dovecot") as server:
        yield server
