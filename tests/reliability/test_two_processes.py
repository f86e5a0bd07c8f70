"""Two bot processes on one PostgreSQL database, behind a load balancer, in Telegram webhook mode.

As in production with N processes: both register the load balancer's public URL with
setWebhook, each listens on its own HTTP port, and this test plays the load balancer, posting
every update to one process or the other, and some to both (as Telegram does when it retries
after a time-out). Customers go through the whole form concurrently, an agent works their
tickets from a third process (this one), SLA targets are seconds long, and reminders and
auto-closes are made due by moving their times into the past. Then, from the database, both
processes' logs and metrics, and everything the fake Bot API received:

* one ticket per customer, ticket numbers unique and without gaps (no opening fails here,
  so the sequence leaves none);
* every update handled exactly once, by one of the two (each handled some);
* every notification in the outbox sent exactly once, in order per chat, by either relay;
* every timer (SLA warning, SLA breach and its escalation, reminder, auto-close) fired once
  per ticket, whichever process swept;
* both processes stop with status 0 within 10 seconds of SIGTERM.
"""

from __future__ import annotations

import ast
import asyncio
import contextvars
import os
import random
import re
import signal
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from adapters.telegram.render import messages
from core.chat.notices import render
from core.domain.clock import utcnow
from core.domain.config import load_config
from core.domain.model import MessageKind, Status, Who
from core.i18n import translator
from core.services import Services
from core.storage.db import Database
from core.storage.models import (
    Customer,
    Draft,
    InboundEvent,
    OutboxMessage,
    Rating,
    StatusChange,
    Ticket,
    TicketMessage,
    Worker,
)
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import TOKEN, free_port
from tests.fakes.telegram_api import FakeTelegramAPI, RecordedRequest

CUSTOMERS = 48
KINDS = ("first_response", "resolution", "reminder", "autoclose")  # customer i: KINDS[i % 4]
PUBLIC_URL = "https://helpdesk.example.com/telegram/webhook"  # the load balancer, as Telegram sees it
# SLA targets in calendar time, seconds long, so that warnings and breaches fall due a few
# seconds after a ticket opens, before the processes' second sweep (they sweep at start and then
# every 30 s). "high" tickets run out of first-response time, "urgent" ones of resolution time,
# so each has exactly two timers due at once, consecutive in the sweep (warning, then breach).
# With all four due at once, two processes sweeping together can each find the ticket locked by
# the other for its next timer (SKIP LOCKED) and leave that one to the following sweep: still
# fired once, but 30 s later than this test should last.
SLA = {
    "high": "sla = { first_response_hours = 0.001, resolution_hours = 1000, business_time = false }",
    "urgent": "sla = { first_response_hours = 1000, resolution_hours = 0.0015, business_time = false }",
}
PRIORITY = {"first_response": "high", "resolution": "urgent", "reminder": "normal", "autoclose": "normal"}
TIMER_WAIT = 75.0  # a timer missed by the sweep 30 s after start is fired by the one at 60 s

Step = tuple[str, str, str, int]  # kind, value, the reply awaited, how many messages it answers
INTAKE: list[Step] = [
    ("text", "/start", "key:lang:en", 2),
    ("press", "lang:en", "key:dep:technical", 2),  # tips for a good ticket, then the departments
    ("press", "dep:technical", "key:rt:bug", 1),
    ("press", "rt:bug", "text:short subject", 1),
    ("text", "Two processes, customer {i}", "key:pri:{priority}", 1),
    ("press", "pri:{priority}", "text:Describe the problem", 1),
    ("text", "Customer {i} writes through the load balancer.", "key:att:done", 1),
    ("press", "att:done", "key:rev:submit", 1),
    ("press", "rev:submit", "text:has been created", 1),
    # Written again before any answer: added, with the one-time hint about the queue.
    ("text", "One more detail from customer {i}.", "text:added to ticket", 2),
]


# -- the fake Bot API, telling which process made each request ---------------------------------

_HOST: contextvars.ContextVar[str] = contextvars.ContextVar("host", default="")


