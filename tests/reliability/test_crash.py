"""kill -9 at random moments while customers open tickets and agents work them; after each
restart nothing is lost or duplicated, and an invariant checker over the database finds nothing
wrong. Results are printed for the README's reliability section."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.config import load_config
from core.domain import Status, Who
from core.storage.db import Database
from core.storage.models import Customer, Draft, InboundEvent, OutboxMessage, StatusChange, Ticket, TicketMessage, Worker
from core.tickets import TicketService
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import TOKEN, free_port
from tests.fakes.telegram_api import FakeTelegramAPI

CUSTOMERS = 200
STAGGER = 8.0  # seconds over which the customers arrive
FLOW: list[tuple[str, str, str]] = [
    ("text", "/start", "key:lang:en"), ("press", "lang:en", "key:dep:technical"),
    ("press", "dep:technical", "key:rt:bug"), ("press", "rt:bug", "text:short subject"),
    ("text", "Crash test {i}", "key:pri:normal"), ("press", "pri:normal", "text:Describe the problem"),
    ("text", "Killed and restarted, ticket {i}.", "key:att:done"), ("press", "att:done", "key:rev:submit"),
    ("press", "rev:submit", "text:has been created"),
    # Follow-ups: each must be in its ticket once, however often its update was redelivered.
    ("text", "Follow-up one from {i}", "text:has been added to ticket"),
    ("text", "Follow-up two from {i}", "text:has been added to ticket"),
]


def _matches(message: dict[str, Any], want: str) -> bool:
    kind, _, value = want.partition(":")
    if kind == "key":
        return any(b.get("callback_data") == value
                   for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row)
    return value in (message.get("text") or "")


async def _customer(api: FakeTelegramAPI, i: int) -> None:
    # Customers arrive over STAGGER seconds and think a moment over each step: the intakes then
    # span some 15 s however fast the machine (on a fast one, all 200 unpaced were done within
    # two kills, and the test asks for at least three while customers are writing).
    user = 900_000 + i
    think = random.Random(i)
    await asyncio.sleep(i * STAGGER / CUSTOMERS)
    for step, (kind, value, want) in enumerate(FLOW):
        if step:
            await asyncio.sleep(think.uniform(0.2, 0.8))
        value = value.format(i=i)
        before = len(api.sent(user))
        if kind == "text":
            last_update = api.user_message(user, value, language_code="en")
        else:
            message = next(m for m in reversed(api.sent(user)) if _matches(m, f"key:{value}"))
            last_update = api.press_button(user, message["message_id"], value, check_button=False)
        # Telegram keeps an update until the bot confirms it: after a kill the next process gets it.
        try:
            await api.wait_for(lambda: any(_matches(m, want) for m in api.sent(user)[before:]), timeout=60)
        except TimeoutError:
            tail = [(m.get("text", "")[:60],
                     [b.get("callback_data") for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
                      for b in row]) for m in api.sent(user)[-4:]]
            raise AssertionError(f"customer {i} stuck after {kind} {value!r} (update "
                                 f"{last_update['update_id']}) waiting for {want}; last messages: {tail}") from None


_RUNNING: list[asyncio.subprocess.Process] = []


async def _followed_up(db: Database, ticket_id: int) -> bool:
    async with db.read() as s:
        return bool((await s.execute(select(func.count()).select_from(TicketMessage).where(
            TicketMessage.ticket_id == ticket_id, TicketMessage.body.like("Follow-up two from %")))).scalar_one())


async def _start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    _RUNNING.append(await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env, cwd=cwd,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL))
    return _RUNNING[-1]


@pytest.mark.timeout(300)
async def test_kill_9_during_intakes_and_agent_work(tmp_path: Path) -> None:
    try:
        await _scenario(tmp_path)
    finally:  # a failed run leaves no bot behind
        for proc in _RUNNING:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        _RUNNING.clear()


async def _scenario(tmp_path: Path) -> None:
    rng = random.Random(20261122)
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    async with FakeTelegramAPI(token=TOKEN) as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
        env.update(DATABASE_URL=url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.server_url,
                   HTTP_PORT=str(free_port()), ATTACHMENTS_DIR=str(tmp_path / "files"),
                   HELPDESK_CONFIG=str(fast_config(tmp_path, chat=0.0, group=0.0, global_rate=1000)))
        proc = await _start(env, tmp_path)
        await api.wait_for(lambda: api.requests_for("getUpdates"), timeout=30)
        db = Database(url)
        agents = TicketService(db, load_config(fast_config(tmp_path, chat=0.0, group=0.0, global_rate=1000)))
        customers = asyncio.gather(*(_customer(api, i) for i in range(CUSTOMERS)))

        async def agent_work() -> int:
            """Another process works the tickets whose customers are done writing: claim, reply,
            resolve (a follow-up to a resolved ticket would be a question, not a message). Done
            writing is read from the ticket: a reply the customer saw may be a resend."""
            agent = await agents.agent("console", "crash-agent", "Agent")
            worked: set[int] = set()
            while len(worked) < CUSTOMERS and not (customers.done() and customers.exception()):
                for ticket in await agents.queue(limit=200):
                    if ticket.number in worked or not await _followed_up(db, ticket.id):
                        continue
                    await agents.assign(ticket.number, agent.id, Who.agent(agent.id))
                    await agents.add_agent_message(agent.id, ticket.number, f"Looking at #{ticket.number}")
                    await agents.change_status(ticket.number, Status.RESOLVED, Who.agent(agent.id))
                    worked.add(ticket.number)
                await asyncio.sleep(0.2)
            return len(worked)

        work = asyncio.create_task(agent_work())
        kills = 0
        killed_at: list[float] = []
        started = time.monotonic()
        while not work.done() and time.monotonic() - started < 90:
            await asyncio.sleep(rng.uniform(0.5, 3.0))
            if work.done():
                break
            killed_at.append(time.monotonic())
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            kills += 1
            polls = len(api.requests_for("getUpdates"))
            proc = await _start(env, tmp_path)
            # The next kill is counted from when this bot polls: on a loaded machine its start
            # took 3-5 s, the whole of a 1-4 s interval, and bot after bot was killed before it
            # handled anything (a customer waited 60 s; one run had four such bots in a row).
            await api.wait_for(lambda: len(api.requests_for("getUpdates")) > polls, timeout=60)
        await customers
        await work
        # Quiet now: let the last process deliver every notification, then stop it cleanly.
        async def drained() -> bool:
            async with db.read() as s:
                return (await s.execute(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.status != "sent"))).scalar_one() == 0
        for _ in range(300):
            if await drained():
                break
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 15)
        problems = await check_invariants(db)
        async with db.read() as s:
            outbox = list((await s.execute(select(OutboxMessage))).scalars())
        await db.dispose()
        sent = [(r.received_at, r.params.get("text", "")) for r in api.requests_for("sendMessage") if r.ok]
    copies = {row.params["number"]: sorted(at for at, text in sent if f"Looking at #{row.params['number']}" in text)
              for row in outbox if row.event == "agent_reply"}
    duplicates = sum(len(c) - 1 for c in copies.values() if c)
    print(f"\ncrash test: {CUSTOMERS} customers, {kills} kill -9, {len(outbox)} notifications, "
          f"lost 0, duplicated notifications {duplicates}")
    assert kills >= 3, "the customers finished before the bot was killed a few times"
    assert problems == []
    assert all(copies.values()), "an agent's reply never reached its customer"
    assert _unexplained(copies, killed_at, agents.config.delivery.concurrency) == []


IN_FLIGHT = 5.0  # seconds a send may wait for its answer and its sent-mark on a loaded machine


def _unexplained(copies: dict[int, list[float]], killed_at: list[float], concurrency: int) -> list[str]:
    """A notification may go out twice only when a kill -9 caught it in flight: sent, the
    answer or its sent-mark not yet back (Telegram cannot be asked whether it has a message).
    So each copy after the first follows a kill that came at most IN_FLIGHT seconds after the
    copy before it, and one kill repeats at most the relay's sends in flight."""
    wrong, per_kill = [], [0] * len(killed_at)
    for number, at in copies.items():
        for before, again in zip(at, at[1:]):
            kill = next((k for k, t in enumerate(killed_at) if before <= t <= min(again, before + IN_FLIGHT)), None)
            if kill is None:
                wrong.append(f"#{number}: sent at {before:.2f} and again at {again:.2f} with no kill between")
            else:
                per_kill[kill] += 1
    wrong += [f"kill {k + 1} repeated {n} sends, more than the {concurrency} in flight at most"
              for k, n in enumerate(per_kill) if n > concurrency]
    return wrong


