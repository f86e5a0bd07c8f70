"""Engine and transactions. SQLite: WAL, foreign keys, busy timeout, writers BEGIN IMMEDIATE,
statements run in the event loop's thread (inline_sqlite: profiled, aiosqlite's thread hand-overs
cost more than the statements).

Write transactions on SQLite start with BEGIN IMMEDIATE and are serialized in-process, so a
transaction never has to upgrade a read lock (the case that makes SQLite answer "database is
locked" at once, whatever the busy timeout).

A unit of work (`unit()`) is one write transaction for everything a task does inside it: the
`write()` and `read()` blocks of the services it calls join it, a write block as a savepoint.
Handling one platform event is one unit: its claim, its changes and the replies it keeps commit
together or not at all (and one transaction costs less than the four it replaces).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from core.storage.fastpath import inline_sqlite
from core.storage.fastpath.lean import LEAN_KEY, Lean

BUSY_TIMEOUT_MS = 30_000
# The unit of work open in this context, with the task that opened it: a task started inside a
# unit inherits the variable but not the transaction.
_unit: ContextVar[tuple[asyncio.Task[Any] | None, AsyncSession] | None] = ContextVar("unit", default=None)


class Database:
    """The one place that knows how to open a transaction."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 60) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        self.inline = self.is_sqlite and _plain_file(self.url.database) and not self.url.query
        if self.inline:  # statements run in the loop's own thread (see inline_sqlite)
            kwargs["async_creator"] = inline_sqlite.creator(self.url.database or "", BUSY_TIMEOUT_MS / 1000)
            kwargs.update(pool_size=20, max_overflow=20)  # readers run side by side in WAL mode
        elif self.is_sqlite:  # in memory, or a URI: aiosqlite's thread
            kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000}
        else:
            # Updates are handled side by side, each holding a connection for its unit of work;
            # waiting for a connection showed in p99. A connection once opened stays open:
            # closing those over a smaller pool_size had the server start a new process for
            # a good part of the updates (docs/benchmarks.md).
            # No ping before each unit: asyncpg's adapter pings inside a transaction of its own,
            # three round trips per unit. A connection the server dropped fails the one unit
            # that meets it (its event is delivered again, a job runs again), and SQLAlchemy then
            # replaces every connection older than that failure (tested).
            kwargs.update(pool_size=pool_size, max_overflow=0)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _sqlite_setup(self.engine, busy_timeout_ms=0 if self.inline else BUSY_TIMEOUT_MS)
        self._writer = self.engine.execution_options(helpdesk_write=True)
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(self._writer, expire_on_commit=False)
        self._write_lock = WriteLock() if self.is_sqlite else None

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[AsyncSession]:
        """One write transaction that the write() and read() blocks inside it join."""
        if _joined() is not None:
            raise RuntimeError("a unit of work is already open in this task")
        async with self._transaction() as session:
            token = _unit.set((asyncio.current_task(), session))
            try:
                yield session
            finally:
                _unit.reset(token)

    @asynccontextmanager
    async def write(self, *, urgent: bool = False, savepoint: bool = True) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed on success, rolled back on any exception. Inside a
        unit, a savepoint of it, rolled back alone on an exception. `urgent`: short bookkeeping
        of something already done outside (a message sent, a heartbeat), which on SQLite goes
        before the units waiting their turn, so a crash finds it recorded. `savepoint=False`: the
        block raises no domain error once it has changed anything (one statement, or its checks
        all come first), so nothing of it can be left half-done for the unit to commit; any other
        failure fails the whole unit. A savepoint costs two statements and SQLAlchemy's nested
        transaction, on the hot path of every ticket opened and message added."""
        session = _joined()
        if session is None:
            async with self._transaction(urgent) as session:
                yield session
            return
        with _joined_block(session):
            if not savepoint:
                yield session
                # As a savepoint's release would: what the block added reaches the database
                # before the outermost block's end takes its objects out of the session.
                await session.flush()
                return
            async with session.begin_nested():
                yield session

    def lean(self) -> Lean | None:
        """The driver connection of this task's unit, where the unit attached one (the event's
        claim does: see core.storage.fastpath.lean), for the statements every event runs."""
        session = _joined()
        return session.info.get(LEAN_KEY) if session is not None else None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        session = _joined()
        if session is not None:
            with _joined_block(session):
                yield session
            return
        async with self._read_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _transaction(self, urgent: bool = False) -> AsyncIterator[AsyncSession]:
        async with self._write_lock.held(urgent) if self._write_lock else nullcontext():
            async with self._write_sessions() as session, session.begin():
                yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


class WriteLock:
    """SQLite's one writer in this process: first come, first served, urgent waiters first."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: collections.deque[asyncio.Future[None]] = collections.deque()
        self._normal: collections.deque[asyncio.Future[None]] = collections.deque()

    @asynccontextmanager
    async def held(self, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if not self._held and not self._urgent and not self._normal:
            self._held = True
            return
        waiter = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._normal
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed over just as we were cancelled: pass it on
            elif waiter in queue:  # a hand-over may have skipped it already
                queue.remove(waiter)
            raise

    def _release(self) -> None:
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # handed over: it stays held
                    return
        self._held = False


def _joined() -> AsyncSession | None:
    """The session of the unit this task opened, if any."""
    held = _unit.get()
    if held is None or held[0] is not asyncio.current_task():
        return None
    return held[1]


@contextmanager
def _joined_block(session: AsyncSession) -> Iterator[None]:
    """A service's block inside a unit. When the outermost one ends, its objects leave as they
    would leave a transaction of their own: loaded and detached, so the next block reads afresh."""
    depth = session.info.get("depth", 0)
    session.info["depth"] = depth + 1
    try:
        yield
    finally:
        session.info["depth"] = depth
        if depth == 0:
            session.expunge_all()


def _plain_file(database: str | None) -> bool:
    return database not in (None, "", ":memory:") and not (database or "").startswith("file:")


def _sqlite_setup(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN out of the driver's hands so we can choose DEFERRED or IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")  # 0 inline: waited out off the loop
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("helpdesk_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
