"""SQLite run in the event loop's own thread, behind the interface SQLAlchemy's aiosqlite dialect
expects (handed to it as `async_creator`).

Why: aiosqlite runs each call on a thread of its own, and SQLAlchemy makes three or four calls
per statement (cursor, execute, fetch, close). Profiled, those hand-overs (a queue put, a wake-up
of the loop, the GIL changing hands) cost more than the statements (docs/benchmarks.md). A
statement on a local SQLite file in WAL mode is quick, so it is run where it is asked for.

What must not block the loop is waiting for another process's write lock: the busy timeout is 0
here, and "database is locked" is waited out with asyncio.sleep (then the statement is tried
again: a statement that found the database locked did nothing), for up to `busy_timeout`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

BUSY_SNAPSHOT = sqlite3.SQLITE_BUSY | (2 << 8)  # a read snapshot too old to write from: never clears


def _locked(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds a lock this statement needs, and will let it go."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY and code != BUSY_SNAPSHOT


async def _patiently(call: Callable[[], Any], busy_timeout: float) -> Any:
    """`call()`, tried again while another connection holds the lock it needs."""
    delay, waited = 0.001, 0.0
    while True:
        try:
            return call()
        except sqlite3.OperationalError as exc:
            if not _locked(exc) or waited >= busy_timeout:
                raise
        await asyncio.sleep(delay)
        waited += delay
        delay = min(delay * 2, 0.05)


class InlineCursor:
    __slots__ = ("_cursor", "_busy")

    def __init__(self, cursor: sqlite3.Cursor, busy_timeout: float) -> None:
        self._cursor = cursor
        self._busy = busy_timeout

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        await _patiently(lambda: self._cursor.execute(sql, parameters), self._busy)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        rows = list(parameters)  # a generator could not be tried twice
        await _patiently(lambda: self._cursor.executemany(sql, rows), self._busy)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _Now:
    """aiosqlite's call queue, as the dialect's isolation_level setter uses it: run at once."""

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is not None:
                future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection:
    """An aiosqlite.Connection look-alike over a sqlite3 connection used in this thread."""

    _tx = _Now()

    def __init__(self, conn: sqlite3.Connection, busy_timeout: float) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn  # what the dialect checks before commit and rollback
        self._busy = busy_timeout

    def __await__(self) -> Any:
        async def itself() -> InlineConnection:
            return self
        return itself().__await__()

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The connection itself, for statements run below SQLAlchemy (core.storage.fastpath.lean)."""
        return self._conn

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor(), self._busy)

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        await _patiently(self._conn.commit, self._busy)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._conn.close()
            self._connection = None

    def stop(self) -> None:
        if self._connection is not None:
            self._conn.close()
            self._connection = None

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._conn.isolation_level = cast(Any, value)  # the dialect sets the values sqlite3 knows


def creator(path: str, busy_timeout: float, **connect_args: Any) -> Callable[[], Any]:
    """The `async_creator` for create_async_engine: a connection to the file at `path`."""

    async def connect() -> InlineConnection:
        conn = await _patiently(lambda: sqlite3.connect(path, timeout=0, isolation_level=None,
                                                        check_same_thread=False, **connect_args), busy_timeout)
        return InlineConnection(conn, busy_timeout)

    return connect