async def check_invariants(db: Database) -> list[str]:
    """What must hold in the database whatever happened to the processes."""
    problems: list[str] = []
    async with db.read() as s:
        tickets = list((await s.execute(select(Ticket))).scalars())
        customers = list((await s.execute(select(Customer))).scalars())
        drafts = list((await s.execute(select(Draft))).scalars())
        history = list((await s.execute(select(StatusChange).order_by(StatusChange.id))).scalars())
        outbox = list((await s.execute(select(OutboxMessage))).scalars())
        stuck = list((await s.execute(select(InboundEvent).where(InboundEvent.state != "done"))).scalars())
        workers = list((await s.execute(select(Worker))).scalars())
        bodies = list((await s.execute(select(TicketMessage.body).where(TicketMessage.author_customer_id.is_not(None))))
                      .scalars())
    numbers = [t.number for t in tickets]
    if len(numbers) != len(set(numbers)):
        problems.append("duplicate ticket numbers")
    per_customer: dict[int, list[Ticket]] = {}
    for t in tickets:
        per_customer.setdefault(t.customer_id, []).append(t)
    for c in customers:
        if c.platform == "telegram" and len(per_customer.get(c.id, [])) != 1:
            problems.append(f"customer {c.platform_user_id} has {len(per_customer.get(c.id, []))} tickets")
    if len(tickets) != CUSTOMERS:
        problems.append(f"{len(tickets)} tickets for {CUSTOMERS} customers")
    if drafts:
        problems.append(f"{len(drafts)} drafts left behind")
    last: dict[int, str] = {}
    for h in history:
        if h.from_status is not None and last.get(h.ticket_id) != h.from_status:
            problems.append(f"ticket {h.ticket_id}: history jumps from {last.get(h.ticket_id)} to {h.from_status}")
        last[h.ticket_id] = h.to_status
    for t in tickets:
        if last.get(t.id) != t.status:
            problems.append(f"#{t.number}: status {t.status} but history says {last.get(t.id)}")
    for c in customers:
        i = int(c.platform_user_id) - 900_000
        for which in ("one", "two"):
            times = bodies.count(f"Follow-up {which} from {i}")
            if c.platform == "telegram" and times != 1:
                problems.append(f"customer {i}: follow-up {which} is in the ticket {times} times")
    undelivered = [o.id for o in outbox if o.status != "sent"]
    if undelivered:
        problems.append(f"{len(undelivered)} notifications not delivered")
    # A worker killed after handling an update but before its "done" mark was committed leaves
    # the claim behind; harmless once the update was confirmed. The last worker stopped cleanly:
    # it must have left none.
    last_worker = max(workers, key=lambda w: w.heartbeat_at).id if workers else None
    if any(e.owner == last_worker for e in stuck):
        problems.append(f"{sum(e.owner == last_worker for e in stuck)} inbound events left unfinished "
                        "by the cleanly stopped worker")
    return problems


def test_a_second_copy_needs_a_kill_while_the_first_was_in_flight() -> None:
    """The duplicate check itself: explained by a kill just after the first copy, and only so."""
    kills = [10.0, 30.0]
    assert _unexplained({1001: [9.5, 12.0], 1002: [29.0, 31.0], 1003: [5.0]}, kills, 32) == []
    assert _unexplained({1001: [1.0, 3.0]}, kills, 32) == ["#1001: sent at 1.00 and again at 3.00 with no kill between"]
    assert _unexplained({1001: [1.0, 12.0]}, kills, 32) != []  # the kill came long after it was sent
    assert _unexplained({1001: [9.0, 11.0], 1002: [9.5, 11.5]}, kills, 1) == [
        "kill 1 repeated 2 sends, more than the 1 in flight at most"]
