"""SLA timers with a controllable clock: warning, breach, escalation, reminder, auto-close, rating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.delivery.outbox import DeskRoutes
from core.domain.config import HelpdeskConfig
from core.domain.errors import EscalationTooEarly
from core.domain.model import Status, Who
from core.domain.sla import add_business_days
from core.services import Services
from core.services.timers import Timers
from core.storage.models import OutboxMessage, Rating
from tests.conftest import FakeClock

MONDAY_9_PRAGUE = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


async def _events(service: Services) -> list[tuple[str, str, dict]]:
    async with service.db.read() as s:
        rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        return [(o.platform, o.event, o.params) for o in rows]


async def _open(service: Services, priority: str = "normal"):
    customer = await service.customers.customer("telegram", "5", "5", "Eva", "cs")
    ticket = await service.tickets.open_ticket(customer.id, department="technical", request_type="consultation",
                                       subject="Invoice", description="Where is it?", priority=priority)
    return customer, ticket


async def test_due_and_warning_times(service: Services) -> None:
    _, ticket = await _open(service)
    # 16 business hours from Monday 9:00 in Prague, Tuesday 17 November being a Czech holiday:
    # Wednesday 17:00 (16:00 UTC); 75 % of it: Wednesday 13:00.
    assert ticket.first_response_due == datetime(2026, 11, 18, 16, 0, tzinfo=UTC)
    assert ticket.first_response_warn_at == datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    # 40 business hours: the next Monday 17:00; 30 of them: Friday 15:00.
    assert ticket.resolution_due == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert ticket.resolution_warn_at == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


async def test_the_clock_pauses_while_waiting_for_the_customer(service: Services, clock: FakeClock) -> None:
    customer, ticket = await _open(service)
    agent = await service.desk.agent("slack", "U1")
    clock.advance(hours=1)
    await service.desk.add_agent_message(agent.id, ticket.number, "Which invoice?")  # waiting from Mon 10:00
    waiting = await service.queries.get(ticket.number)
    assert waiting.paused_at == clock.now and waiting.reminder_due_at is not None
    clock.advance(days=2)  # Wednesday 10:00, past the holiday: 7 + 1 = 8 business hours later
    resumed = await service.tickets.add_customer_message(customer.id, ticket.number, "November's")
    assert resumed.status == Status.ACCEPTED and resumed.paused_at is None
    assert resumed.resolution_due == ticket.resolution_due + timedelta(days=1)  # Mon 17:00 -> Tue 17:00
    assert resumed.reminder_due_at is None


async def test_calendar_time_for_urgent(service: Services) -> None:
    _, ticket = await _open(service, priority="urgent")
    assert ticket.first_response_due == MONDAY_9_PRAGUE + timedelta(hours=2)
    assert ticket.first_response_warn_at == MONDAY_9_PRAGUE + timedelta(hours=1, minutes=30)


async def test_the_whole_chain(service: Services, clock: FakeClock, config: HelpdeskConfig) -> None:
    service.news.desks = DeskRoutes(service.config, {"board": "C1"})
    timers = Timers(service)
    customer, ticket = await _open(service)
    assert await timers.sweep() == dict.fromkeys(
        ("first_response_warning", "first_response_breach", "resolution_warning", "resolution_breach",
         "reminder", "auto_close"), 0)
    with pytest.raises(EscalationTooEarly):
        await service.tickets.request_escalation(customer.id, ticket.number)

    clock.now = datetime(2026, 11, 18, 12, 1, tzinfo=UTC)  # 75 % of the first-response time
    assert (await timers.sweep())["first_response_warning"] == 1
    assert (await timers.sweep())["first_response_warning"] == 0  # once
    assert (await _events(service))[-1][:2] == ("desk:board", "sla_warning")

    clock.now = datetime(2026, 11, 18, 16, 1, tzinfo=UTC)  # breach: up to L2, customer told plainly
    assert (await timers.sweep())["first_response_breach"] == 1
    assert (await service.queries.get(ticket.number)).tier == 2
    events = await _events(service)
    assert ("telegram", "escalated") in [(p, e) for p, e, _ in events]
    desk = [p for pl, e, p in events if pl == "desk:board" and e == "escalated"]
    assert desk[-1]["reason"] == "first_response_overdue" and desk[-1]["actor"] == "system"

    # The customer may now ask for escalation: overdue, never earlier. L3 is the top.
    await service.tickets.request_escalation(customer.id, ticket.number)
    assert (await service.queries.get(ticket.number)).tier == 3

    agent = await service.desk.agent("slack", "U1")
    await service.desk.add_agent_message(agent.id, ticket.number, "Found it, sending it now. Did it arrive?")
    clock.now = datetime(2026, 11, 23, 16, 2, tzinfo=UTC)  # Monday: three business days waiting
    assert (await timers.sweep())["reminder"] == 1
    assert (await _events(service))[-1][1] == "reminder"
    assert (await timers.sweep())["reminder"] == 0

    await service.desk.change_status(ticket.number, Status.RESOLVED, Who.agent(agent.id))
    clock.advance(days=5, minutes=1)  # no answer for auto_close_days
    assert (await timers.sweep())["auto_close"] == 1
    closed = await service.queries.get(ticket.number)
    assert closed.status == Status.CLOSED
    events = await _events(service)
    customer_events = [(e, p.get("reason")) for pl, e, p in events if pl == "telegram"]
    assert customer_events[-2:] == [("status_changed", "auto_closed"), ("rating_request", None)]

    await service.tickets.rate(customer.id, ticket.number, 4, "Slow, but fine")
    async with service.db.read() as s:
        rating = await s.get_one(Rating, closed.id)
    assert (rating.score, rating.comment, rating.agent_id) == (4, "Slow, but fine", closed.assignee_id)


async def test_resolution_breach_and_top_tier(service: Services, clock: FakeClock) -> None:
    service.news.desks = DeskRoutes(service.config, {"board": "C1"})
    timers = Timers(service)
    _, ticket = await _open(service, priority="urgent")  # calendar time: 2 h first response, 8 h resolution
    clock.advance(hours=8, minutes=1)
    fired = await timers.sweep()
    assert fired["first_response_breach"] == 1 and fired["resolution_breach"] == 1
    assert (await service.queries.get(ticket.number)).tier == 3  # two breaches, two tiers
    other_customer, other = await _open(service, priority="urgent")
    await service.desk.escalate(other.number, Who.system())
    await service.desk.escalate(other.number, Who.system())
    clock.advance(hours=3)
    await timers.sweep()
    assert [e for pl, e, p in await _events(service) if pl == "desk:board" and p["number"] == other.number][-1] \
        == "sla_breach"


async def test_a_restart_loses_no_timer_and_fires_none_twice(service: Services, clock: FakeClock,
                                                              config: HelpdeskConfig) -> None:
    _, ticket = await _open(service)
    clock.now = datetime(2026, 11, 18, 12, 1, tzinfo=UTC)
    assert (await Timers(service).sweep())["first_response_warning"] == 1
    # "Restart": new service and timers on the same database, later in time.
    clock.now = datetime(2026, 11, 18, 16, 1, tzinfo=UTC)
    fresh = Services.build(service.db, config, clock)
    fired = await Timers(fresh).sweep()
    assert fired["first_response_warning"] == 0 and fired["first_response_breach"] == 1
    assert (await Timers(fresh).sweep())["first_response_breach"] == 0


def test_business_days(config: HelpdeskConfig) -> None:
    cal = config.calendars["office"]
    friday = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)
    # Three working days after Friday 18 Dec: Mon 21, Tue 22, Wed 23 (24-26 are Czech holidays).
    assert add_business_days(cal, friday, 3) == datetime(2026, 12, 23, 15, 0, tzinfo=UTC)
    assert add_business_days(cal, friday, 4) == datetime(2026, 12, 28, 15, 0, tzinfo=UTC)
    iran = config.calendars["iran"]
    wednesday = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    assert add_business_days(iran, wednesday, 2).date().isoformat() == "2026-11-21"  # Thu, then Sat
