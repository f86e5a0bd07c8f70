"""The ticket service on SQLite and PostgreSQL: opening, messages, lifecycle, views, errors."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from core.domain.errors import (
    EmptyField,
    FieldTooLong,
    HandoverRequired,
    IllegalTransition,
    NotYourTicket,
    ReopenWindowPassed,
    TicketNotFound,
    TopTierReached,
    UnknownDepartment,
    UnknownRequestType,
)
from core.domain.handover import Handover
from core.domain.model import NewAttachment, Status, TicketFilter, Who
from core.services import Services
from core.storage.models import Attachment, OutboxMessage, StatusChange, Ticket, TicketMessage
from tests.conftest import FakeClock


async def _customer(service: Services, uid: str = "100"):
    return await service.customers.customer("telegram", uid, uid, "Ali", "fa")


async def _open(service: Services, customer_id: int, **kw):
    fields = {
        "department": "technical",
        "request_type": "bug",
        "subject": "Login fails",
        "description": "Since this morning the login page says 500.",
    }
    fields.update(kw)
    return await service.tickets.open_ticket(customer_id, **fields)


async def _count(service: Services, model) -> int:
    async with service.db.read() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_numbers_start_at_1001_and_increase(service: Services) -> None:
    c = await _customer(service)
    first = await _open(service, c.id)
    second = await _open(service, c.id, subject="Another")
    assert (first.number, second.number) == (1001, 1002)
    assert first.status == Status.NEW and first.tier == 1
    assert first.first_response_due is not None and first.first_response_due > first.created_at


async def test_concurrent_openings_get_unique_numbers(service: Services) -> None:
    customers = [await _customer(service, str(i)) for i in range(10)]
    tickets = await asyncio.gather(
        *(_open(service, customers[i % 10].id, subject=f"s{i}") for i in range(30))
    )
    numbers = [t.number for t in tickets]
    assert len(set(numbers)) == 30 and sorted(numbers) == list(range(1001, 1031))


async def test_the_number_is_the_one_stored_and_told(db, config, clock) -> None:
    """The row, the object and the desk's card all carry the number, and a refused opening
    leaves neither a ticket nor a used number."""
    service = Services.build(db, config, clock, desks={"board": "C1"})
    c = await _customer(service)
    ticket = await _open(service, c.id)
    async with db.read() as s:
        stored = (await s.execute(select(Ticket.number))).scalars().all()
        card = (await s.execute(
            select(OutboxMessage.params).where(OutboxMessage.event == "ticket_opened"))).scalar_one()
    assert stored == [ticket.number] == [1001] and card["number"] == 1001
    with pytest.raises(UnknownDepartment):
        await _open(service, c.id, department="nowhere")
    assert (await _open(service, c.id, subject="Next")).number == 1002


async def test_on_postgresql_an_opening_waits_for_no_other(db, config, clock) -> None:
    """On PostgreSQL a number comes from a sequence, which no transaction holds: a ticket can be
    opened while another process's opening has not committed yet (with a counter row, the
    second waited for the first's commit, and a wave of submitted forms queued there)."""
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: every opening waits for the last by design")
    service = Services.build(db, config, clock)
    alice, bob = await _customer(service, "1"), await _customer(service, "2")
    opened, release = asyncio.Event(), asyncio.Event()

    async def slow() -> int:
        async with db.unit():
            ticket = await _open(service, alice.id)
            opened.set()
            await release.wait()
        return ticket.number

    first = asyncio.create_task(slow())
    await opened.wait()
    try:
        second = await asyncio.wait_for(_open(service, bob.id, subject="Meanwhile"), 10)
    finally:
        release.set()
    assert (await first, second.number) == (1001, 1002)


async def test_numbers_continue_from_the_counter_after_the_upgrade(db, config, clock) -> None:
    """A database numbered by the counter before revision 0010 goes on from where it stood."""
    if db.is_sqlite:
        pytest.skip("SQLite keeps the counter: there is nothing to carry over")
    from sqlalchemy import text

    from core.storage.migrate import upgrade

    async with db.engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(db, "0009")
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE counters SET value = 1500 WHERE name = 'ticket'"))
    await upgrade(db)
    service = Services.build(db, config, clock)
    c = await _customer(service)
    assert (await _open(service, c.id)).number == 1501


async def test_priority_rules(service: Services) -> None:
    c = await _customer(service)
    critical = await _open(service, c.id, request_type="bug_critical", priority="low")
    change = await _open(service, c.id, request_type="change")
    chosen = await _open(service, c.id, request_type="consultation", priority="high")
    assert critical.priority == "urgent"  # a critical bug is always urgent
    assert change.priority == "low"  # change requests default to low (Czech seed)
    assert chosen.priority == "high"


