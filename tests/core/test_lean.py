"""The statements run below SQLAlchemy inside an event's unit read and write exactly what the
ORM path reads and writes, on both backends, and commit or roll back with the unit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.chat import Reply
from core.chat.drafts import DraftStore
from core.delivery.inbound import InboundLog
from core.storage.db import Database
from core.storage.fastpath.lean import Lean, _numbered
from core.storage.models import Customer, Draft, InboundEvent
from tests.conftest import FakeClock

DATA = {"department": "technical", "subject": "Nelze se přihlásit — ошибка 500 · ورود", "files": [1, 2],
        "nested": {"a": None, "b": True}}


async def _customer(db: Database, clock: FakeClock, user: str = "u1") -> int:
    async with db.write() as session:
        customer = Customer(platform="telegram", platform_user_id=user, chat_id=f"c-{user}", display_name="Jana",
                            locale="cs", reachable=True, created_at=clock())
        session.add(customer)
        await session.flush()
        return customer.id


async def test_the_event_unit_goes_below_sqlalchemy_on_both_backends(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    drafts = DraftStore(db, clock)
    customer_id = await _customer(db, clock)
    clock.now = datetime(2026, 11, 16, 8, 0, 0, 0, tzinfo=UTC)  # microseconds 0: stored with all six digits
    await drafts.put(customer_id, "subject", {"old": 1})  # the ORM path: no unit
    orm_customer, orm_draft = await drafts.load("telegram", "u1")
    seen: dict[str, object] = {}

    async def work() -> list[Reply]:
        assert db.lean() is not None  # attached by the claim
        seen["customer"], seen["draft"] = await drafts.load("telegram", "u1")
        clock.advance(seconds=1.5)
        await drafts.put(customer_id, "priority", DATA)
        return [Reply("ok", locale="cs")]

    assert await log.once("telegram", "1", work) is not None
    lean_customer, lean_draft = seen["customer"], seen["draft"]
    assert isinstance(lean_customer, Customer) and orm_customer is not None
    for column in ("id", "platform", "platform_user_id", "chat_id", "display_name", "locale", "reachable",
                   "created_at"):
        assert getattr(lean_customer, column) == getattr(orm_customer, column), column
    assert lean_customer.reachable is True and lean_customer.created_at.tzinfo is not None
    assert lean_draft == orm_draft
    # What the lean path wrote, read back through the ORM: same types, same values.
    async with db.read() as session:
        row = await session.get_one(Draft, customer_id)
        assert (row.state, row.data, row.version) == ("priority", DATA, 2)
        assert row.updated_at == datetime(2026, 11, 16, 8, 0, 1, 500000, tzinfo=UTC)
        kept = (await session.execute(select(InboundEvent.replies))).scalar_one()
    assert kept == [Reply("ok", locale="cs").to_json()]
    assert db.lean() is None  # outside a unit


async def test_a_failed_unit_takes_the_lean_writes_with_it(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    drafts = DraftStore(db, clock)
    customer_id = await _customer(db, clock)

    async def work() -> list[Reply]:
        await drafts.put(customer_id, "subject", DATA)
        raise RuntimeError("handling failed after the draft was written")

    with pytest.raises(RuntimeError):
        await log.once("telegram", "1", work)
    assert await drafts.get(customer_id) is None
    assert await log.state("telegram", "1") is None


async def test_a_customer_without_a_draft(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    drafts = DraftStore(db, clock)
    await _customer(db, clock, "u2")
    seen: list[object] = []

    async def work() -> list[Reply]:
        seen.extend(await drafts.load("telegram", "u2"))
        seen.extend(await drafts.load("telegram", "nobody"))
        return []

    await log.once("telegram", "1", work)
    assert isinstance(seen[0], Customer) and seen[1:] == [None, None, None]


def test_placeholders_numbered_for_asyncpg() -> None:
    assert _numbered("UPDATE t SET a = ? WHERE b = ? AND c = ?") == "UPDATE t SET a = $1 WHERE b = $2 AND c = $3"
    assert Lean(pg=object()).time(datetime(2026, 1, 1, tzinfo=UTC)).tzinfo is not None
