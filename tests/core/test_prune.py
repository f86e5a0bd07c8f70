"""Retention: sent notifications and done events older than the retention go, in small
batches; nothing unfinished goes, whatever its age."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from core.storage.db import Database
from core.storage.models import InboundEvent, OutboxMessage, Worker
from core.storage.prune import Pruned, forget_workers, prune
from tests.conftest import FakeClock


async def _rows(db: Database, clock: FakeClock) -> None:
    old, new = clock.now - timedelta(days=40), clock.now - timedelta(days=1)
    async with db.write() as session:
        n = 0
        for status, at, count in (("sent", old, 5), ("sent", new, 2), ("pending", old, 1), ("sending", old, 1),
                                  ("dead", old, 1)):
            for _ in range(count):
                n += 1
                session.add(OutboxMessage(
                    idempotency_key=f"k{n}", platform="telegram", chat_id=str(n), event="e", params={},
                    status=status, attempts=1, next_attempt_at=at, created_at=at,
                    sent_at=at if status == "sent" else None))
        for i, (state, at) in enumerate([("done", old)] * 5 + [("done", new), ("replying", old)]):
            session.add(InboundEvent(platform="telegram" if i % 2 else "slack", event_id=str(i), state=state,
                                     at=at, owner="w"))


async def test_prune_finished_rows_in_batches(db: Database, clock: FakeClock) -> None:
    await _rows(db, clock)
    deletes: list[str] = []

    def count(_conn, _cursor, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            deletes.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        pruned = await prune(db, clock.now - timedelta(days=30), batch=2)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert pruned == Pruned(outbox=5, events=5)
    assert len(deletes) == 6  # 2 + 2 + 1 rows of each table: three batches each
    async with db.read() as session:
        outbox = sorted((await session.execute(select(OutboxMessage.status))).scalars())
        events = sorted((await session.execute(select(InboundEvent.state, InboundEvent.event_id))).all())
    assert outbox == ["dead", "pending", "sending", "sent", "sent"]
    assert events == [("done", "5"), ("replying", "6")]
    assert await prune(db, clock.now - timedelta(days=30), batch=2) == Pruned()  # nothing more


async def test_forget_workers(db: Database, clock: FakeClock) -> None:
    async with db.write() as session:
        session.add(Worker(id="gone", heartbeat_at=clock.now - timedelta(days=2)))
        session.add(Worker(id="alive", heartbeat_at=clock.now))
    assert await forget_workers(db, clock.now - timedelta(days=1)) == 1
    async with db.read() as session:
        assert list((await session.execute(select(Worker.id))).scalars()) == ["alive"]
