"""The e-mail channel under kill -9 and with two processes (issue 24): a mail is taken once.

The real `helpdesk-bot run` reads a real mailbox (Dovecot, over STARTTLS) and answers through a
real SMTP server (the sink); e-mail is its only channel. Each process signs its mails with its
number (EMAIL_NAME "Support <n>"), so every copy a customer got says which process sent it.

* kill -9 at random moments while it takes a mailbox (new mails from distinct senders, and
  replies to some acknowledgements once they came), restarted each time: every mail read,
  one ticket per new mail, each reply in its ticket once, every customer acknowledged; a
  second copy of an acknowledgement only for the mail its sender was in the middle of when
  killed (the reader takes one mail at a time: at most one per kill).
* two kills at chosen points: the mail fetched and its ticket not committed (the test holds
  SQLite's write lock), then committed and not sent (the sink holds the acknowledgement's
  DATA); after each restart the mail is handled once and answered once.
* two processes on one PostgreSQL database read one mailbox: each mail one ticket, one
  acknowledgement, read.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import os
import random
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from core.storage.db import Database
from core.storage.models import Customer, InboundEvent, Ticket, TicketMessage
from tests.adapters.email.world import mail
from tests.conftest import SINK_PASSWORD, SINK_USER
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp_sink import SmtpSink, free_port

SUPPORT = "support@example.com"
MAILS = 60
REPLYING = range(0, MAILS, 4)  # the customers who answer their acknowledgement
KILLS = 3
SMTP_PACE = 0.08  # seconds the sink holds each mail in the random-kill test: the work spans seconds
TWO_PROCESS_MAILS = 100


def customer(i: int) -> str:
    return f"customer{i}@example.org"


def new_mail(i: int, padding: int = 0) -> bytes:
    body = f"Hello, my printer prints nothing. Token new-{i}-end.\n" + "".join(
        f"Line {k} of the printer's log, kept for the support team.\n" for k in range(padding))
    return mail(customer(i), f"Printer {i}", body, message_id=f"<new.{i}@example.org>")


def reply_mail(i: int, ack: EmailMessage) -> bytes:
    return mail(customer(i), f"Re: {ack['Subject']}", f"Still nothing. Token reply-{i}-end.\n\n> Thank you",
                in_reply_to=str(ack["Message-ID"]), message_id=f"<reply.{i}@example.org>")


# -- the bot processes ---------------------------------------------------------------------------

@dataclass
class Bot:
    n: int
    proc: asyncio.subprocess.Process
    log: Path
    port: int


@dataclass
class Bots:
    """The bot processes of one test, numbered in start order."""

    tmp_path: Path
    env: dict[str, str]
    started: list[Bot] = field(default_factory=list)

    async def start(self, **extra: str) -> Bot:
        n, port = len(self.started), free_port()
        log = self.tmp_path / f"bot{n}.log"
        env = {**self.env, "HTTP_PORT": str(port), "EMAIL_NAME": f"Support {n}", **extra}
        with log.open("wb") as out:  # a file, not a pipe: nobody has to read it for the bot to go on
            proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env,
                                                        cwd=self.tmp_path, stdout=out, stderr=out)
        self.started.append(Bot(n, proc, log, port))
        return self.started[-1]

    async def ready(self, bot: Bot) -> None:
        """Its mailbox connected (/readyz), so that what the test does next finds it reading."""
        async with aiohttp.ClientSession() as http:
            async def ready() -> bool:
                self.check_alive(bot)
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"http://127.0.0.1:{bot.port}/readyz") as resp:
                        return resp.status == 200
                return False
            await until(ready, 60, f"bot {bot.n} ready", self)

    def check_alive(self, bot: Bot) -> None:
        if bot.proc.returncode is not None:
            raise AssertionError(f"bot {bot.n} exited ({bot.proc.returncode}):\n{self.tail(bot)}")

    @staticmethod
    async def kill(bot: Bot) -> None:
        bot.proc.send_signal(signal.SIGKILL)
        await bot.proc.wait()

    async def stop(self, bot: Bot) -> None:
        bot.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(bot.proc.wait(), 20)
        assert code == 0, f"bot {bot.n} stopped with {code}:\n{self.tail(bot)}"

    async def close(self) -> None:
        for bot in self.started:
            if bot.proc.returncode is None:
                await self.kill(bot)

    def tail(self, bot: Bot | None = None) -> str:
        bots = [bot] if bot else self.started[-2:]
        return "\n".join(f"--- bot {b.n}:\n" + b.log.read_text(errors="replace")[-2500:] for b in bots)


def bot_env(tmp_path: Path, dovecot: Dovecot, sink: SmtpSink, database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "EMAIL_"))}
    assert dovecot.cert is not None
    env.update(DATABASE_URL=database, EMAIL_ADDRESS=SUPPORT, EMAIL_IMAP_URL=dovecot.url(),
               EMAIL_SMTP_URL=sink.url(), EMAIL_POLL_SECONDS="2", SSL_CERT_FILE=str(dovecot.cert),
               ATTACHMENTS_DIR=str(tmp_path / "files"), DATABASE_POOL_SIZE="5")
    return env


async def until(check: Callable[[], Awaitable[bool]], timeout: float, what: str, bots: Bots | None = None) -> None:
    """Wait for a condition, generously: the machine may be loaded."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s in vain for {what}\n{bots.tail() if bots else ''}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    server = SmtpSink(user=SINK_USER, password=SINK_PASSWORD)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def say(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    def say(line: str) -> None:
        with capsys.disabled():  # the figures belong in every run's output, CI's included
            print(line)
    return say


