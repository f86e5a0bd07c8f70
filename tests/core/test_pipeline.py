"""The exactly-once inbound sequence every channel uses (core.delivery.pipeline)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import select

from core.chat import Reply
from core.delivery.inbound import InboundLog
from core.delivery.pipeline import Pipeline
from core.storage.db import Database
from core.storage.models import OutboxMessage
from tests.conftest import FakeClock


class Away(Exception):
    """The channel's network failing (what it names as passing)."""


def _work(calls: list[str], *texts: str):
    async def work() -> list[Reply]:
        calls.append("handled")
        return [Reply(text) for text in texts]
    return work


class Chat:
    """A send that records, and holds back or fails a reply on demand."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.flood_at: str | None = None
        self.away_at: str | None = None
        self.refused_at: str | None = None

    async def send(self, chat_id: Any, reply: Reply) -> Reply | None:
        if reply.text == self.flood_at:
            return reply
        if reply.text == self.away_at:
            raise Away
        if reply.text == self.refused_at:
            raise ValueError("refused for good")
        self.sent.append(reply.text)
        return None


async def test_handled_sent_and_done_once(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    pipeline, chat, calls = Pipeline(log, "chan"), Chat(), []
    assert await pipeline.take("1", "c1", _work(calls, "a", "b"), chat.send, started=time.monotonic())
    await log.flush()
    assert await log.state("chan", "1") == "done"
    assert not await pipeline.take("1", "c1", _work(calls, "a", "b"), chat.send, started=time.monotonic())
    assert calls == ["handled"] and chat.sent == ["a", "b"]


async def test_a_flood_hands_the_rest_to_the_outbox(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    pipeline, chat, calls = Pipeline(log, "chan"), Chat(), []
    chat.flood_at = "b"
    assert await pipeline.take("1", 42, _work(calls, "a", "b", "c"), chat.send, started=time.monotonic())
    assert chat.sent == ["a"]
    assert await log.state("chan", "1") == "done"  # with the hand-over
    async with db.read() as session:
        rows = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
    queued = [(r.platform, r.chat_id, r.params["reply"]["text"]) for r in rows]
    assert queued == [("chan", "42", "b"), ("chan", "42", "c")]


async def test_a_passing_failure_releases_to_the_redelivery(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    await log.beat()
    pipeline, chat, calls = Pipeline(log, "chan", release_on=Away), Chat(), []
    chat.away_at = "b"
    with pytest.raises(Away):
        await pipeline.take("1", "c1", _work(calls, "a", "b", "c"), chat.send, started=time.monotonic())
    assert await log.state("chan", "1") == "replying"  # claimed, its replies kept
    chat.away_at = None
    assert await pipeline.take("1", "c1", _work(calls, "a", "b", "c"), chat.send, started=time.monotonic())
    assert calls == ["handled"]  # not handled again: the kept replies not yet sent are
    assert chat.sent == ["a", "b", "c"]


async def test_any_other_failure_is_done_with(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    pipeline, chat, calls = Pipeline(log, "chan", release_on=Away), Chat(), []
    chat.refused_at = "a"
    with pytest.raises(ValueError):
        await pipeline.take("1", "c1", _work(calls, "a", "b"), chat.send, started=time.monotonic())
    await log.flush()
    assert await log.state("chan", "1") == "done"


async def test_once_answers_nothing_and_chores_finish_first(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    pipeline, calls = Pipeline(log, "chan"), []
    assert await pipeline.once("1", _work(calls), started=time.monotonic())
    assert not await pipeline.once("1", _work(calls), started=time.monotonic())
    assert calls == ["handled"]
    done: list[str] = []

    async def chore() -> None:
        await asyncio.sleep(0.01)
        done.append("chore")

    chores = [asyncio.ensure_future(chore())]
    assert await pipeline.take("2", "c", _work(calls, "x"), Chat().send, started=time.monotonic(), chores=chores)
    assert done == ["chore"]


async def test_one_users_events_keep_their_order(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    pipeline, order = Pipeline(log, "chan"), []

    async def event(n: int, delay: float) -> None:
        async with pipeline.in_order("user"):
            await asyncio.sleep(delay)  # the first arrives first and takes longest
            order.append(n)

    await asyncio.gather(event(1, 0.05), event(2, 0.0), event(3, 0.01))
    assert order == [1, 2, 3]
    assert pipeline.in_order("user") is pipeline.in_order("user")
    assert pipeline.in_order("user") is not pipeline.in_order("other")
