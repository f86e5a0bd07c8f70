"""Shared fixtures: the configuration, a fresh database per test on SQLite and PostgreSQL, and
the mail servers (a real Dovecot, an SMTP sink) that the e-mail, start-up and secrets tests use.

PostgreSQL tests use TEST_DATABASE_URL (a server URL; each test run creates a throwaway
database on it and drops it afterwards). Without it they probe 127.0.0.1:5432 and, when no
server answers, skip with the reason shown.

Migrations run once per test run, into a template: each test's database is a copy of it (a
SQLite file copied, a PostgreSQL database created from it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("template") / "helpdesk.db"
    _in_thread(_migrate_template(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def pg_template(pg_database: str) -> Iterator[str]:
    """A PostgreSQL database migrated to head once per run, the template each test's database
    is created from (a copy takes some 30 ms where migrating takes some 300 ms)."""
    from sqlalchemy.engine import make_url

    name = f"{make_url(pg_database).database}_template"
    _admin(pg_database, f'CREATE DATABASE "{name}"')
    try:
        _in_thread(_migrate_template(make_url(pg_database).set(database=name).render_as_string(hide_password=False)))
        yield name
    finally:
        _admin(pg_database, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_dropper(pg_database: str) -> Iterator[Callable[[str], None]]:
    """Drops the tests' PostgreSQL databases in the background: a DROP DATABASE waits for a
    checkpoint (a few hundred ms on a busy server) that the next test need not wait for. The
    run ends with every drop done, and says so if one failed. The drops connect to the server's
    own database, not the run's: a test may cut every connection to the run's (test_concurrency)."""
    server = _pg_server_url() or pg_database
    drops: list[concurrent.futures.Future[None]] = []
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        yield lambda name: drops.append(
            pool.submit(asyncio.run, _admin_async(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
    for drop in drops:
        drop.result()


def _in_thread(work: Any) -> None:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


async def _migrate_template(url: str) -> None:
    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()  # no connection left: a template must have none to be copied


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database on each backend: a copy of the run's migrated template."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        for suffix in ("", "-wal", "-shm"):  # the WAL is checkpointed and gone; copied if it is not
            if (source := template.with_name(template.name + suffix)).exists():
                shutil.copyfile(source, tmp_path / f"helpdesk.db{suffix}")
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'helpdesk.db'}")
        yield database
        await database.dispose()
        return
    from sqlalchemy.engine import make_url

    server: str = request.getfixturevalue("pg_database")
    name = f"{make_url(server).database}_{uuid.uuid4().hex[:8]}"
    await _admin_async(server, f'CREATE DATABASE "{name}" TEMPLATE "{request.getfixturevalue("pg_template")}"')
    database = Database(make_url(server).set(database=name).render_as_string(hide_password=False))
    drop: Callable[[str], None] = request.getfixturevalue("pg_dropper")
    try:
        yield database
    finally:
        await database.dispose()
        drop(name)


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
