"""The drafts' statements give the same rows on both paths: below SQLAlchemy on an event unit's
lean connection (the in-loop SQLite, asyncpg) and through SQLAlchemy, on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text

from core.storage.db import Database
from core.storage.fastpath.lean import Lean
from core.storage.models import Customer, Draft
from core.storage.repositories import drafts
from tests.conftest import FakeClock

DATA = {"department": "technical", "subject": "Nelze se přihlásit — ошибка 500 · ورود", "files": [1, 2],
        "nested": {"a": None, "b": True}, "resume": {"state": "subject", "data": {"x": "y"}}}
CUSTOMER_COLUMNS = ("platform", "platform_user_id", "chat_id", "display_name", "locale", "reachable", "created_at")


@asynccontextmanager
async def lean_unit(db: Database) -> AsyncIterator[None]:
    """A unit with its lean connection attached, as the inbound pipeline attaches it to an event's."""
    async with db.unit() as session:
        connection = await session.connection()
        await connection.execute(text("SELECT 1"))  # asyncpg's adapter begins with the first statement
        session.info["lean"] = Lean.of(connection)
        assert db.lean() is not None
        yield


async def _customers(db: Database, clock: FakeClock) -> tuple[int, int]:
    async with db.write() as session:
        made = [Customer(platform="telegram", platform_user_id=user, chat_id=f"c-{user}", display_name="Jana",
                         locale=None if user == "orm" else "cs", reachable=True, created_at=clock())
                for user in ("lean", "orm")]
        session.add_all(made)
        await session.flush()
        return made[0].id, made[1].id


async def _row(db: Database, customer_id: int) -> tuple[Any, ...]:
    async with db.read() as session:
        row = (await session.execute(select(Draft.state, Draft.data, Draft.version, Draft.updated_at)
                                     .where(Draft.customer_id == customer_id))).one()
    return tuple(row)


def _customer_values(customer: Customer | None) -> tuple[Any, ...]:
    assert customer is not None
    return tuple(getattr(customer, c) for c in CUSTOMER_COLUMNS)


async def test_reads_and_writes_are_the_same_on_both_paths(db: Database, clock: FakeClock) -> None:
    lean_id, orm_id = await _customers(db, clock)

    # A customer without a draft, and nobody.
    async with lean_unit(db):
        lean_empty = [await drafts.load(db, "telegram", user) for user in ("lean", "orm", "nobody")]
    orm_empty = [await drafts.load(db, "telegram", user) for user in ("lean", "orm", "nobody")]
    assert lean_empty[2] == orm_empty[2] == (None, None)
    for (lean_customer, lean_draft), (orm_customer, orm_draft) in zip(lean_empty[:2], orm_empty[:2], strict=True):
        assert lean_draft is None and orm_draft is None
        assert _customer_values(lean_customer) == _customer_values(orm_customer)
    assert [c.id for c, _ in lean_empty[:2]] == [c.id for c, _ in orm_empty[:2]] == [lean_id, orm_id]  # type: ignore[union-attr]
    assert lean_empty[1][0].locale is None and lean_empty[0][0].locale == "cs"  # type: ignore[union-attr]

    # Created, then replaced: the same rows.
    for state, data, at in (("subject", {"old": 1}, datetime(2026, 11, 16, 8, 0, 0, 0, tzinfo=UTC)),
                            ("priority", DATA, datetime(2026, 11, 16, 8, 0, 1, 500000, tzinfo=UTC))):
        async with lean_unit(db):
            await drafts.put(db, lean_id, state, data, at)
        assert db.lean() is None
        await drafts.put(db, orm_id, state, data, at)
        assert await _row(db, lean_id) == await _row(db, orm_id) == (state, data, 2 if state == "priority" else 1,
                                                                     at)

    # Read back on each path: the same customer and the same draft, whoever wrote it.
    async with lean_unit(db):
        lean_reads = [await drafts.load(db, "telegram", user) for user in ("lean", "orm")]
    orm_reads = [await drafts.load(db, "telegram", user) for user in ("lean", "orm")]
    for (lean_customer, lean_draft), (orm_customer, orm_draft) in zip(lean_reads, orm_reads, strict=True):
        assert _customer_values(lean_customer) == _customer_values(orm_customer)
        assert lean_customer.id == orm_customer.id  # type: ignore[union-attr]
        assert lean_draft == orm_draft == drafts.DraftState("priority", DATA, datetime(2026, 11, 16, 8, 0, 1, 500000,
                                                                                     tzinfo=UTC))
    assert lean_reads[0][0].created_at.tzinfo is not None  # type: ignore[union-attr]
    assert await drafts.get(db, lean_id) == lean_reads[0][1]

    # Cleared and listed as stale alike (these have one path only, through SQLAlchemy).
    assert sorted(await drafts.stale(db, datetime(2026, 11, 16, 9, tzinfo=UTC))) == sorted([lean_id, orm_id])
    await drafts.clear(db, lean_id)
    assert await drafts.get(db, lean_id) is None and await drafts.get(db, orm_id) is not None
