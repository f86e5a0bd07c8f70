"""No request blocks the event loop: `/helpdesk stats` over 5,000 tickets, or a customer's
10 MB file, leaves every step of the loop under 50 ms, the long work being done in a thread.

A step is timed in the loop thread's own CPU time, not on the wall clock: on a busy machine a
step waits for the processor (or for the GIL, held by the thread doing the work) without
blocking anything, and only the work a step does itself is what this test is about.
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

import core.services.reports
from core.agents import AgentDesk, AgentIdentity, as_text, parse
from core.delivery.attachments import MAX_BYTES, AttachmentStore, IncomingFile
from core.domain.config import HelpdeskConfig
from core.services import Services
from core.storage.models import Customer, Ticket
from tests.conftest import FakeClock

LIMIT = 0.05
TICKETS = 5000


@dataclass
class Steps:
    """The longest step the loop ran while measuring, in the loop thread's CPU seconds."""

    on: bool = False
    longest: float = 0.0
    what: str = ""


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[Steps]:
    seen = Steps()
    run = asyncio.events.Handle._run

    def timed(handle: asyncio.events.Handle) -> None:
        began = time.thread_time()
        try:
            run(handle)
        finally:
            took = time.thread_time() - began
            if seen.on and took > seen.longest:
                seen.longest, seen.what = took, repr(handle)[:300]

    monkeypatch.setattr(asyncio.events.Handle, "_run", timed)
    # What the test run holds is out of the collector's way, as the bot's start-up heap is
    # (bot.server): a full collection over the whole test process is no handler's doing.
    gc.collect()
    gc.freeze()
    try:
        yield seen
    finally:
        gc.unfreeze()


async def _tickets(service: Services, clock: FakeClock) -> None:
    """TICKETS tickets of the last days, answered and resolved; half of them one of 40 subjects,
    the others each unlike the rest (comparing them takes the loop seconds)."""
    rng = random.Random(21)
    words = ["".join(rng.choice("abcdefghijklmnoprstuvz") for _ in range(rng.randint(4, 10))) for _ in range(3000)]
    common = [" ".join(rng.choice(words[:30]) for _ in range(rng.randint(2, 4))) for _ in range(40)]

    def subject() -> str:
        if rng.random() < 0.5:
            return rng.choice(common)
        return " ".join(rng.choice(words) for _ in range(rng.randint(3, 7)))

    now = clock.now
    async with service.db.write() as session:
        customer = (await session.execute(insert(Customer).values(
            platform="telegram", platform_user_id="1", chat_id="1", display_name="C", locale="en",
            reachable=True, created_at=now).returning(Customer.id))).scalar_one()
        rows = []
        for i in range(TICKETS):
            created = now - timedelta(days=20, minutes=-5 * i)
            rows.append(dict(number=1000 + i, customer_id=customer, department="technical", request_type="bug",
                             priority="normal", subject=subject(),
                             description="d", status="resolved", tier=1, created_at=created, updated_at=created,
                             first_response_at=created + timedelta(hours=3),
                             resolved_at=created + timedelta(days=1), waiting_since=None))
        await session.execute(insert(Ticket), rows)


class Everyone:
    """A desk where everyone is an agent."""

    async def is_agent(self, user_id: str) -> bool:
        return True

    async def lookup(self, ref: str) -> AgentIdentity | None:
        return None


async def test_stats_never_blocks_the_loop(service: Services, config: HelpdeskConfig, clock: FakeClock,
                                           steps: Steps, monkeypatch: pytest.MonkeyPatch) -> None:
    agents = AgentDesk(service)
    who = AgentIdentity("test", "agent", "Agent", "en")

    async def stats() -> str:
        return as_text(await agents.run(who, parse("stats"), Everyone()))

    await stats()  # first use: locale data, statement caches (once per process)
    await _tickets(service, clock)
    grouped_on_loop: list[bool] = []
    group = core.services.reports.recurring_subjects

    def spy(tickets: list[tuple[int, str]], *args: object, **kwargs: object) -> list[tuple[str, list[int]]]:
        try:
            asyncio.get_running_loop()
            grouped_on_loop.append(True)
        except RuntimeError:
            grouped_on_loop.append(False)
        assert len(tickets) == TICKETS
        return group(tickets, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(core.services.reports, "recurring_subjects", spy)
    steps.on = True
    text = await stats()
    steps.on = False
    assert "tickets: 5,000" in text
    assert grouped_on_loop == [False]  # in a thread, not on the loop
    assert steps.longest < LIMIT, f"a loop step took {steps.longest * 1000:.0f} ms of CPU: {steps.what}"


async def test_a_large_file_is_inspected_off_the_loop(tmp_path: Path, steps: Steps) -> None:
    """A 10 MB text file: telling text from binary reads every character."""
    data = (b"A log line as customers send them, 2026-11-16 08:00:00 INFO ok\n" * 170_000)[:MAX_BYTES]
    store = AttachmentStore(tmp_path)

    async def fetch() -> bytes:
        return data

    await store.receive(IncomingFile("warm.txt", 5, lambda: _bytes(b"warm\n")))
    steps.on = True
    got = await store.receive(IncomingFile("app.log", len(data), fetch))
    steps.on = False
    assert got.mime_type == "text/plain" and got.size == len(data)
    assert steps.longest < LIMIT, f"a loop step took {steps.longest * 1000:.0f} ms of CPU: {steps.what}"


async def _bytes(data: bytes) -> bytes:
    return data