# -- what the customers got, and what the database holds ----------------------------------------

def sender_of(message: EmailMessage) -> int:
    """The number of the process that sent a mail (its EMAIL_NAME)."""
    return int(email.utils.parseaddr(str(message["From"]))[0].rsplit(" ", 1)[1])


def copies(sink: SmtpSink) -> dict[str, list[EmailMessage]]:
    """Each customer's mails from the bot, in the order the sink took them."""
    found: dict[str, list[EmailMessage]] = {}
    for message in sink.messages:
        found.setdefault(email.utils.parseaddr(str(message["To"]))[1], []).append(message)
    return found


@dataclass
class Stored:
    tickets: dict[int, list[tuple[int, str]]]  # customer i -> (ticket number, owner's address) of its tickets
    replies: dict[int, list[int]]  # customer i -> the tickets its reply is in
    events: dict[str, InboundEvent]


async def stored(url: str, count: int) -> Stored:
    db = Database(url)
    try:
        async with db.read() as s:
            rows = (await s.execute(select(Ticket.number, Ticket.id, Ticket.description, Customer.platform_user_id)
                                    .join(Customer, Customer.id == Ticket.customer_id))).all()
            bodies = (await s.execute(select(TicketMessage.ticket_id, TicketMessage.body))).all()
            events = {e.event_id: e for e in (await s.execute(select(InboundEvent))).scalars()}
    finally:
        await db.dispose()
    number = {ticket_id: n for n, ticket_id, _, _ in rows}
    return Stored(
        tickets={i: [(n, who) for n, _, text, who in rows if f"new-{i}-end" in text] for i in range(count)},
        replies={i: [number[t] for t, body in bodies if f"reply-{i}-end" in body] for i in range(count)},
        events=events)


def extra_copies(acks: dict[str, list[EmailMessage]], killed: set[int], sink: SmtpSink) -> tuple[int, list[str]]:
    """The copies of acknowledgements beyond the first, and those a kill does not explain. A
    second copy is explained when the process that sent the one before it was killed with that
    mail in hand (its last mail sent: the reader takes one mail at a time) and the copy came from
    a later process; so at most one mail is repeated per kill."""
    last: dict[int, str] = {}
    for message in sink.messages:
        last[sender_of(message)] = str(message["Message-ID"])
    extra, wrong, per_kill = 0, [], Counter[int]()
    for address, got in acks.items():
        for before, again in zip(got, got[1:]):
            extra += 1
            first, second, mid = sender_of(before), sender_of(again), str(before["Message-ID"])
            if str(again["Message-ID"]) != mid:
                wrong.append(f"{address} got two different mails: {mid} and {again['Message-ID']}")
            elif first not in killed or second <= first:
                wrong.append(f"{address} got {mid} from process {first} and again from process {second}, "
                             f"process {first} {'was killed' if first in killed else 'was not killed'}")
            elif last[first] != mid:
                wrong.append(f"{address} got {mid} again, though process {first} sent mail after it")
            else:
                per_kill[first] += 1
    wrong += [f"the kill of process {p} repeated {n} mails" for p, n in per_kill.items() if n > 1]
    return extra, wrong


