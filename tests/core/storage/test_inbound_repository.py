"""The inbound events' statements give the same rows on both paths: below SQLAlchemy on the
unit's lean connection (the in-loop SQLite, asyncpg) and through SQLAlchemy, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from core.storage.db import Database
from core.storage.fastpath.lean import LEAN_KEY, Lean
from core.storage.models import InboundEvent
from core.storage.repositories import inbound as events

AT = datetime(2026, 11, 16, 8, 0, 1, 250000, tzinfo=UTC)
REPLIES = [{"text": "Tiket #1001 — заявка · تیکت", "buttons": [[["t:1001", "Zobrazit"]]]}, {"text": "", "files": []}]


async def _claim_and_keep(db: Database, event_id: str) -> tuple[bool, bool, bool]:
    async with db.unit() as session:
        first = await events.claim(session, "telegram", event_id, "replying", AT, "worker-a")
        attached = session.info.get(LEAN_KEY) is not None
        await events.keep(session, "telegram", event_id, REPLIES)
    async with db.unit() as session:
        again = await events.claim(session, "telegram", event_id, "replying", AT, "worker-b")
    return first, again, attached


async def _row(db: Database, event_id: str) -> tuple[Any, ...]:
    async with db.read() as session:
        row = (await session.execute(select(InboundEvent.state, InboundEvent.at, InboundEvent.owner,
                                            InboundEvent.replies).where(InboundEvent.event_id == event_id))).one()
    return tuple(row)


async def test_claim_and_keep_are_the_same_on_both_paths(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    lean = await _claim_and_keep(db, "lean-1")
    with monkeypatch.context() as m:
        m.setattr(Lean, "of", classmethod(lambda cls, connection: None))
        orm = await _claim_and_keep(db, "orm-1")
    assert lean[:2] == orm[:2] == (True, False)  # claimed once; the second claim finds it taken
    assert orm[2] is False
    assert await _row(db, "lean-1") == await _row(db, "orm-1") == ("replying", AT, "worker-a", REPLIES)

    async with db.write() as session:
        await events.mark_done(session, "telegram", ["lean-1", "orm-1"])
    async with db.read() as session:
        assert [await events.state(session, "telegram", e) for e in ("lean-1", "orm-1", "none")] == \
            ["done", "done", None]
        assert await events.holder(session, "telegram", "lean-1") == ("done", "worker-a", None)


async def test_the_fast_path_is_taken_where_the_driver_allows(db: Database) -> None:
    """The claim attaches the fast path for the event's other statements (the drafts')."""
    _, _, attached = await _claim_and_keep(db, "lean-2")
    async with db.unit() as session:
        connection = await session.connection()
        await connection.execute(select(1))  # asyncpg's adapter begins with the first statement
        expected = Lean.of(connection) is not None
    assert attached == expected
