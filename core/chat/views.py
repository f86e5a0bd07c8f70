"""How tickets, statuses and errors read to a customer, in the customer's language."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.chat import actions as act
from core.chat.messages import Choice
from core.delivery.attachments import MAX_FILES
from core.domain.access import Deed
from core.domain.config import HelpdeskConfig
from core.domain.errors import DomainError
from core.domain.model import TIERS, Status, TicketFilter
from core.domain.sla import promise_broken, promised_first_response
from core.i18n import Translator
from core.storage.models import Customer, Ticket, TicketMessage


def status_name(t: Translator, status: str) -> str:
    names = {
        Status.NEW: t._("New"),
        Status.ACCEPTED: t._("In progress"),
        Status.WAITING: t._("Waiting for your reply"),
        Status.RESOLVED: t._("Resolved, awaiting your confirmation"),
        Status.CLOSED: t._("Closed"),
    }
    return names.get(Status(status), status)


def explain(t: Translator, error: DomainError) -> str:
    """A domain error as a sentence for the customer."""
    p = error.params
    match error.code:
        case "empty_field":
            return {
                "subject": t._("The subject cannot be empty. Please write a few words."),
                "description": t._("The description cannot be empty. Please describe the problem."),
            }.get(p["field"], t._("The message cannot be empty. Please write something."))
        case "field_too_long":
            n, length = p["limit"], t.number(p["length"])
            if p["field"] == "subject":
                return t.ngettext(
                    "The subject is too long: at most {n} character is allowed, yours has {length}.",
                    "The subject is too long: at most {n} characters are allowed, yours has {length}.",
                    n, length=length)
            if p["field"] == "description":
                return t.ngettext(
                    "The description is too long: at most {n} character is allowed, yours has {length}.",
                    "The description is too long: at most {n} characters are allowed, yours has {length}.",
                    n, length=length)
            return t.ngettext(
                "The message is too long: at most {n} character is allowed, yours has {length}.",
                "The message is too long: at most {n} characters are allowed, yours has {length}.",
                n, length=length)
        case "ticket_not_found":
            return t._("Ticket {ticket} was not found among your tickets.",
                       ticket=t.ticket(p["number"]))
        case "ticket_read_only":
            return t._("Ticket {ticket} was opened by a colleague of yours: you can view it, but only they "
                       "can do this with it.", ticket=t.ticket(p["number"]))
        case "illegal_transition":
            return t._("This is not possible for ticket {ticket} in its current status ({status}).",
                       ticket=t.ticket(p["number"]), status=status_name(t, p["current"]))
        case "reopen_window_passed":
            return t.ngettext(
                "Ticket {ticket} was closed more than {n} day ago and can no longer be reopened.",
                "Ticket {ticket} was closed more than {n} days ago and can no longer be reopened.",
                p["days"], ticket=t.ticket(p["number"]),
            )
        case "file_too_large":
            return t.ngettext(
                "This file is too large. Each file may be at most {n} MB.",
                "This file is too large. Each file may be at most {n} MB.",
                p["limit_mb"],
            )
        case "file_type_not_allowed":
            return t._("This type of file is not accepted. Please send images, PDF, text or log "
                       "files, office documents or zip archives.")
        case "empty_file":
            return t._("This file is empty.")
        case "file_unavailable":
            return t._("The file could not be received. Please send it again.")
        case "too_many_files":
            return t.ngettext("At most {n} file can be attached to one ticket.",
                              "At most {n} files can be attached to one ticket.", MAX_FILES)
        case "escalation_too_early":
            return t._("Ticket {ticket} can be escalated only once its first response is overdue. "
                       "Thank you for your patience.", ticket=t.ticket(p["number"]))
        case "rating_not_possible" if p.get("why") == "rated":
            return t._("Ticket {ticket} has been rated already.", ticket=t.ticket(p["number"]))
        case "rating_not_possible" if p.get("why") == "unresolved":
            return t._("Ticket {ticket} was closed without a solution, so it cannot be rated.",
                       ticket=t.ticket(p["number"]))
        case "rating_not_possible":
            return t._("Ticket {ticket} can be rated once it is closed.", ticket=t.ticket(p["number"]))
        case "too_many_open_tickets":
            return t.ngettext(
                "You already have {n} open ticket, the most we take at once. Please add to it, or wait "
                "until it is resolved.",
                "You already have {n} open tickets, the most we take at once. Please add to one of them, "
                "or wait until one is resolved.", p["limit"])
        case "too_many_new_tickets":
            return t.ngettext(
                "You have opened {n} ticket within the last hour, the most we take. Please try again "
                "later, or add to your open ticket.",
                "You have opened {n} tickets within the last hour, the most we take. Please try again "
                "later, or add to one of your open tickets.", p["limit"])
        case "undo_window_passed":
            return t._("Sorry, it is too late to undo or move this message: it stays in ticket {ticket}.",
                       ticket=t.ticket(p["number"]))
        case "top_tier_reached":
            return t._("Ticket {ticket} is already with our most senior team.",
                       ticket=t.ticket(p["number"]))
        case _:
            return t._("Sorry, that did not work. Please try again.")


def ticket_line(t: Translator, ticket: Ticket) -> str:
    return t.isolate(f"{t.ticket(ticket.number)} · {ticket.subject} · {status_name(t, ticket.status)}")


def customer_zone(config: HelpdeskConfig, t: Translator, customer: Customer, department: str) -> ZoneInfo:
    """The zone a customer reads times in: their own choice, else the default for their
    language (`[timezones]`), else the department's."""
    for name in (customer.timezone, config.timezones.of(t.locale)):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue  # a name this system's zone database no longer has: the next one
    return config.calendar_of(department).zone


