"""Each platform event is handled once; one whose worker died is taken over at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.dedupe import InboundLog
from core.storage.db import Database
from tests.conftest import FakeClock


async def test_claim_once_then_skip(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    await log.beat()
    assert await log.claim("telegram", "1001")
    assert not await log.claim("telegram", "1001")  # being handled right now, by me
    await log.done("telegram", "1001")
    await log.flush()
    assert await log.state("telegram", "1001") == "done"
    clock.advance(hours=1)
    assert not await log.claim("telegram", "1001")  # done stays done
    assert await log.claim("slack", "1001")  # another platform's id space


async def test_a_live_workers_claim_is_respected(db: Database, clock: FakeClock) -> None:
    first, second = InboundLog(db, clock), InboundLog(db, clock)
    await first.beat()
    await second.beat()
    assert await first.claim("telegram", "5")
    clock.advance(seconds=10)
    await first.beat()
    assert not await second.claim("telegram", "5")  # a redelivery while the first still works on it


async def test_a_dead_workers_claim_is_taken_over(db: Database, clock: FakeClock) -> None:
    dead = InboundLog(db, clock)
    await dead.beat()
    assert await dead.claim("telegram", "7")  # ...and then the process was killed
    restarted = [InboundLog(db, clock) for _ in range(5)]
    clock.advance(seconds=16)
    for log in restarted:
        await log.beat()
    results = await asyncio.gather(*(log.claim("telegram", "7") for log in restarted))
    assert results.count(True) == 1  # exactly one new worker takes it


async def test_concurrent_claims_one_winner(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    await log.beat()
    results = await asyncio.gather(*(log.claim("slack", "Ev1") for _ in range(10)))
    assert results.count(True) == 1


async def test_forget(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    await log.beat()
    await log.claim("telegram", "1")
    clock.advance(days=2)
    assert await log.forget_before(clock.now - timedelta(days=1)) == 1
    assert await log.state("telegram", "1") is None


async def test_take_waits_out_a_dead_workers_claim(db: Database) -> None:
    from datetime import UTC, datetime

    dead = InboundLog(db, dead_after=timedelta(seconds=2))
    await dead.beat()
    assert await dead.claim("telegram", "9")  # then killed: no more heartbeats
    fresh = InboundLog(db, dead_after=timedelta(seconds=2))
    await fresh.beat()
    started = datetime.now(UTC)
    assert await fresh.take("telegram", "9")  # waited until the heartbeat was old enough
    assert (datetime.now(UTC) - started).total_seconds() >= 1.0
    await fresh.done("telegram", "9")
    await fresh.flush()
    assert not await fresh.take("telegram", "9")  # done: not again
