"""SLA arithmetic: due and warning times, the pause while waiting for the customer, reminders.

Pure functions over a ticket's fields and its department's calendar; the ticket service calls
them inside its transactions, the timers sweep by the times they set.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.domain import business_time
from core.domain.config import Calendar, HelpdeskConfig, SlaPolicy
from core.domain.model import Status
from core.storage.models import Ticket


def _span(cal: Calendar, policy: SlaPolicy, start: datetime, end: datetime) -> timedelta:
    return business_time.business_time_between(cal, start, end) if policy.business_time else end - start


def _add(cal: Calendar, policy: SlaPolicy, start: datetime, amount: timedelta) -> datetime:
    return business_time.add_business_time(cal, start, amount) if policy.business_time else start + amount


def plan(ticket: Ticket, config: HelpdeskConfig) -> None:
    """Set the first-response and resolution due and warning times from the ticket's opening."""
    cal = config.calendar_of(ticket.department)
    priority = config.priority(ticket.priority)
    assert priority is not None
    policy, share, opened = priority.sla, config.lifecycle.warn_share, ticket.created_at
    ticket.first_response_due = business_time.first_response_due(cal, policy, opened)
    ticket.resolution_due = business_time.resolution_due(cal, policy, opened)
    ticket.first_response_warn_at = _add(
        cal, policy, opened, _span(cal, policy, opened, ticket.first_response_due) * share)
    ticket.resolution_warn_at = _add(cal, policy, opened, _span(cal, policy, opened, ticket.resolution_due) * share)


def add_business_days(cal: Calendar, start: datetime, days: int) -> datetime:
    """The same time of day `days` working days later (a day counts when it has working hours)."""
    local = start.astimezone(cal.zone)
    day, counted = local.date(), 0
    for _ in range(3660):
        day += timedelta(days=1)
        if cal.ranges_for(day):
            counted += 1
            if counted == days:
                return datetime.combine(day, local.time(), cal.zone)
    raise ValueError("the calendar has no working days")


def on_transition(ticket: Ticket, current: Status, target: Status, now: datetime, config: HelpdeskConfig) -> None:
    """Pause and resume the resolution clock; arm and disarm the reminder and the auto-close."""
    cal = config.calendar_of(ticket.department)
    priority = config.priority(ticket.priority)
    assert priority is not None
    policy = priority.sla
    if current == Status.WAITING and ticket.paused_at is not None:
        paused = _span(cal, policy, ticket.paused_at, now)
        if ticket.resolution_due is not None:
            ticket.resolution_due = _add(cal, policy, ticket.resolution_due, paused)
        if ticket.resolution_warn_at is not None:
            ticket.resolution_warn_at = _add(cal, policy, ticket.resolution_warn_at, paused)
        ticket.paused_at = None
        ticket.reminder_due_at = None
    if target == Status.WAITING:
        ticket.paused_at = now
        ticket.reminder_due_at = add_business_days(cal, now, config.lifecycle.reminder_business_days)
        ticket.reminded_at = None
    if target == Status.RESOLVED:
        ticket.auto_close_at = now + timedelta(days=config.lifecycle.auto_close_days)
    elif current == Status.RESOLVED:
        ticket.auto_close_at = None


def promised_first_response(ticket: Ticket, config: HelpdeskConfig) -> datetime:
    """The first response as the customer is promised it: the due time when the office is open
    then; when the wall-clock ceiling put it where the office is closed, the due time the
    working hours give (or, counted in calendar time, the next opening). The ceiling itself
    stays on the ticket and still warns and escalates inside."""
    assert ticket.first_response_due is not None
    due, cal = ticket.first_response_due, config.calendar_of(ticket.department)
    if business_time.next_opening(cal, due) == due:
        return due
    priority = config.priority(ticket.priority)
    if priority is not None and priority.sla.business_time:
        hours = timedelta(hours=priority.sla.first_response_hours)
        return business_time.add_business_time(cal, ticket.created_at, hours)
    return business_time.next_opening(cal, due)


def promise_broken(ticket: Ticket, config: HelpdeskConfig, now: datetime) -> bool:
    """The customer waited past the first response promised to them: only then may they ask
    for escalation (the ceiling may have escalated inside already, while the office was shut)."""
    return first_response_overdue(ticket, now) and now > promised_first_response(ticket, config)


def first_response_overdue(ticket: Ticket, now: datetime) -> bool:
    return ticket.first_response_at is None and ticket.first_response_due is not None \
        and now > ticket.first_response_due and ticket.status in (Status.NEW, Status.ACCEPTED)
