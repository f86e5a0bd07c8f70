"""The Telegram desk under a burst of new tickets: `python -m tests.bench --only desk [--quick]`.

A hundred customers open a ticket each within one minute through their private chats, while the
desk is a group with topics that takes 20 writes a minute (the fake Bot API answers 429 beyond
that). Printed: the tickets, the desk's writes into the group, the most in any minute, the 429s
met, what was lost (a ticket without exactly one topic, or whose topic lacks its card), how long
until every card was up, and how long the customers waited for each prompt of the form meanwhile.
`--quick` makes the minute six seconds (the bot's group interval scaled with it).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import Running, TgUser, start_bot
from tests.fakes.telegram_api import FakeTelegramAPI

DESK = -1001000000001
AGENT = 9000
TOKEN = "123456:TEST-token-never-real"


async def _customer(running: Running, user_id: int, waits: list[float]) -> None:
    u = TgUser(running, user_id, "cs" if user_id % 2 else "fa")
    steps: list[tuple[str, str]] = [("say", "/start"), ("press", f"lang:{u.language_code}"),
                                    ("press", "dep:technical"), ("press", "rt:bug"), ("say", f"Subject {user_id}"),
                                    ("press", "pri:high"), ("say", f"Description {user_id}"), ("press", "att:done"),
                                    ("press", "rev:submit")]
    for kind, value in steps:
        started = time.monotonic()
        if kind == "press":
            # The chat's own limit (a message a second) may hold a prompt back: it comes by the outbox.
            try:
                await running.api.wait_for(lambda value=value: value in u.buttons(), timeout=30)
            except TimeoutError:
                raise TimeoutError(f"{value} not offered: {u.buttons()}") from None
            waits.append(time.monotonic() - started)  # how long the customer waited for the prompt
            await u.press(value)
        else:
            await u.say(value)


def _lost(api: FakeTelegramAPI, numbers: list[int]) -> int:
    """Tickets without exactly one live topic, or whose topic has no card."""
    lost = 0
    topics = [t for t in api.topics(DESK) if not t.deleted]
    for number in numbers:
        mine = [t for t in topics if f"#{number} " in t.name]
        if len(mine) != 1 or not any(f"#{number}" in (m.get("text") or "")
                                     for m in api.topic_messages(DESK, mine[0].thread_id)):
            lost += 1
    return lost


async def run(tmp: Path, *, quick: bool = False) -> dict[str, Any]:
    tmp.mkdir(parents=True, exist_ok=True)
    tickets, spread = (30, 20.0) if quick else (100, 60.0)  # customers, and the time they arrive over
    baseline = await _burst(tmp / "no-desk", tickets, spread, minute=6.0 if quick else 60.0, desk=False)
    figures = await _burst(tmp / "desk", tickets, spread, minute=6.0 if quick else 60.0, desk=True)
    figures["customer_wait_without_desk_p99_ms"] = baseline["customer_wait_p99_ms"]
    print(f"desk burst: {figures['tickets']} tickets opened in {figures['opened_in_s']} s, "
          f"{figures['desk_writes']} desk writes, at most {figures['most_in_any_minute']} in any minute "
          f"(limit 20), 429s {figures['group_429']}, lost {figures['lost']}, every card up after "
          f"{figures['cards_up_after_s']} s; customers' wait for a prompt p50 {figures['customer_wait_p50_ms']} ms, "
          f"p99 {figures['customer_wait_p99_ms']} ms (without a desk: p99 {baseline['customer_wait_p99_ms']} ms)"
          + (" (the group's minute scaled to 6 s)" if quick else ""), flush=True)
    return figures


async def _burst(tmp: Path, tickets: int, spread: float, *, minute: float, desk: bool) -> dict[str, Any]:
    (tmp / "paced").mkdir(parents=True, exist_ok=True)
    interval = minute / 20
    # Telegram's own pace, the group's scaled with the minute; in a folder of its own, since
    # start_bot writes its fast configuration into the one it is given.
    config = fast_config(tmp / "paced", chat=1.0, group=interval, global_rate=30)
    async with FakeTelegramAPI(token=TOKEN, enforce_limits=True) as api:
        api.group_limit = (20, minute)
        api.add_user(AGENT, first_name="Eva", language_code="cs")
        api.add_forum(DESK, members={AGENT: "administrator"})
        extra = {"TELEGRAM_DESK_CHAT": str(DESK)} if desk else {}
        async for running in start_bot(tmp, api, HELPDESK_CONFIG=str(config), **extra):
            waits: list[float] = []
            started = time.monotonic()
            ids = [10_000 + i for i in range(tickets)]
            # The customers arrive spread over the minute, each going through the whole form.
            await asyncio.gather(*(_later(i * spread / tickets, _customer(running, uid, waits))
                                   for i, uid in enumerate(ids)))
            opened = time.monotonic() - started
            numbers = [t.number for t in await running.desk.services.queries.queue(limit=tickets * 2)]
            deadline = time.monotonic() + minute * (3 * tickets / 20 + 2)
            while desk and _lost(api, numbers) and time.monotonic() < deadline:
                await asyncio.sleep(minute / 60)
            cards_up = time.monotonic() - started
            writes = api.group_writes(DESK)
            refused = [r for r in api.requests if r.status == 429 and str(r.chat_id) == str(DESK)]
            figures = {
                "tickets": len(numbers), "desk_writes": len(writes),
                "most_in_any_minute": api.most_in_window(DESK, minute), "limit_per_minute": 20,
                "group_429": len(refused), "lost": _lost(api, numbers) if desk else None,
                "opened_in_s": round(opened, 1), "cards_up_after_s": round(cards_up, 1),
                "customer_wait_p50_ms": round(statistics.median(waits) * 1000, 1),
                "customer_wait_p99_ms": round(sorted(waits)[int(len(waits) * 0.99) - 1] * 1000, 1),
                "minute_s": minute,
            }
            return figures
    raise AssertionError("the bot did not start")  # pragma: no cover


async def _later(delay: float, work: Any) -> None:
    await asyncio.sleep(delay)
    await work