async def test_opening_stores_attachments_and_history(service: Services) -> None:
    c = await _customer(service)
    att = NewAttachment("log.txt", "text/plain", 12, "ab" * 32, "/tmp/x/log.txt", "tg-file-1")
    t = await _open(service, c.id, attachments=[att])
    stored = await service.queries.attachments(t.id)
    assert [(a.filename, a.size, a.platform_file_id) for a in stored] == [("log.txt", 12, "tg-file-1")]
    history = await service.queries.history(t.id)
    assert [(h.from_status, h.to_status, h.actor) for h in history] == [(None, "new", "customer")]


@pytest.mark.parametrize(
    ("fields", "error", "code"),
    [
        ({"subject": "   "}, EmptyField, "empty_field"),
        ({"description": "\n\t "}, EmptyField, "empty_field"),
        ({"subject": "x" * 121}, FieldTooLong, "field_too_long"),
        ({"description": "x" * 4001}, FieldTooLong, "field_too_long"),
        ({"department": "astrology"}, UnknownDepartment, "unknown_department"),
        ({"request_type": "wish"}, UnknownRequestType, "unknown_request_type"),
    ],
)
async def test_bad_input_writes_nothing(service: Services, fields, error, code) -> None:
    c = await _customer(service)
    with pytest.raises(error) as info:
        await _open(service, c.id, **fields)
    assert info.value.code == code
    assert await _count(service, Ticket) == 0
    assert await _count(service, StatusChange) == 0


async def test_limits_are_inclusive(service: Services) -> None:
    c = await _customer(service)
    t = await _open(service, c.id, subject="s" * 120, description="d" * 4000)
    assert len(t.subject) == 120


async def test_lookups_are_scoped_to_the_requester(service: Services) -> None:
    alice, bob = await _customer(service, "1"), await _customer(service, "2")
    t = await _open(service, alice.id)
    assert (await service.queries.get_for_customer(alice.id, t.number)).id == t.id
    with pytest.raises(NotYourTicket) as info:
        await service.queries.get_for_customer(bob.id, t.number)
    assert info.value.code == "ticket_not_found"  # indistinguishable from a missing one
    with pytest.raises(TicketNotFound):
        await service.queries.get_for_customer(alice.id, 999999)
    with pytest.raises(NotYourTicket):
        await service.tickets.add_customer_message(bob.id, t.number, "let me in")
    with pytest.raises(NotYourTicket):
        await service.tickets.change_status(t.number, Status.CLOSED, Who.customer(bob.id))
    assert await _count(service, TicketMessage) == 0


async def test_conversation_moves_the_ticket(service: Services, clock: FakeClock) -> None:
    c = await _customer(service)
    agent = await service.desk.agent("slack", "U1", "Eva")
    t = await _open(service, c.id)
    t = await service.desk.assign(t.number, agent.id, Who.agent(agent.id))
    assert t.status == Status.ACCEPTED and t.assignee_id == agent.id
    clock.advance(hours=1)
    t = await service.desk.add_agent_message(agent.id, t.number, "Which browser do you use?")
    assert t.status == Status.WAITING and t.first_response_at == clock.now and t.waiting_since is None
    clock.advance(hours=1)
    t = await service.tickets.add_customer_message(c.id, t.number, "Firefox")
    assert t.status == Status.ACCEPTED and t.waiting_since == clock.now
    await service.desk.add_agent_message(agent.id, t.number, "note: check the proxy", internal=True)
    assert [m.kind for m in await service.queries.thread(t.id)] == ["agent", "customer"]
    assert len(await service.queries.thread(t.id, internal=True)) == 3
    t = await service.desk.change_status(t.number, Status.RESOLVED, Who.agent(agent.id), "fixed")
    assert t.resolved_at == clock.now
    t = await service.tickets.change_status(t.number, Status.CLOSED, Who.customer(c.id), "confirmed")
    assert t.status == Status.CLOSED and t.closed_at == clock.now
    async with service.db.read() as s:
        events = [(o.event, o.params.get("new")) for o in (await s.execute(
            select(OutboxMessage).order_by(OutboxMessage.id))).scalars()]
    # The customer hears of what others did, not of their own confirmation; then is asked for a rating.
    assert events == [
        ("status_changed", "accepted"), ("agent_reply", None), ("status_changed", "resolved"),
        ("rating_request", None),
    ]


async def test_customer_reply_to_resolved_ticket_disputes_it(service: Services) -> None:
    c = await _customer(service)
    agent = await service.desk.agent("slack", "U1")
    t = await _open(service, c.id)
    await service.desk.change_status(t.number, Status.RESOLVED, Who.agent(agent.id))
    t = await service.tickets.add_customer_message(c.id, t.number, "Still broken")
    assert t.status == Status.ACCEPTED and t.resolved_at is None


