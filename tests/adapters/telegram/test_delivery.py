"""The relay with the real Telegram sender against the fake Bot API: limits and flood waits."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path

from telegram.ext import ExtBot

from adapters.telegram.request import AiohttpRequest
from adapters.telegram.sender import TelegramSender
from adapters.telegram.startup import pacing, rate_limiter
from core.delivery.outbox import notify_customer
from core.delivery.relay import Relay
from core.domain.config import Delivery
from core.storage.db import Database
from core.storage.migrate import upgrade
from core.storage.models import Customer
from tests.adapters.telegram.conftest import TOKEN
from tests.conftest import Line
from tests.fakes.telegram_api import FakeTelegramAPI


async def _setup(tmp_path: Path, chats: int, per_chat: int) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}")
    await upgrade(db)
    from core.domain.clock import utcnow

    async with db.write() as s:
        people = [Customer(platform="telegram", platform_user_id=str(i), chat_id=str(5000 + i), locale="cs",
                           reachable=True, created_at=utcnow()) for i in range(chats)]
        s.add_all(people)
        await s.flush()
        for n in range(per_chat):
            for c in people:
                notify_customer(s, c, "escalated", utcnow(), number=n, tier=2)
    return db


async def _drain(relay: Relay, timeout: float) -> None:
    async def loop() -> None:
        while await relay.flush() or await relay.pending():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(loop(), timeout)


# The scale that makes both real limits bind, and no larger (at 30 a second in all, every 30
# notifications cost a second of the suite): more chats than the global limit lets send once a
# second each, so the global limit is what paces them; several notifications per chat, so the
# per-chat gap and the order are checked; some 8 s of sending, so the one-second window slides
# over many seconds. 100 chats x 10 (35 s) proved nothing more.
CHATS, PER_CHAT = 40, 6


async def test_many_notifications_keep_every_limit_and_lose_none(tmp_path: Path) -> None:
    delivery = Delivery()  # the real limits: 1 a second per chat, 30 a second in all
    pace = pacing(delivery)
    assert (pace.chat_interval, pace.global_per_second) == (1.0, 30.0)
    assert CHATS > pace.global_per_second * pace.chat_interval  # the global limit binds
    db = await _setup(tmp_path, chats=CHATS, per_chat=PER_CHAT)
    async with FakeTelegramAPI(token=TOKEN) as api:
        bot = ExtBot(TOKEN, base_url=api.api_base_url, base_file_url=api.file_base_url,
                     rate_limiter=rate_limiter(pacing(delivery)))
        await bot.initialize()
        relay = Relay(db, {"telegram": Line("telegram", TelegramSender(bot), pacing(delivery))}, delivery=delivery)
        started = time.monotonic()
        await _drain(relay, 120)
        elapsed = time.monotonic() - started
        await bot.shutdown()
        sends = [r for r in api.requests_for("sendMessage") if r.ok]
    await db.dispose()
    assert len(sends) == CHATS * PER_CHAT
    per_chat: dict[int, list[float]] = defaultdict(list)
    for r in sends:
        per_chat[int(r.chat_id)].append(r.received_at)
    assert len(per_chat) == CHATS
    for chat, times in per_chat.items():
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert min(gaps) >= 1.0, (chat, min(gaps))
        texts = [r.params["text"] for r in sends if int(r.chat_id) == chat]
        assert texts == sorted(texts, key=lambda t: int(t.split("#")[1].split()[0]))  # in order
    times = sorted(r.received_at for r in sends)
    window = max(sum(1 for t in times[i:i + 40] if t - start < 1.0) for i, start in enumerate(times))
    assert window <= 30, f"{window} messages within one second"
    # The pace itself is the delivery benchmark's to measure (python -m tests.bench): here it only
    # has to be of the limit's order, which a busy machine's lost CPU time cannot push it past.
    assert elapsed < CHATS * PER_CHAT / 30 * 2


async def test_flood_wait_for_one_chat_delays_that_chat_only(tmp_path: Path) -> None:
    db = await _setup(tmp_path, chats=3, per_chat=2)
    delivery = Delivery(telegram_chat_interval_seconds=0.05)
    async with FakeTelegramAPI(token=TOKEN) as api:
        bot = ExtBot(TOKEN, base_url=api.api_base_url, base_file_url=api.file_base_url,
                     rate_limiter=rate_limiter(pacing(delivery)))
        await bot.initialize()
        api.fail_next("sendMessage", status=429, retry_after=3, chat_id=5000)
        relay = Relay(db, {"telegram": Line("telegram", TelegramSender(bot), pacing(delivery))}, delivery=delivery)
        started = time.monotonic()
        await _drain(relay, 30)
        await bot.shutdown()
        ok = [r for r in api.requests_for("sendMessage") if r.ok]
    await db.dispose()
    first = {int(c): min(r.received_at for r in ok if int(r.chat_id) == int(c)) - started for c in (5000, 5001, 5002)}
    last = {int(c): max(r.received_at for r in ok if int(r.chat_id) == int(c)) - started for c in (5000, 5001, 5002)}
    assert len(ok) == 6
    assert first[5000] >= 3.0  # the flooded chat waited the retry_after Telegram gave
    assert last[5001] < 1.0 and last[5002] < 1.0  # the others did not wait at all


async def test_platform_outage_then_recovery_loses_nothing(tmp_path: Path) -> None:
    """500s, timeouts and 429s for a while, then recovery: all delivered, each chat in order."""
    from datetime import UTC, datetime

    from tests.conftest import FakeClock

    db = await _setup(tmp_path, chats=5, per_chat=4)
    clock = FakeClock(datetime.now(UTC))
    delivery = Delivery(telegram_chat_interval_seconds=0)
    async with FakeTelegramAPI(token=TOKEN) as api:
        bot = ExtBot(TOKEN, base_url=api.api_base_url, base_file_url=api.file_base_url,
                     rate_limiter=rate_limiter(pacing(delivery)),
                     request=AiohttpRequest(read_timeout=0.3))  # a hung server times out fast
        await bot.initialize()
        api.fail_next("sendMessage", status=500, count=15)
        api.fail_next("sendMessage", status=429, retry_after=30, count=5, chat_id=5002)
        api.delay_next("sendMessage", 2.0, count=3, processed=False)
        relay = Relay(db, {"telegram": Line("telegram", TelegramSender(bot), pacing(delivery))},
                      delivery=delivery, clock=clock)
        for _ in range(200):  # an outage of many minutes of relay time
            await relay.flush()
            if not await relay.pending():
                break
            clock.advance(seconds=301)
        await bot.shutdown()
        ok = [r for r in api.requests_for("sendMessage") if r.ok]
    await db.dispose()
    assert len(ok) == 20  # nothing lost
    for chat in range(5000, 5005):
        numbers = [int(r.params["text"].split("#")[1].split()[0]) for r in ok if int(r.chat_id) == chat]
        assert numbers == [0, 1, 2, 3]  # and in order, chat by chat
    assert len(api.requests_for("sendMessage")) > 20  # the failures really happened