class TaggedTelegramAPI(FakeTelegramAPI):
    """Process A calls the fake as 127.0.0.1, process B as localhost: each recorded request
    says which process sent it (`via`), so the relays' shares can be counted."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.via: dict[int, str] = {}

    async def _handle_method(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        _HOST.set(request.host.rsplit(":", 1)[0])
        return await super()._handle_method(request)

    async def _dispatch(self, record: RecordedRequest, *args: Any) -> tuple[int, Any]:  # type: ignore[override]
        self.via[id(record)] = _HOST.get()
        return await super()._dispatch(record, *args)


# -- the two processes and the load balancer ------------------------------------------------------

@dataclass
class BotProcess:
    name: str
    port: int
    api_host: str
    proc: asyncio.subprocess.Process
    output: asyncio.Task[bytes]
    posts: int = 0  # webhook POSTs the load balancer sent it

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/webhook"

    @property
    def log(self) -> str:
        return self.output.result().decode(errors="replace") if self.output.done() else ""


async def _start(name: str, api: FakeTelegramAPI, api_host: str, env: dict[str, str], cwd: Path) -> BotProcess:
    port = free_port()
    env = {**env, "HTTP_PORT": str(port), "TELEGRAM_API_URL": f"http://{api_host}:{api.port}"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=cwd,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    # Read as it comes: a full pipe would block the bot's logging, and the bot with it.
    return BotProcess(name, port, api_host, proc, asyncio.create_task(proc.stdout.read()))


async def _wait_ready(bot: BotProcess, http: aiohttp.ClientSession) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if bot.proc.returncode is not None:
            await bot.output
            raise AssertionError(f"bot {bot.name} exited early ({bot.proc.returncode}):\n{bot.log[-3000:]}")
        try:
            async with http.get(f"http://127.0.0.1:{bot.port}/readyz") as resp:
                body = await resp.json()
                if resp.status == 200 and body.get("telegram", {}).get("mode") == "webhook":
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"bot {bot.name} not ready within 30 s")


@dataclass
class LoadBalancer:
    """Posts each update to one process, or to both (a retry after a time-out, at once or later)."""

    api: FakeTelegramAPI
    bots: list[BotProcess]
    http: aiohttp.ClientSession
    updates: set[int] = field(default_factory=set)
    routes: dict[int, list[str]] = field(default_factory=dict)  # update_id -> processes posted to
    retried_at_once: int = 0
    retried_later: int = 0

    async def _post(self, bot: BotProcess, update: dict[str, Any]) -> None:
        bot.posts += 1
        self.routes.setdefault(update["update_id"], []).append(bot.name)
        async with self.http.post(bot.webhook, json=update, headers=self.api.webhook_headers()) as resp:
            body = await resp.text()
            assert resp.status == 200, f"{bot.name} answered {resp.status} {body!r} to update {update['update_id']}"

    async def deliver(self, update: dict[str, Any], rng: random.Random) -> None:
        self.updates.add(update["update_id"])
        first, second = rng.sample(self.bots, 2)
        roll = rng.random()
        if roll < 0.12:  # Telegram gave up waiting and sent it again while the first was handled
            self.retried_at_once += 1
            await asyncio.gather(self._post(first, update), self._post(second, update))
        elif roll < 0.24:  # sent again after the first was answered (an answer lost on the way)
            self.retried_later += 1
            await self._post(first, update)
            await self._post(second, update)
        else:
            await self._post(first, update)


# -- customers and the agent ----------------------------------------------------------------------

def _buttons(message: dict[str, Any]) -> list[str]:
    return [b.get("callback_data") for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row]


def _matches(message: dict[str, Any], want: str) -> bool:
    kind, _, value = want.partition(":")
    if kind == "key":
        return value in _buttons(message)
    return value in (message.get("text") or "")


@dataclass
class Person:
    i: int
    api: FakeTelegramAPI
    lb: LoadBalancer
    rng: random.Random
    expected_replies: int = 0  # replies to the customer's own updates (notifications aside)
    number: int | None = None

    @property
    def user(self) -> int:
        return 910_000 + self.i

    @property
    def kind(self) -> str:
        return KINDS[self.i % len(KINDS)]

    async def step(self, kind: str, value: str, want: str, replies: int) -> dict[str, Any]:
        before = self.api.sent_count(self.user)
        if kind == "text":
            update = self.api.user_message(self.user, value, language_code="en")
        else:
            message = next(m for m in reversed(self.api.sent(self.user)) if value in _buttons(m))
            update = self.api.press_button(self.user, message["message_id"], value, check_button=False)
        await self.lb.deliver(update, self.rng)
        self.expected_replies += replies
        routes = "+".join(self.lb.routes[update["update_id"]])
        return await self.wait(want, since=before, timeout=15,
                               after=f"{kind} {value!r} (update {update['update_id']} posted to {routes})")

    async def wait(self, want: str, *, since: int = 0, timeout: float, after: str = "",
                   count: int = 1) -> dict[str, Any]:
        def found() -> list[dict[str, Any]]:
            hits = [m for m in self.api.sent(self.user, since) if _matches(m, want)]
            return hits if len(hits) >= count else []
        try:
            return (await self.api.wait_for(found, timeout=timeout))[-1]
        except TimeoutError:
            tail = [((m.get("text") or "")[:70], _buttons(m)) for m in self.api.sent(self.user)[-5:]]
            raise AssertionError(f"customer {self.i} ({self.kind}) waited in vain for {count} x {want} "
                                 f"{'after ' + after if after else ''}; last messages: {tail}") from None


async def _customer(c: Person, agent: Agent, stagger: float) -> None:
    await asyncio.sleep(stagger)
    priority = PRIORITY[c.kind]
    for kind, value, want, replies in INTAKE:
        fmt = {"i": c.i, "priority": priority}
        message = await c.step(kind, value.format(**fmt), want.format(**fmt), replies)
        if value == "rev:submit":
            found = re.search(r"#(\d+)", message["text"])
            assert found, message["text"]
            c.number = int(found.group(1))
    assert c.number is not None
    n = c.number
    if c.kind in ("first_response", "resolution"):
        # Nobody answers: the agents are warned, then the breach takes the ticket from L1 to L2.
        await c.wait("text:has been passed to our level 2", timeout=TIMER_WAIT)
        await c.step("text", "Any news?", "text:added to ticket", 1)
    elif c.kind == "reminder":
        await agent.work(n, resolve=False)
        await c.wait(f"text:Ticket #{n} is waiting for your reply", timeout=TIMER_WAIT)
        await c.step("press", f"reply:{n}", "text:Write your message for ticket", 1)
        await c.step("text", f"Here is my answer, customer {c.i}.", "text:has been added to ticket", 1)
    else:
        await agent.work(n, resolve=True)
        await c.wait("text:has been closed automatically", timeout=TIMER_WAIT)
        await c.wait("text:How satisfied are you", timeout=15)
        await c.step("press", f"rate:{n}:5", "text:Thank you for your rating", 1)
        await c.step("press", "rate_done", "text:Thank you!", 1)


@dataclass
class Agent:
    """Another process working the tickets: claim, reply, resolve; and time passing (the
    reminder and the auto-close made due by moving their times into the past)."""

    service: Services
    agent_id: int = 0

    async def work(self, number: int, *, resolve: bool) -> None:
        who = Who.agent(self.agent_id)
        await self.service.desk.assign(number, self.agent_id, who)
        await self.service.desk.add_agent_message(self.agent_id, number, f"Looking at #{number} now.")
        if resolve:
            await self.service.desk.change_status(number, Status.RESOLVED, who)
        past = utcnow() - timedelta(seconds=1)
        due = {"auto_close_at": past} if resolve else {"reminder_due_at": past}
        async with self.service.db.write() as s:
            result = await s.execute(update(Ticket).where(Ticket.number == number).values(**due))
            assert result.rowcount == 1


# -- reading the processes' figures -----------------------------------------------------------------

async def _metrics(http: aiohttp.ClientSession, bot: BotProcess) -> dict[tuple[str, str], float]:
    async with http.get(f"http://127.0.0.1:{bot.port}/metrics") as resp:
        assert resp.status == 200
        body = await resp.text()
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            label = sample.labels.get("kind") or sample.labels.get("platform") or ""
            out[(sample.name, label)] = sample.value
    return out


def _timers_fired(log: str) -> tuple[Counter[str], list[float]]:
    """The sum of the `timers fired: {...}` lines of one process's log, and when each was
    written (seconds after the process's first line)."""
    fired: Counter[str] = Counter()
    stamp = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ", re.MULTILINE)
    first = stamp.search(log)
    when: list[float] = []
    for match in re.finditer(r"^(\S+ \S+) INFO bot\.jobs: timers fired: (\{[^}]*\})$", log, re.MULTILINE):
        fired.update(ast.literal_eval(match.group(2)))
        if first is not None:
            at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
            when.append(round((at - datetime.strptime(first.group(1), "%Y-%m-%d %H:%M:%S,%f")).total_seconds(), 1))
    return fired, when


# -- the test ---------------------------------------------------------------------------------------

async def test_two_processes_behind_a_load_balancer(tmp_path: Path, pg_url: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    config_path = fast_config(tmp_path)
    text = config_path.read_text(encoding="utf-8")
    for priority, sla in SLA.items():
        text, n = re.subn(rf'^(code = "{priority}"\nname = .*\n)sla = .*$', rf"\g<1>{sla}", text, flags=re.MULTILINE)
        assert n == 1, priority
    config_path = tmp_path / "two.toml"
    config_path.write_text(text, encoding="utf-8")
    config = load_config(config_path)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "LOG_"))}
    env.update(DATABASE_URL=pg_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_URL=PUBLIC_URL,
               HELPDESK_CONFIG=str(config_path), ATTACHMENTS_DIR=str(tmp_path / "files"),
               LOG_LEVEL="INFO", LOG_FORMAT="text",
               # As docs/deployment.md says of several processes: their pools together stay under
               # the server's max_connections (100 by default), with room for another test run.
               DATABASE_POOL_SIZE="10")

    async with TaggedTelegramAPI(token=TOKEN) as api, \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        # Both start at once: migrations under the advisory lock, both register the webhook.
        bots = list(await asyncio.gather(_start("A", api, "127.0.0.1", env, tmp_path),
                                         _start("B", api, "localhost", env, tmp_path)))
        db = Database(pg_url)
        try:
            await asyncio.gather(*(_wait_ready(b, http) for b in bots))
            assert api.webhook is not None and api.webhook.url == PUBLIC_URL
            assert len(api.requests_for("setWebhook")) == 2 and api.webhook_headers()
            ready = time.monotonic()

            service = Services.build(db, config)
            agent = Agent(service)
            agent.agent_id = (await service.desk.agent("console", "lb-agent", "Agent")).id
            lb = LoadBalancer(api, bots, http)
            customers = [Person(i, api, lb, random.Random(20261122 + i)) for i in range(CUSTOMERS)]
            tasks = [asyncio.create_task(_customer(c, agent, stagger=c.rng.uniform(0, 1.0))) for c in customers]
            try:
                await asyncio.gather(*tasks)
            finally:  # one customer stuck: the others stop too, before the processes do
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            served = time.monotonic()

            async def undelivered() -> int:
                async with db.read() as s:
                    return len((await s.execute(select(OutboxMessage.id).where(
                        OutboxMessage.status != "sent"))).all())
            for _ in range(150):
                if not await undelivered():
                    break
                await asyncio.sleep(0.1)
            metrics = {b.name: await _metrics(http, b) for b in bots}
        finally:
            stopping = time.monotonic()
            for b in bots:
                if b.proc.returncode is None:
                    b.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.gather(*(b.proc.wait() for b in bots)), 20)
            finally:
                for b in bots:
                    if b.proc.returncode is None:
                        b.proc.kill()
                        await b.proc.wait()
                await asyncio.gather(*(b.output for b in bots))
                for b in bots:  # for a post-mortem (the bot redacts its secrets from its logs)
                    (tmp_path / f"bot-{b.name}.log").write_text(b.log, encoding="utf-8")
        stopped = time.monotonic() - stopping

        async with db.read() as s:
            tickets = list((await s.execute(select(Ticket).order_by(Ticket.number))).scalars())
            people = {c.id: c for c in (await s.execute(select(Customer))).scalars()}
            outbox = list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())
            history = list((await s.execute(select(StatusChange).order_by(StatusChange.id))).scalars())
            system = list((await s.execute(select(TicketMessage).where(
                TicketMessage.kind == MessageKind.SYSTEM))).scalars())
            inbound = list((await s.execute(select(InboundEvent))).scalars())
            workers = list((await s.execute(select(Worker))).scalars())
            ratings = list((await s.execute(select(Rating))).scalars())
            drafts = list((await s.execute(select(Draft))).scalars())
        await db.dispose()
        sends = [r for r in api.requests_for("sendMessage") if r.ok]
        via = {id(r): api.via.get(id(r), "") for r in sends}

    # -- both processes ran, and stopped cleanly ------------------------------------------------
    for b in bots:
        assert b.proc.returncode == 0, f"bot {b.name} exited {b.proc.returncode}:\n{b.log[-3000:]}"
        assert "telegram: webhook mode" in b.log
        assert "Traceback" not in b.log and " ERROR " not in b.log, b.log[-3000:]
        assert TOKEN not in b.log
    assert stopped < 10, f"SIGTERM to exit took {stopped:.1f} s"

    # -- tickets: one per customer, numbers unique and without gaps ---------------------------------
    by_user = {c.user: c for c in customers}
    numbers = [t.number for t in tickets]
    assert len(numbers) == len(set(numbers)) == CUSTOMERS
    assert numbers == list(range(numbers[0], numbers[0] + CUSTOMERS)), "gaps in ticket numbers"
    owner_of = {t.number: int(people[t.customer_id].platform_user_id) for t in tickets}
    assert sorted(owner_of.values()) == sorted(by_user), "not exactly one ticket per customer"
    assert all(by_user[owner_of[c.number]] is c for c in customers if c.number is not None)
    assert not drafts

    # -- updates: each handled once, by one of the two processes, both busy -------------------------
    assert len(inbound) == len(lb.updates) and {int(e.event_id) for e in inbound} == lb.updates
    assert all(e.state == "done" for e in inbound)
    worker_of = {b.name: next(w.id for w in workers if f":{b.proc.pid}:" in w.id) for b in bots}
    handled = {name: sum(e.owner == worker for e in inbound) for name, worker in worker_of.items()}
    assert sum(handled.values()) == len(lb.updates)
    for b in bots:
        assert handled[b.name] > len(lb.updates) // 5, f"process {b.name} handled only {handled[b.name]}"
    assert lb.retried_at_once > 0 and lb.retried_later > 0

    # -- timers: each fired once per ticket, whichever process swept ------------------------------
    kind_of = {c.number: c.kind for c in customers}
    group = {kind: {n for n, k in kind_of.items() if k == kind} for kind in KINDS}
    per_process = {b.name: _timers_fired(b.log)[0] for b in bots}
    fired_at = {b.name: _timers_fired(b.log)[1] for b in bots}
    fired = sum(per_process.values(), Counter())
    assert fired == Counter({
        "first_response_warning": len(group["first_response"]), "first_response_breach": len(group["first_response"]),
        "resolution_warning": len(group["resolution"]), "resolution_breach": len(group["resolution"]),
        "reminder": len(group["reminder"]), "auto_close": len(group["autoclose"])}), per_process
    for metric in ("helpdesk_sla_warnings_total", "helpdesk_sla_breaches_total"):
        for kind in ("first_response", "resolution"):
            assert sum(metrics[b.name].get((metric, kind), 0) for b in bots) == len(group[kind]), (metric, kind)
    escalations = Counter((m.ticket_id, m.body) for m in system)
    assert len(system) == len(group["first_response"]) + len(group["resolution"])
    for t in tickets:
        kind = kind_of[t.number]
        first = (t.first_response_warned_at, t.first_response_breached_at)
        resolution = (t.resolution_warned_at, t.resolution_breached_at)
        assert all(first) if kind == "first_response" else not any(first), t.number
        assert all(resolution) if kind == "resolution" else not any(resolution), t.number
        if kind in ("first_response", "resolution"):
            assert t.tier == 2 and t.status == Status.NEW, t.number
            assert escalations[(t.id, f"escalated to L2: {kind}_overdue")] == 1, t.number
        else:
            assert t.tier == 1, t.number
        assert (t.reminded_at is not None) == (kind == "reminder"), t.number
    auto_closes = Counter(h.ticket_id for h in history if h.reason == "auto_closed")
    number_of = {t.id: t.number for t in tickets}
    assert {number_of[i] for i in auto_closes} == group["autoclose"] and set(auto_closes.values()) == {1}
    assert {number_of[r.ticket_id] for r in ratings if r.score == 5} == group["autoclose"]

    # -- notifications: each outbox row sent once, in order per chat ----------------------------------
    expected_events = {
        "first_response": ["escalated"],
        "resolution": ["escalated"],
        "reminder": ["status_changed", "agent_reply", "reminder"],
        "autoclose": ["status_changed", "agent_reply", "status_changed", "status_changed", "rating_request"],
    }
    by_ticket: dict[int, list[OutboxMessage]] = defaultdict(list)
    for row in outbox:
        assert row.platform == "telegram" and row.status == "sent" and row.attempts == 1, \
            (row.id, row.event, row.status, row.attempts, row.last_error)
        by_ticket[number_of[row.ticket_id]].append(row)
    for number, rows in by_ticket.items():
        assert [r.event for r in rows] == expected_events[kind_of[number]], number
    assert set(by_ticket) == set(numbers)

    def text_of(row: OutboxMessage) -> str:
        reply = render(translator(people[row.customer_id].locale or "en"), row.event, row.params)
        (text, _markup), = messages(reply)
        return text

    notified = Counter((row.chat_id, text_of(row)) for row in outbox)
    assert max(notified.values()) == 1  # every notification distinct: a repeat would be a double send
    sent_texts = Counter((str(r.chat_id), r.params.get("text")) for r in sends)
    doubles = {key: sent_texts[key] for key in notified if sent_texts[key] != 1}
    assert not doubles, f"notifications not sent exactly once: {doubles}"
    relayed = [r for r in sends if (str(r.chat_id), r.params.get("text")) in notified]
    for chat in {row.chat_id for row in outbox}:
        in_order = [r.params["text"] for r in relayed if str(r.chat_id) == chat]
        assert in_order == [text_of(row) for row in outbox if row.chat_id == chat], f"chat {chat} out of order"
    relay_share = Counter(via[id(r)] for r in relayed)
    assert relay_share["127.0.0.1"] > 0 and relay_share["localhost"] > 0, relay_share

    # -- nothing else was sent twice: each chat got its replies and its notifications, no more ---------
    per_chat = Counter(int(r.chat_id) for r in sends)  # type: ignore[arg-type]
    rows_per_chat = Counter(int(row.chat_id) for row in outbox)
    wrong = {c.i: (per_chat[c.user], c.expected_replies + rows_per_chat[c.user])
             for c in customers if per_chat[c.user] != c.expected_replies + rows_per_chat[c.user]}
    assert not wrong, f"customer: (messages sent, expected): {wrong}"

    with capsys.disabled():  # the figures belong in every run's output, CI's included
        print(f"\ntwo processes: {CUSTOMERS} customers, {len(lb.updates)} updates "
              f"({lb.retried_at_once} delivered to both at once, {lb.retried_later} again later); "
              f"POSTs A {bots[0].posts} / B {bots[1].posts}; handled A {handled['A']} / B {handled['B']}; "
              f"{len(outbox)} notifications sent once (relay A {relay_share['127.0.0.1']} / "
              f"B {relay_share['localhost']}); timers fired {dict(fired)} "
              f"(A {dict(per_process['A'])} at {fired_at['A']} s, B {dict(per_process['B'])} at {fired_at['B']} s); "
              f"ready {ready - started:.1f} s, served {served - ready:.1f} s, stop {stopped:.1f} s, "
              f"total {time.monotonic() - started:.1f} s")