async def test_reopen_window(service: Services, clock: FakeClock) -> None:
    c = await _customer(service)
    t = await _open(service, c.id)
    await service.tickets.change_status(t.number, Status.CLOSED, Who.customer(c.id), "withdrawn")
    clock.advance(days=6)
    t = await service.tickets.add_customer_message(c.id, t.number, "Actually, it is back")
    assert t.status == Status.ACCEPTED
    await service.tickets.change_status(t.number, Status.CLOSED, Who.customer(c.id), "withdrawn")
    clock.advance(days=8)
    before = await _count(service, TicketMessage)
    with pytest.raises(ReopenWindowPassed):
        await service.tickets.add_customer_message(c.id, t.number, "And again")
    assert await _count(service, TicketMessage) == before
    linked = await _open(service, c.id, linked_to=t.number)
    assert linked.linked_ticket_id == t.id


async def test_illegal_transition_rolls_back_everything(service: Services) -> None:
    c = await _customer(service)
    t = await _open(service, c.id)
    with pytest.raises(IllegalTransition):
        await service.tickets.change_status(t.number, Status.RESOLVED, Who.customer(c.id))
    with pytest.raises(IllegalTransition):
        await service.desk.change_status(t.number, Status.CLOSED, Who.system())
    assert (await service.queries.get(t.number)).status == Status.NEW
    assert await _count(service, OutboxMessage) == 0
    assert await _count(service, StatusChange) == 1


async def test_escalation_goes_up_to_l3(service: Services) -> None:
    c = await _customer(service)
    agent = await service.desk.agent("slack", "U1")
    t = await _open(service, c.id)
    assert (await service.desk.escalate(t.number, Who.agent(agent.id))).tier == 2
    with pytest.raises(HandoverRequired):  # an agent hands a ticket to L3 over with what L3 needs
        await service.desk.escalate(t.number, Who.agent(agent.id), "needs a developer")
    handover = Handover("the logs", "log in as ana", "that a developer will look")
    assert (await service.desk.escalate(t.number, Who.agent(agent.id), "", handover)).tier == 3
    with pytest.raises(TopTierReached):
        await service.desk.escalate(t.number, Who.agent(agent.id), "", handover)
    assert (await service.queries.get(t.number)).tier == 3


async def test_customer_views(service: Services) -> None:
    c = await _customer(service)
    agent = await service.desk.agent("slack", "U1")
    a = await _open(service, c.id, subject="a")
    b = await _open(service, c.id, subject="b")
    await service.desk.change_status(b.number, Status.RESOLVED, Who.agent(agent.id))
    d = await _open(service, c.id, subject="d")
    await service.tickets.change_status(d.number, Status.CLOSED, Who.customer(c.id))
    views = {v: [t.number for t in await service.queries.list_for_customer(c.id, v)] for v in TicketFilter}
    assert views[TicketFilter.ALL] == [d.number, b.number, a.number]
    assert views[TicketFilter.OPEN] == [a.number]
    assert views[TicketFilter.DONE] == [d.number, b.number]


async def test_queue_order_and_views(service: Services, clock: FakeClock) -> None:
    c1, c2 = await _customer(service, "1"), await _customer(service, "2")
    agent = await service.desk.agent("slack", "U1")
    first = await _open(service, c1.id, subject="first")
    clock.advance(minutes=5)
    second = await _open(service, c2.id, subject="second", department="billing")
    clock.advance(minutes=5)
    # Writing again does not push the first ticket back in the queue.
    await service.tickets.add_customer_message(c1.id, first.number, "any news?")
    await service.tickets.add_customer_message(c1.id, first.number, "hello??")
    assert [t.number for t in await service.queries.queue()] == [first.number, second.number]
    # Once answered, it waits for no one and goes behind the unanswered ones.
    await service.desk.add_agent_message(agent.id, first.number, "Looking into it")
    assert [t.number for t in await service.queries.queue()] == [second.number, first.number]
    assert [t.number for t in await service.queries.queue(department="billing")] == [second.number]
    await service.desk.assign(second.number, agent.id, Who.agent(agent.id))
    assert [t.number for t in await service.queries.queue(unassigned=True)] == [first.number]
    assert [t.number for t in await service.queries.queue(assignee_id=agent.id)] == [second.number]
    with pytest.raises(UnknownDepartment):
        await service.queries.queue(department="nope")


async def test_customer_identity_is_stable(service: Services) -> None:
    a = await service.customers.customer("telegram", "7", "7", "Jana", "cs")
    await service.customers.mark_unreachable(a.id)
    b = await service.customers.customer("telegram", "7", "7", "Jana", "cs")
    assert a.id == b.id and b.reachable
    other = await service.customers.customer("slack", "7", "D7", "Jana")
    assert other.id != a.id
    await service.customers.set_locale(a.id, "ru")
    assert (await service.customers.customer("telegram", "7", "7")).locale == "ru"


async def test_attachment_only_message(service: Services) -> None:
    c = await _customer(service)
    t = await _open(service, c.id)
    att = NewAttachment("s.png", "image/png", 3, "cd" * 32, "/tmp/s.png")
    await service.tickets.add_customer_message(c.id, t.number, "", [att])
    assert await _count(service, Attachment) == 1
    with pytest.raises(EmptyField):
        await service.tickets.add_customer_message(c.id, t.number, "  ")