def ticket_detail(
    t: Translator, config: HelpdeskConfig, customer: Customer, ticket: Ticket, thread: list[TicketMessage],
    attachments: int, *, opened_by: str | None = None, authors: Mapping[int, str] | None = None,
) -> str:
    """`opened_by`: the requester's name, when a colleague's ticket is shown; `authors`: the
    names of the other customers who wrote in it, by id."""
    dep = config.department(ticket.department)
    colleague = (opened_by or t._("a colleague")) if opened_by is not None else None
    zone = customer_zone(config, t, customer, ticket.department)
    lines = [
        t._("Ticket {ticket}: {subject}", ticket=t.ticket(ticket.number), subject=ticket.subject),
        t._("Status: {status}", status=status_name(t, ticket.status)),
        t._("Department: {department}", department=dep.name.get(t.locale) if dep else ticket.department),
        t._("Opened: {when}", when=t.datetime(ticket.created_at, zone)),
    ]
    if ticket.first_response_at is None and ticket.first_response_due is not None \
            and ticket.status in (Status.NEW, Status.ACCEPTED):
        lines.append(t._("Expected first response by {when}",
                         when=t.datetime(promised_first_response(ticket, config), zone)))
    if colleague is not None:
        lines.append(t._("Opened by: {name}, of your organisation", name=colleague))
    if attachments:
        lines.append(t.ngettext("{n} file attached", "{n} files attached", attachments))
    lines.append("")
    lines.append(t._("{name} wrote:", name=colleague) if colleague is not None else t._("You wrote:"))
    lines.append(ticket.description)
    others = authors or {}
    for msg in thread[-10:]:
        other = others.get(msg.author_customer_id) if msg.author_customer_id is not None else None
        who = (t._("You") if other is None else other or t._("a colleague")) if msg.kind == "customer" else (
            t._("Support team") if msg.kind == "agent" else t._("Note"))
        if msg.kind == "system":
            continue
        lines.append("")
        # TRANSLATORS: the heading of one message in a ticket's history: who wrote it, and when.
        lines.append(t._("{author}, {when}:", author=who, when=t.datetime(msg.created_at, zone, with_zone=False)))
        lines.append(msg.body)
    return "\n".join(lines)


def ticket_actions(t: Translator, config: HelpdeskConfig, ticket: Ticket, now: datetime,
                   deeds: frozenset[Deed] = frozenset(Deed)) -> tuple[tuple[Choice, ...], ...]:
    """The buttons of a ticket shown to a customer: only those `deeds` (what they may do) allow."""
    n = ticket.number
    rows: list[tuple[Choice, ...]] = []
    if Deed.ESCALATE in deeds and promise_broken(ticket, config, now) and ticket.tier < TIERS[-1]:
        rows.append((Choice(act.Escalate(n).encode(), t._("Ask for escalation")),))
    if Deed.SETTLE in deeds and ticket.status == Status.RESOLVED:
        rows.append((Choice(act.Settle(n, solved=True).encode(), t._("Yes, it is solved")),
                     Choice(act.Settle(n, solved=False).encode(), t._("No, not solved"))))
    if Deed.WRITE in deeds and ticket.status != Status.CLOSED:
        rows.append((Choice(act.WriteTo(n).encode(), t._("Write to this ticket")),))
    if Deed.WITHDRAW in deeds and ticket.status in (Status.NEW, Status.ACCEPTED, Status.WAITING):
        rows.append((Choice(act.Withdraw(n).encode(), t._("Withdraw the ticket")),))
    if Deed.WRITE in deeds and ticket.status == Status.CLOSED:
        rows.append((Choice(act.WriteTo(n).encode(), t._("Reopen with a message")),))
    rows.append((Choice(act.ListTickets(TicketFilter.ALL).encode(), t._("My tickets")),))
    return tuple(rows)


def response_due(t: Translator, config: HelpdeskConfig, customer: Customer, ticket: Ticket) -> str:
    """When a new ticket's first response may be expected (a moment the office is open), in the
    customer's calendar and zone."""
    return t.datetime(promised_first_response(ticket, config), customer_zone(config, t, customer, ticket.department))
