"""The outbox relay: nothing sent for a rolled-back change, nothing lost, order, leases, dead letters."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from adapters.telegram.startup import pacing as telegram_pacing
from core.chat.messages import Reply
from core.chat.notices import render
from core.delivery.contract import DeliveryError, Pacing
from core.delivery.outbox import DeskRoutes, notify_customer
from core.delivery.relay import Relay, outbox_stats, retry_dead
from core.domain.config import Delivery
from core.domain.model import Status, Who
from core.i18n import translator
from core.services import Services
from core.services.news import DeskNews
from core.storage.db import Database
from core.storage.models import Customer, OutboxMessage
from tests.conftest import FakeClock, Line

FAST = Delivery(telegram_chat_interval_seconds=0, slack_channel_interval_seconds=0)


def line(sender: object, delivery: Delivery | None = None) -> Line:
    """The sender as a Telegram channel, paced as `delivery` says."""
    return Line("telegram", sender, telegram_pacing(delivery or Delivery()))


class Recorder:
    """A sender that records what it was given, and fails on demand."""

    def __init__(self, delay: float = 0.0) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail: dict[str, list[DeliveryError]] = defaultdict(list)
        self.delay = delay

    async def send(self, chat_id: str, reply: Reply) -> None:
        if self.delay:
            await asyncio.sleep(random.uniform(0, self.delay))
        if self.fail[chat_id]:
            raise self.fail[chat_id].pop(0)
        self.sent.append((chat_id, reply.text))


async def _queue(db: Database, clock: FakeClock, chats: int, per_chat: int, platform: str = "telegram") -> None:
    async with db.write() as s:
        customers = []
        for i in range(chats):
            c = Customer(platform=platform, platform_user_id=str(i), chat_id=str(1000 + i), locale="en",
                         reachable=True, created_at=clock())
            s.add(c)
            customers.append(c)
        await s.flush()
        for n in range(per_chat):
            for c in customers:
                notify_customer(s, c, "escalated", clock(), number=n, tier=2)


async def test_rolled_back_change_sends_nothing(service: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    customer = await service.customers.customer("telegram", "1", "1", "A", "en")
    agent = await service.desk.agent("slack", "U1")
    ticket = await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                       subject="s", description="d")
    original = service.steps.tell_status

    async def tell_then_fail(*args: object, **kw: object) -> None:
        await original(*args, **kw)  # type: ignore[arg-type]
        raise RuntimeError("the database went away mid-transaction")

    monkeypatch.setattr(service.steps, "tell_status", tell_then_fail)
    with pytest.raises(RuntimeError):
        await service.desk.change_status(ticket.number, Status.ACCEPTED, Who.agent(agent.id))
    sender = Recorder()
    assert await Relay(service.db, {"telegram": line(sender)}, clock=service.clock).flush() == 0
    assert sender.sent == []
    assert (await service.queries.get(ticket.number)).status == Status.NEW


async def test_a_crash_after_commit_delivers_once_after_restart(db: Database, clock: FakeClock) -> None:
    await _queue(db, clock, chats=3, per_chat=2)
    # The first process (on another machine, without a heartbeat) claims a batch, then dies
    # before sending anything.
    dead = Relay(db, {"telegram": line(Recorder(), FAST)}, delivery=FAST, clock=clock, owner="elsewhere:4242:dead0001")
    assert len(await dead.claim(10)) == 3
    restarted_sender = Recorder()
    restarted = Relay(db, {"telegram": line(restarted_sender, FAST)}, delivery=FAST, clock=clock)
    assert await restarted.flush() == 0  # the dead process's lease still holds
    clock.advance(seconds=FAST.lease_seconds + 1)
    while await restarted.flush():
        pass
    assert sorted(restarted_sender.sent) == sorted(
        (str(1000 + i), f"Ticket #{n} has been passed to our level 2 specialists so that it is solved as soon "
                        "as possible.") for i in range(3) for n in range(2))


async def test_order_per_chat_and_backoff(db: Database, clock: FakeClock) -> None:
    await _queue(db, clock, chats=2, per_chat=3)
    sender = Recorder()
    sender.fail["1000"] = [DeliveryError("502 Bad Gateway")]
    relay = Relay(db, {"telegram": line(sender, FAST)}, delivery=FAST, clock=clock)
    await relay.flush()
    assert [c for c, _ in sender.sent] == ["1001"]  # chat 1000 waits; chat 1001 does not
    while await relay.flush():
        pass
    assert [c for c, _ in sender.sent] == ["1001", "1001", "1001"]  # 1000 backs off, in order
    clock.advance(seconds=3)
    while await relay.flush():
        pass
    texts = [t for c, t in sender.sent if c == "1000"]
    assert texts == sorted(texts) and len(texts) == 3  # #0, #1, #2 in the order they were written


async def test_permanent_failure_is_a_dead_letter(service: Services, clock: FakeClock) -> None:
    service.news.desks = DeskRoutes(service.config, {"board": "C1"})
    customer = await service.customers.customer("telegram", "9", "9", "Bo", "en")
    agent = await service.desk.agent("slack", "U1")
    ticket = await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                       subject="s", description="d")
    await service.desk.assign(ticket.number, agent.id, Who.agent(agent.id))
    sender = Recorder()
    sender.fail["9"] = [DeliveryError("Forbidden: bot was blocked by the user", permanent=True)]
    relay = Relay(service.db, {"telegram": line(sender, FAST)}, desks=service.news.desks, delivery=FAST, clock=clock)
    await relay.flush()
    stats = await outbox_stats(service.db)
    assert stats[("telegram", "dead")] == 1
    async with service.db.read() as s:
        assert not (await s.get_one(Customer, customer.id)).reachable
        events = [o.event for o in (await s.execute(select(OutboxMessage).where(
            OutboxMessage.platform == "desk:board").order_by(OutboxMessage.id))).scalars()]
    assert events[-1] == "customer_unreachable"  # the agents are told in the ticket's thread
    assert await retry_dead(service.db, clock) == 1
    await relay.flush()
    assert len(sender.sent) == 1


async def test_429_waits_the_time_given(db: Database, clock: FakeClock) -> None:
    await _queue(db, clock, chats=2, per_chat=1)
    sender = Recorder()
    sender.fail["1000"] = [DeliveryError("flood", retry_after=3)]
    relay = Relay(db, {"telegram": line(sender, FAST)}, delivery=FAST, clock=clock)
    await relay.flush()
    clock.advance(seconds=2.9)
    assert await relay.flush() == 0
    clock.advance(seconds=0.2)
    assert await relay.flush() == 1


async def test_two_relays_share_the_outbox_without_duplicates(db: Database, clock: FakeClock) -> None:
    """On PostgreSQL two relays (two engines, as two processes) race for 1,000 rows. Neither is
    killed, so each row goes out once: a second copy, by either relay, is a failure."""
    if db.is_sqlite:
        pytest.skip("several relays are a PostgreSQL deployment; SQLite runs one relay")
    await _queue(db, clock, chats=100, per_chat=10)
    second = Database(db.url.render_as_string(hide_password=False))
    senders = [Recorder(delay=0.003), Recorder(delay=0.003)]
    try:
        relays = [Relay(db, {"telegram": line(senders[0], FAST)}, delivery=FAST, clock=clock),
                  Relay(second, {"telegram": line(senders[1], FAST)}, delivery=FAST, clock=clock)]

        async def run(relay: Relay) -> None:
            while await relay.flush() or await relay.pending():
                await asyncio.sleep(0)

        await _while_moving(asyncio.gather(*(run(r) for r in relays)),
                            lambda: len(senders[0].sent) + len(senders[1].sent))
    finally:
        await second.dispose()
    by_relay: dict[tuple[str, str], list[int]] = defaultdict(list)
    for n, sender in enumerate(senders):
        for message in sender.sent:
            by_relay[message].append(n)
    twice = {(chat, text[:10]): who for (chat, text), who in by_relay.items() if len(who) > 1}
    print(f"\ntwo relays: {len(by_relay)} notifications, relay A {len(senders[0].sent)} / B {len(senders[1].sent)}, "
          f"duplicates {sum(len(who) - 1 for who in by_relay.values())}, lost {1000 - len(by_relay)}")
    assert not twice, f"sent more than once, by relay: {twice}"
    assert len(by_relay) == 1000  # all of them
    assert senders[0].sent and senders[1].sent  # both took a share
    async with db.read() as s:
        assert (await s.execute(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.status == "sent"))).scalar_one() == 1000


async def _while_moving(work: Awaitable[object], progress: Callable[[], int], stalled_after: float = 60.0) -> None:
    """Await `work`, failing only if `progress` stands still for `stalled_after` seconds (a busy
    machine makes the whole slow, not stuck)."""
    task = asyncio.ensure_future(work)
    try:
        last, still = progress(), 0.0
        while not task.done():
            await asyncio.wait([task], timeout=1.0)
            now = progress()
            still = 0.0 if now != last else still + 1.0
            last = now
            if still >= stalled_after:
                raise AssertionError(f"no progress for {stalled_after:.0f} s at {now}")
        await task
    finally:
        task.cancel()


async def test_pacing_per_chat(db: Database, clock: FakeClock) -> None:
    await _queue(db, clock, chats=1, per_chat=3)
    sender = Recorder()
    relay = Relay(db, {"telegram": line(sender, Delivery())}, delivery=Delivery(), clock=clock)
    assert await relay.flush() == 1
    assert await relay.flush() == 0  # a second message to the same chat within a second: not yet
    clock.advance(seconds=1.01)
    assert await relay.flush() == 1
    unpaced = Delivery(telegram_chat_interval_seconds=0)
    group = Relay(db, {"telegram": line(sender, unpaced)}, delivery=unpaced, clock=clock)
    assert group.channels["telegram"].pacing.group_interval == 3.0
    clock.advance(seconds=timedelta(seconds=1).total_seconds())
    assert await group.flush() == 1


async def test_pacing_per_group_as_the_channel_tells_groups(db: Database, clock: FakeClock) -> None:
    """A group chat (the channel's rule says which) waits its longer interval; a private chat
    sent to at the same moment waits only its own."""
    async with db.write() as s:
        for chat in ("-100", "200"):
            c = Customer(platform="telegram", platform_user_id=chat, chat_id=chat, locale="en",
                         reachable=True, created_at=clock())
            s.add(c)
            await s.flush()
            for n in range(2):
                notify_customer(s, c, "escalated", clock(), number=n, tier=2)
    sender = Recorder()
    relay = Relay(db, {"telegram": Line("telegram", sender, Pacing(chat_interval=1.0, group_interval=3.0))},
                  delivery=Delivery(), clock=clock)
    assert await relay.flush() == 2
    clock.advance(seconds=1.01)
    assert await relay.flush() == 1 and sender.sent[-1][0] == "200"  # the group's turn is not yet
    clock.advance(seconds=2.0)
    assert await relay.flush() == 1 and sender.sent[-1][0] == "-100"


async def test_a_killed_workers_lease_is_taken_at_once(db: Database, clock: FakeClock) -> None:
    from core.delivery.inbound import InboundLog

    await _queue(db, clock, chats=2, per_chat=1)
    dead_log = InboundLog(db, clock, worker="killed-worker")
    await dead_log.beat()
    dead = Relay(db, {"telegram": line(Recorder(), FAST)}, delivery=FAST, clock=clock, owner="killed-worker")
    assert len(await dead.claim(10)) == 2  # ...and the process was killed right there
    clock.advance(seconds=11)  # no heartbeat since: the lease (60 s) need not run out
    sender = Recorder()
    assert await Relay(db, {"telegram": line(sender, FAST)}, delivery=FAST, clock=clock).flush() == 2
    assert len(sender.sent) == 2


class Held:
    """A sender whose sends stay in flight until released."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.started.append(chat_id)
        await self.release.wait()


async def _eventually(condition: Callable[[], bool]) -> None:
    for _ in range(3000):  # generous: a busy machine
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met")


async def _status(db: Database) -> list[tuple[str, str | None]]:
    async with db.read() as s:
        return [(r.status, r.lease_owner) for r in (await s.execute(
            select(OutboxMessage).order_by(OutboxMessage.id))).scalars()]


async def test_a_send_in_flight_is_never_sent_again_while_its_worker_lives(
        db: Database, clock: FakeClock) -> None:
    """Its lease runs out while the send is in flight: neither its own relay nor another takes it
    while its worker beats."""
    from core.delivery.inbound import InboundLog

    await _queue(db, clock, chats=1, per_chat=1)
    owner = "far-host:77:beating1"
    worker = InboundLog(db, clock, worker=owner)
    await worker.beat()
    held = Held()
    first = Relay(db, {"telegram": line(held, FAST)}, delivery=FAST, clock=clock, owner=owner)
    sending = asyncio.create_task(first.flush())
    await _eventually(lambda: held.started == ["1000"])
    clock.advance(seconds=FAST.lease_seconds + 1)
    await worker.beat()  # alive: its heartbeat goes on
    other_sender = Recorder()
    other = Relay(db, {"telegram": line(other_sender, FAST)}, delivery=FAST, clock=clock)
    assert await other.flush() == 0
    assert await first.flush() == 0  # its own relay, in a second pass, leaves the send in hand alone
    assert other_sender.sent == [] and held.started == ["1000"]
    held.release.set()
    assert await sending == 1
    assert await _status(db) == [("sent", None)]
    clock.advance(seconds=FAST.lease_seconds + 1)
    assert await other.flush() == 0 and other_sender.sent == []


async def test_a_sent_mark_that_failed_is_written_later_and_not_sent_again(
        db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    await _queue(db, clock, chats=1, per_chat=1)
    sender = Recorder()
    relay = Relay(db, {"telegram": line(sender, FAST)}, delivery=FAST, clock=clock)

    async def database_gone(*args: object, **kw: object) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(relay, "_mark", database_gone)
    assert await relay.flush() == 1
    assert await _status(db) == [("sending", relay.owner)]
    monkeypatch.undo()
    clock.advance(seconds=FAST.lease_seconds + 1)  # its lease ran out meanwhile: still held here
    assert await relay.flush() == 0
    assert len(sender.sent) == 1
    assert await _status(db) == [("sent", None)]


async def test_a_row_left_by_a_failed_record_is_sent_by_its_own_relay_after_the_lease(
        db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A send that failed, whose failure could not be written: the row is held by this relay
    but not in hand; it goes out again once its lease ran out (the first attempt failed)."""
    await _queue(db, clock, chats=1, per_chat=1)
    sender = Recorder()
    sender.fail["1000"] = [DeliveryError("502 Bad Gateway")]
    relay = Relay(db, {"telegram": line(sender, FAST)}, delivery=FAST, clock=clock)

    async def database_gone(*args: object, **kw: object) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(relay, "_mark", database_gone)
    with pytest.raises(ConnectionError):
        await relay.flush()
    monkeypatch.undo()
    assert await relay.flush() == 0  # leased still
    clock.advance(seconds=FAST.lease_seconds + 1)
    assert await relay.flush() == 1 and len(sender.sent) == 1


async def test_woken_when_queued_news_commits_and_only_then(db: Database, clock: FakeClock) -> None:
    relay = Relay(db, {"telegram": line(Recorder(), FAST)}, delivery=FAST, clock=clock)
    async with db.write() as s:  # a change without news: the relay is left alone
        s.add(Customer(platform="telegram", platform_user_id="quiet", chat_id="1", locale="en",
                       reachable=True, created_at=clock()))
    assert not relay.wake.is_set()
    with pytest.raises(RuntimeError):
        async with db.write() as s:  # news rolled back: nothing to deliver
            customer = (await s.execute(select(Customer))).scalar_one()
            notify_customer(s, customer, "escalated", clock(), number=1, tier=2)
            raise RuntimeError("rolled back")
    assert not relay.wake.is_set()
    async with db.unit():  # news inside a unit of work: woken once the unit commits
        async with db.write() as s:
            customer = (await s.execute(select(Customer))).scalar_one()
            notify_customer(s, customer, "escalated", clock(), number=1, tier=2)
        assert not relay.wake.is_set()
    assert relay.wake.is_set()


class SlowDesk:
    """A desk that takes its time over each row, as a group with a few messages a minute does."""

    interval = 0.0

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.delivered: list[tuple[str, int | None]] = []
        self.chats: list[object] = []  # the chat a row of no ticket names

    async def deliver(self, event: str, params: dict[str, object], ticket_id: int | None) -> None:
        await self.release.wait()
        self.delivered.append((event, ticket_id))
        self.chats.append(params.get("chat"))


async def test_each_desk_gets_the_news_and_a_slow_one_holds_no_customer_up(
        service: Services, clock: FakeClock) -> None:
    service.news.desks = DeskRoutes(service.config, {"board": "C1", "wall": "-100"})
    customer = await service.customers.customer("telegram", "9", "9", "Bo", "en")
    ticket = await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                               subject="s", description="d")
    board, wall, sender = SlowDesk(), SlowDesk(), Recorder()
    board.release.set()
    relay = Relay(service.db, {"telegram": line(sender, FAST), "board": Line("board", Recorder(), desk=board),
                               "wall": Line("wall", Recorder(), desk=wall)},
                  desks=service.news.desks, delivery=FAST, clock=clock)
    await relay.flush()
    await asyncio.sleep(0)
    await service.desk.add_agent_message((await service.desk.agent("board", "U1")).id, ticket.number, "Hi")
    await relay.flush()  # the wall's first row still in hand: the customer's reply goes all the same
    assert [c for c, _ in sender.sent] == ["9"]
    await asyncio.sleep(0.05)
    assert board.delivered[:2] == [("ticket_opened", ticket.id), ("agent_message", ticket.id)]
    assert wall.delivered == []
    wall.release.set()
    await relay.drain(timeout=5)
    assert wall.delivered == board.delivered  # the same news, in the same order, each once
    async with service.db.read() as s:
        rows = (await s.execute(select(OutboxMessage.platform, OutboxMessage.chat_id).where(
            OutboxMessage.platform.like("desk:%")).order_by(OutboxMessage.id))).all()
    assert sorted(set(rows)) == [("desk:board", "C1"), ("desk:wall", "-100")]  # each desk's own chat


def test_a_department_shows_on_its_own_chat_of_a_desk(service: Services) -> None:
    config = service.config.model_copy(update={"departments": [
        service.config.departments[0].model_copy(update={"desks": {"wall": "-200"}}),
        *service.config.departments[1:]]})
    routes = DeskRoutes(config, {"wall": "-100", "board": None})
    own, other = config.departments[0].code, config.departments[1].code
    assert routes.chats(own) == [("desk:wall", "-200")]  # the board has no chat for it: not shown there
    assert routes.chats(other) == [("desk:wall", "-100")]
    assert not DeskRoutes(config) and routes


SET_ASIDE = {"place": "the Quarantine folder", "reason": "unreadable", "sender": "a@example.com",
             "subject": "Help"}


async def test_news_of_no_ticket_reaches_every_desk_once(service: Services, clock: FakeClock) -> None:
    service.news.desks = DeskRoutes(service.config, {"board": "C1", "wall": "-100"})
    await service.desk.tell_agents(DeskNews.SET_ASIDE, **SET_ASIDE)
    async with service.db.read() as s:
        rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars().all()
    assert [(r.platform, r.chat_id, r.event) for r in rows] == [
        ("desk:board", "C1", "set_aside"), ("desk:wall", "-100", "set_aside")]
    assert all(r.ticket_id is None and r.customer_id is None for r in rows)
    assert rows[0].params == {**SET_ASIDE, "chat": "C1"}
    board, wall = SlowDesk(), SlowDesk()
    board.release.set()
    wall.release.set()
    relay = Relay(service.db, {"board": Line("board", Recorder(), desk=board),
                               "wall": Line("wall", Recorder(), desk=wall)},
                  desks=service.news.desks, delivery=FAST, clock=clock)
    await relay.drain(timeout=5)
    assert board.delivered == wall.delivered == [("set_aside", None)]
    assert (board.chats, wall.chats) == (["C1"], ["-100"])
    assert (await outbox_stats(service.db)) == {("desk:board", "sent"): 1, ("desk:wall", "sent"): 1}


async def test_news_of_no_ticket_without_a_desk_queues_nothing(service: Services) -> None:
    assert not service.news.desks
    await service.desk.tell_agents(DeskNews.SET_ASIDE, **SET_ASIDE)
    async with service.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 0


def test_a_desk_without_a_default_chat_hears_news_of_no_ticket_in_its_departments_chats(
        service: Services) -> None:
    first, second, *rest = service.config.departments
    config = service.config.model_copy(update={"departments": [
        first.model_copy(update={"desks": {"board": "C7"}}),
        second.model_copy(update={"desks": {"board": "C8", "wall": "-200"}}),
        *(d.model_copy(update={"desks": {"board": "C7"}}) for d in rest)]})
    assert rest, "the default configuration has a third department"
    routes = DeskRoutes(config, {"board": None, "wall": "-100", "shelf": None})
    # The board's chats, each once; the wall's default only; the shelf shows nothing, hears nothing.
    assert routes.every_desk() == [("desk:board", "C7"), ("desk:board", "C8"), ("desk:wall", "-100")]


async def test_a_language_no_longer_offered_is_rendered_in_the_default(db: Database, clock: FakeClock) -> None:
    await _queue(db, clock, chats=1, per_chat=1)  # a customer who chose English
    sender = Recorder()
    relay = Relay(db, {"telegram": line(sender, FAST)}, delivery=FAST, clock=clock, languages=("cs", "fa"))
    await relay.flush()
    assert sender.sent == [("1000", render(translator("cs"), "escalated", {"number": 0, "tier": 2}).text)]
