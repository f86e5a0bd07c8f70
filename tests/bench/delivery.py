"""Notification delivery: 10,000 notifications to 1,000 chats through the relay and the real
Telegram sender against the fake Bot API, at the configured (real) limits."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from telegram.ext import ExtBot

from adapters.telegram.sender import TelegramSender
from adapters.telegram.startup import pacing, rate_limiter
from core.delivery.outbox import notify_customer
from core.delivery.relay import Relay
from core.domain.clock import utcnow
from core.domain.config import Delivery
from core.storage.db import Database
from core.storage.migrate import upgrade
from core.storage.models import Customer
from tests.bench.driver import TOKEN
from tests.conftest import Line
from tests.fakes.telegram_api import FakeTelegramAPI


async def run(workdir: Path, *, quick: bool = False) -> dict[str, Any]:
    chats, per_chat = (200, 10) if quick else (1000, 10)
    workdir.mkdir(parents=True, exist_ok=True)
    delivery = Delivery()
    db = Database(f"sqlite+aiosqlite:///{workdir / 'delivery.db'}")
    await upgrade(db)
    async with db.write() as s:
        people = [Customer(platform="telegram", platform_user_id=str(i), chat_id=str(700_000 + i), locale="ru",
                           reachable=True, created_at=utcnow()) for i in range(chats)]
        s.add_all(people)
        await s.flush()
        for n in range(per_chat):
            for c in people:
                notify_customer(s, c, "escalated", utcnow(), number=n, tier=2)
    total = chats * per_chat
    async with FakeTelegramAPI(token=TOKEN) as api:
        bot = ExtBot(TOKEN, base_url=api.api_base_url, base_file_url=api.file_base_url,
                     rate_limiter=rate_limiter(pacing(delivery)))
        await bot.initialize()
        relay = Relay(db, {"telegram": Line("telegram", TelegramSender(bot), pacing(delivery))}, delivery=delivery)
        started = time.monotonic()
        while await relay.flush() or await relay.pending():
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - started
        await bot.shutdown()
        sends = [r for r in api.requests_for("sendMessage") if r.ok]
    await db.dispose()
    times = sorted(r.received_at for r in sends)
    per_chat_times: dict[int, list[float]] = defaultdict(list)
    for r in sends:
        per_chat_times[int(r.chat_id)].append(r.received_at)  # type: ignore[arg-type]
    chat_violations = sum(1 for ts in per_chat_times.values() for a, b in zip(ts, ts[1:])
                          if b - a < pacing(delivery).chat_interval)
    limit = pacing(delivery).global_per_second or 30.0
    peak, j = 0, 0
    for i, t in enumerate(times):
        while t - times[j] >= 1.0:
            j += 1
        peak = max(peak, i - j + 1)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    out = {"notifications": total, "chats": chats, "delivered": len(sends), "lost": total - len(sends),
           "seconds": round(elapsed, 2), "sustained_per_s": round(rate, 2), "configured_limit_per_s": limit,
           "share_of_limit": round(rate / limit, 4), "peak_in_any_second": peak,
           "global_violations": max(0, peak - int(limit)), "per_chat_violations": chat_violations}
    print(f"  {len(sends)}/{total} delivered in {elapsed:.1f} s: {rate:.2f}/s sustained "
          f"({rate / limit:.1%} of {limit:g}/s), peak {peak} in one second, "
          f"{chat_violations} per-chat and {out['global_violations']} global violations, {out['lost']} lost")
    return out