def append_all(dovecot: Dovecot, raws: list[bytes]) -> None:
    """Deliver mails into the mailbox, in one session."""
    with dovecot.session() as conn:
        for raw in raws:
            typ, data = conn.append("INBOX", "", None, raw)
            assert typ == "OK", data


def seen(dovecot: Dovecot) -> tuple[int, int]:
    """How many mails the mailbox holds, and how many of them are read."""
    messages = dovecot.messages()
    return len(messages), sum("\\Seen" in flags for _, flags, _ in messages)


# -- 1. kill -9 at random moments -------------------------------------------------------------------

@pytest.mark.timeout(240)
async def test_kill_9_while_taking_a_mailbox(tmp_path: Path, dovecot: Dovecot, sink: SmtpSink,
                                             say: Callable[[str], None]) -> None:
    rng = random.Random(24)
    url = f"sqlite+aiosqlite:///{tmp_path / 'mail.db'}"
    bots = Bots(tmp_path, bot_env(tmp_path, dovecot, sink, url))
    # A slow SMTP server: a mail's handling then lasts long enough for kills to land inside it
    # (commit, send, the done mark, \Seen), where otherwise they would mostly find the bot idle.
    sink.delay_next(SMTP_PACE, count=None)
    replied: set[int] = set()

    async def replies() -> None:
        """Each customer of REPLYING answers once its acknowledgement came."""
        while len(replied) < len(REPLYING):
            got = copies(sink)
            for i in REPLYING:
                if i not in replied and got.get(customer(i)):
                    await asyncio.to_thread(dovecot.append, reply_mail(i, got[customer(i)][0]))
                    replied.add(i)
            await asyncio.sleep(0.1)

    async def finished() -> bool:
        total, read = await asyncio.to_thread(seen, dovecot)
        return total == MAILS + len(REPLYING) and read == total

    answering = asyncio.create_task(replies())
    try:
        await asyncio.to_thread(append_all, dovecot, [new_mail(i) for i in range(MAILS)])
        bot = await bots.start()
        killed: set[int] = set()
        left: list[int] = []  # mails unread at each kill
        for _ in range(KILLS):
            # A random moment once this process is at work: it sent something.
            await until(_sent_by(sink, bot.n), 90, f"process {bot.n} to send", bots)
            await asyncio.sleep(rng.uniform(0.05, 1.2))
            await bots.kill(bot)
            killed.add(bot.n)
            total, read = await asyncio.to_thread(seen, dovecot)
            left.append(MAILS + len(REPLYING) - read)
            bot = await bots.start()
        await until(finished, 120, "every mail read", bots)
        await asyncio.wait_for(answering, 30)
        await bots.stop(bot)
    finally:
        answering.cancel()
        await bots.close()
    store = await stored(url, MAILS)
    acks = copies(sink)
    extra, wrong = extra_copies(acks, killed, sink)
    say(f"\nmail crash test: {MAILS} new mails and {len(REPLYING)} replies, {len(killed)} kill -9 "
        f"(unread mails at each: {left}), {sum(map(len, store.tickets.values()))} tickets, "
        f"{sum(len(n) > 1 for n in store.tickets.values())} duplicate tickets, "
        f"{sum(len(v) for v in acks.values())} acknowledgements for {MAILS} customers, "
        f"{extra} extra copies (each after its sender's kill)")
    assert all(left), f"a kill came after the mailbox was done (unread at each kill: {left})"
    assert await finished()
    assert {i: len(t) for i, t in store.tickets.items() if len(t) != 1} == {}, "a new mail is not one ticket"
    assert all(t[0][1] == customer(i) for i, t in store.tickets.items())
    ticket = {i: t[0][0] for i, t in store.tickets.items()}
    assert {i: store.replies[i] for i in REPLYING if store.replies[i] != [ticket[i]]} == {}, \
        "a reply is not in its ticket exactly once"
    for i in range(MAILS):
        got = acks.get(customer(i), [])
        assert got, f"customer {i} got no acknowledgement"
        assert str(got[0]["Message-ID"]).startswith(f"<hd.{ticket[i]}.t.")  # its ticket's first mail
    assert wrong == []
    assert len(acks) == MAILS  # a reply is not answered
    # A process killed after a mail was answered and read, before its done mark was written,
    # leaves the claim behind (nothing delivers that mail again); the last one stopped cleanly.
    dead = {str(b.proc.pid) for b in bots.started if b.n in killed}
    left_over = [e.event_id for e in store.events.values() if e.state != "done"]
    assert [e for e in left_over if (store.events[e].owner or "::").rsplit(":", 2)[-2] not in dead] == []


