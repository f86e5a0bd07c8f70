"""The few statements every platform event runs, sent straight to the driver connection of the
event's unit of work, inside its transaction.

Why: profiled on the updates benchmark, SQLAlchemy's path for one statement (a greenlet
hand-over, an execution context, a result object, and for an ORM select the loading of
instances) cost many times SQLite's own work (docs/benchmarks.md). The event's claim
(on SQLite), reading the customer with their draft, writing the draft and keeping the replies
run for nearly every update, so they go below it; everything else stays on SQLAlchemy.

SQLite statements here need no busy wait (inline_sqlite's `_patiently`): they run inside the
unit's BEGIN IMMEDIATE transaction, which already holds the database's write lock.

A Lean is attached to a unit only once the unit's transaction has begun on the driver (after
its first statement: asyncpg's adapter sends BEGIN lazily), and only for the drivers it knows:
the in-thread SQLite connection (inline_sqlite) and asyncpg. Elsewhere the callers use their
SQLAlchemy statement, which must say the same thing.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from core.storage.fastpath.inline_sqlite import InlineConnection

_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime on SQLite


LEAN_KEY = "lean"  # session.info key: the unit's fast path, attached by the event's claim

class Lean:
    """SQL with `?` placeholders, run on one driver connection; values converted as the models'
    column types would convert them (UTC datetimes, JSON)."""

    __slots__ = ("_sqlite", "_pg")

    def __init__(self, sqlite: sqlite3.Connection | None = None, pg: Any = None) -> None:
        self._sqlite = sqlite
        self._pg = pg

    @classmethod
    def of(cls, connection: AsyncConnection) -> Lean | None:
        """For a connection whose transaction has begun on the driver; None before that (asyncpg
        begins with the unit's first statement, SQLite's writers when the connection is taken)
        and for a driver not known here."""
        sync = connection.sync_connection
        driver = sync.connection.driver_connection if sync is not None else None
        if isinstance(driver, InlineConnection):
            return cls(sqlite=driver.sqlite) if driver.sqlite.in_transaction else None
        if driver is not None and type(driver).__module__.startswith("asyncpg"):
            return cls(pg=driver) if driver.is_in_transaction() else None
        return None

    # -- values -------------------------------------------------------------------------

    def time(self, value: datetime) -> Any:
        """A bound aware datetime, as UTCDateTime binds it."""
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None).strftime(_SQLITE_TIME) if self._sqlite is not None else value

    @staticmethod
    def json(value: Any) -> str:
        return json.dumps(value)

    def read_time(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value.astimezone(UTC)  # type: ignore[no-any-return]

    def read_json(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) and self._sqlite is not None else value

    # -- statements ---------------------------------------------------------------------

    async def execute(self, sql: str, params: tuple[Any, ...]) -> int:
        """Run a write; the number of rows it touched."""
        if self._sqlite is not None:
            return self._sqlite.execute(sql, params).rowcount
        status = await self._pg.execute(_numbered(sql), *params)
        return int(status.rpartition(" ")[2] or 0)

    async def one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The first row of a query, or None."""
        if self._sqlite is not None:
            row = self._sqlite.execute(sql, params).fetchone()
            return tuple(row) if row is not None else None
        record = await self._pg.fetchrow(_numbered(sql), *params)
        return tuple(record) if record is not None else None


_numbered_cache: dict[str, str] = {}


def _numbered(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, …`."""
    done = _numbered_cache.get(sql)
    if done is None:
        counter = iter(range(1, sql.count("?") + 1))
        done = _numbered_cache[sql] = re.sub(r"\?", lambda _: f"${next(counter)}", sql)
    return done
