"""SQLite in the loop's thread: another process's write lock is waited out without blocking the
loop, a lock held too long fails cleanly, and errors reach the caller as SQLAlchemy's."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from core.storage import db as db_module
from core.storage.db import Database
from core.storage.migrate import upgrade
from core.storage.models import Customer
from tests.conftest import FakeClock


async def _database(path: Path) -> Database:
    database = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(database)
    return database


def _customer(name: str) -> Customer:
    return Customer(platform="telegram", platform_user_id=name, chat_id=name, display_name="",
                    reachable=True, created_at=FakeClock().now)


async def test_a_file_database_runs_inline_and_memory_does_not(tmp_path: Path) -> None:
    database = await _database(tmp_path / "a.db")
    assert database.inline
    assert not Database("sqlite+aiosqlite:///:memory:").inline
    await database.dispose()


async def test_another_writer_is_waited_out_while_the_loop_goes_on(tmp_path: Path) -> None:
    database = await _database(tmp_path / "b.db")
    other = sqlite3.connect(tmp_path / "b.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process, holding the write lock
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with database.write() as session:
            session.add(_customer("waited"))

    ticker = asyncio.create_task(ticking())
    writer = asyncio.create_task(write())
    await asyncio.sleep(0.5)
    assert not writer.done()
    assert ticks >= 20  # the loop was not blocked while the write waited
    other.execute("COMMIT")
    await asyncio.wait_for(writer, 5)
    ticker.cancel()
    async with database.read() as session:
        assert (await session.execute(select(func.count()).select_from(Customer))).scalar_one() == 1
    other.close()
    await database.dispose()


async def test_a_lock_held_too_long_fails_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 300)
    database = await _database(tmp_path / "c.db")
    other = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="locked"):
        async with database.write() as session:
            session.add(_customer("never"))
    other.execute("ROLLBACK")
    async with database.write() as session:  # the pool's connection is usable afterwards
        session.add(_customer("later"))
    async with database.read() as session:
        names = (await session.execute(select(Customer.platform_user_id))).scalars().all()
    assert names == ["later"]
    other.close()
    await database.dispose()


async def test_constraint_errors_roll_back_the_transaction(tmp_path: Path) -> None:
    database = await _database(tmp_path / "d.db")
    async with database.write() as session:
        session.add(_customer("same"))
    with pytest.raises(IntegrityError):
        async with database.write() as session:
            session.add(_customer("first of two"))
            await session.flush()
            session.add(_customer("same"))
    async with database.read() as session:
        names = (await session.execute(select(Customer.platform_user_id))).scalars().all()
    assert names == ["same"]
    await database.dispose()


async def test_a_writer_cancelled_while_the_lock_is_handed_on_ends_cancelled() -> None:
    """A waiter cancelled just before the holder lets go is skipped by the hand-over; the
    cancelled task then ends as cancelled, not with an error of the lock's own queue."""
    from core.storage.db import WriteLock

    lock = WriteLock()
    held = lock.held()
    await held.__aenter__()
    waiting = asyncio.create_task(lock._acquire(False))
    await asyncio.sleep(0)
    waiting.cancel()  # its future is cancelled now; the task sees it on its next step
    await held.__aexit__(None, None, None)  # the hand-over skips the cancelled waiter
    with pytest.raises(asyncio.CancelledError):
        await waiting
    async with lock.held():  # free, and usable
        pass