def _sent_by(sink: SmtpSink, process: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return any(sender_of(m) == process for m in sink.messages)
    return check


# -- 2. kills at chosen points ----------------------------------------------------------------------

class Relay:
    """A TCP relay between the bots and Dovecot that counts what the server sent: a mail of a
    known size was fetched once that many bytes more went through (TLS hides nothing of the
    count) and the bot's socket holds none of them unread."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.down = 0  # bytes from the server to the bots, handed to the kernel
        self._server: asyncio.Server | None = None
        self._links: list[tuple[int, asyncio.StreamWriter]] = []  # a bot's port, the relay's writer to it
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for _, writer in self._links:
            writer.close()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._links.append((writer.get_extra_info("peername")[1], writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, down: bool) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
                    self.down += len(data) if down else 0
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, False), pipe(up_reader, writer, True))

    def delivered(self) -> bool:
        """Everything relayed to the bots is in their hands: nothing in the relay's buffers,
        nothing waiting in a bot's socket (the kernel's queues, from /proc/net/tcp)."""
        if any(w.transport.get_write_buffer_size() for _, w in self._links if not w.is_closing()):
            return False
        queued = _queues()
        return all(queued.get((bot, self.port), (0, 0))[1] == 0 and queued.get((self.port, bot), (0, 0))[0] == 0
                   for bot, _ in self._links)


def _queues() -> dict[tuple[int, int], tuple[int, int]]:
    """The IPv4 TCP sockets' send and receive queues by (local port, remote port)."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        tx, rx = (int(v, 16) for v in fields[4].split(":"))
        found[(int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16))] = (tx, rx)
    return found


