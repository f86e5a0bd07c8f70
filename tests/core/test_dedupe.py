"""Each platform event is handled once, and one whose handler died is taken again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.dedupe import InboundLog
from core.storage.db import Database
from tests.conftest import FakeClock


async def test_claim_once_then_skip(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    assert await log.claim("telegram", "1001")
    assert not await log.claim("telegram", "1001")  # being handled right now
    await log.done("telegram", "1001")
    await log.flush()
    assert await log.state("telegram", "1001") == "done"
    clock.advance(hours=1)
    assert not await log.claim("telegram", "1001")  # done stays done
    assert await log.claim("slack", "1001")  # another platform's id space


async def test_abandoned_claim_is_taken_again(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock, stale_after=timedelta(minutes=2))
    assert await log.claim("telegram", "7")
    clock.advance(minutes=3)  # the handler died without marking it done
    results = await asyncio.gather(*(log.claim("telegram", "7") for _ in range(5)))
    assert results.count(True) == 1


async def test_concurrent_claims_one_winner(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    results = await asyncio.gather(*(log.claim("slack", "Ev1") for _ in range(10)))
    assert results.count(True) == 1


async def test_forget(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    await log.claim("telegram", "1")
    clock.advance(days=2)
    assert await log.forget_before(clock.now - timedelta(days=1)) == 1
    assert await log.state("telegram", "1") is None