@pytest.mark.timeout(180)
async def test_kills_between_fetch_and_commit_and_between_commit_and_send(
        tmp_path: Path, dovecot: Dovecot, sink: SmtpSink, say: Callable[[str], None]) -> None:
    path = tmp_path / "mail.db"
    url = f"sqlite+aiosqlite:///{path}"
    relay = Relay(dovecot.port)
    await relay.start()
    imap = dovecot.url().replace(f":{dovecot.port}/", f":{relay.port}/")
    bots = Bots(tmp_path, bot_env(tmp_path, dovecot, sink, url) | {"EMAIL_IMAP_URL": imap})
    fetched = new_mail(0, padding=4000)  # large: its fetch stands out from IMAP's small talk
    try:
        bot = await bots.start()
        await bots.ready(bot)
        # Fetched, not committed: the test holds SQLite's write lock, so the mail's claim waits.
        lock = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        await asyncio.to_thread(lock.execute, "BEGIN IMMEDIATE")
        before = relay.down
        await asyncio.to_thread(dovecot.append, fetched)

        async def in_its_hands() -> bool:
            return relay.down - before >= len(fetched) and relay.delivered()

        await until(in_its_hands, 60, "the bot to fetch the large mail", bots)
        await bots.kill(bot)
        lock.rollback()
        lock.close()
        assert (await stored(url, 1)).events.get("new.0@example.org") is None, "committed although locked out"
        assert await asyncio.to_thread(seen, dovecot) == (1, 0)
        assert sink.messages == []

        bot = await bots.start()
        await until(mails_sent(sink, 1), 60, "the acknowledgement of the fetched mail", bots)
        await bots.ready(bot)
        # Committed, not sent: the sink holds the acknowledgement's DATA until the bot is killed.
        sink.delay_next(120)
        await asyncio.to_thread(dovecot.append, new_mail(1))

        async def held() -> bool:
            return sink.holding == 1
        await until(held, 60, "the acknowledgement of the second mail to be held", bots)
        await bots.kill(bot)

        async def dropped() -> bool:
            return sink.holding == 0
        await until(dropped, 10, "the sink to drop the held mail")
        event = (await stored(url, 2)).events.get("new.1@example.org")
        assert event is not None and event.state == "replying" and event.replies, "committed with its answer"
        assert await asyncio.to_thread(seen, dovecot) == (2, 1)

        bot = await bots.start()  # takes the dead worker's claim over once its heartbeat is old
        await until(mails_sent(sink, 2), 90, "the acknowledgement of the second mail", bots)
        await until(mailbox_is(dovecot, 2, 2), 30, "both mails read", bots)
        await bots.stop(bot)
    finally:
        await bots.close()
        await relay.close()
    store = await stored(url, 2)
    acks = copies(sink)
    say(f"\nmail crash test, chosen points: killed fetched-not-committed and committed-not-sent; "
        f"tickets {[n for t in store.tickets.values() for n, _ in t]}, acknowledgements "
        f"{[(a, [sender_of(m) for m in got]) for a, got in acks.items()]}")
    assert [len(t) for t in store.tickets.values()] == [1, 1]
    assert [[sender_of(m) for m in acks[customer(i)]] for i in range(2)] == [[1], [2]]
    assert all(e.state == "done" for e in store.events.values())


def mails_sent(sink: SmtpSink, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(sink.messages) >= count
    return check


def mailbox_is(dovecot: Dovecot, total: int, read: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await asyncio.to_thread(seen, dovecot) == (total, read)
    return check


# -- 3. two processes, one mailbox ------------------------------------------------------------------

@pytest.mark.timeout(180)
async def test_two_processes_read_one_mailbox(tmp_path: Path, dovecot: Dovecot, sink: SmtpSink, pg_url: str,
                                              say: Callable[[str], None]) -> None:
    bots = Bots(tmp_path, bot_env(tmp_path, dovecot, sink, pg_url))
    count = TWO_PROCESS_MAILS

    async def finished() -> bool:
        return len(sink.messages) >= count and await asyncio.to_thread(seen, dovecot) == (count, count)

    # A slow SMTP server keeps each process in its mails long enough for the other to overtake
    # it: they take turns, and race for the same mail again and again.
    sink.delay_next(SMTP_PACE, count=None)
    try:
        first = await bots.start()
        await bots.ready(first)  # the schema is migrated once, before the second starts
        second = await bots.start()
        await bots.ready(second)
        # Both wait in IDLE: the mails wake them together.
        await asyncio.to_thread(append_all, dovecot, [new_mail(i) for i in range(count)])
        await until(finished, 120, f"{count} acknowledgements and every mail read", bots)
        await asyncio.gather(bots.stop(first), bots.stop(second))
    finally:
        await bots.close()
    store = await stored(pg_url, count)
    acks = copies(sink)
    share = Counter(sender_of(m) for m in sink.messages)
    say(f"\nmail two-process test: {count} mails, {sum(map(len, store.tickets.values()))} tickets, "
        f"{sum(len(v) for v in acks.values())} acknowledgements (process 0 sent {share[0]}, process 1 {share[1]}), "
        f"{sum(len(v) - 1 for v in acks.values())} extra copies")
    assert {i: len(t) for i, t in store.tickets.items() if len(t) != 1} == {}, "a mail is not one ticket"
    assert {a: len(got) for a, got in acks.items() if len(got) != 1} == {}, "an acknowledgement went twice"
    assert sorted(acks) == sorted(customer(i) for i in range(count))
    assert all(e.state == "done" for e in store.events.values())
