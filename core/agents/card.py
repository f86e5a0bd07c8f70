"""A ticket's card on the agents' desk, as data: its fields and its controls, in the desk's
language. Each desk lays it out in its own way (blocks, a message with buttons)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from core.agents.organisations import role_name
from core.agents.quotes import billable, quote_state
from core.agents.wording import agent_status, department_name, priority_name, request_type_name
from core.domain.access import Role
from core.domain.config import HelpdeskConfig
from core.domain.handover import required
from core.domain.lifecycle import allowed_targets
from core.domain.model import TIERS, Actor, Status
from core.i18n import LANGUAGE_NAMES, Translator
from core.services.quotes import QuoteRow
from core.storage.desk import CardState

ASSIGNEE = "assignee"  # the key of the field a desk may show as a mention of its own


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class EscalateControl:
    label: str
    confirm_title: str
    confirm_text: str
    confirm: str
    cancel: str
    handover: bool = False  # the hand-over is asked for (core.agents.handover), which is the confirmation


@dataclass(frozen=True, slots=True)
class Controls:
    claim: str
    assign: str
    status: str
    statuses: tuple[Option, ...]  # the current status first, then where an agent may move it
    priority: str
    priorities: tuple[Option, ...]
    current_priority: Option
    escalate: EscalateControl | None  # None at the top level
    log_time: str = ""  # the label of "Log time" (core.agents.actions.TimeMenu)


@dataclass(frozen=True, slots=True)
class Card:
    number: int
    subject: str
    title: str
    fields: tuple[Field, ...]
    description_label: str
    description: str
    attachments: tuple[str, ...]
    controls: Controls | None  # None once the ticket is closed


def ticket_card(t: Translator, config: HelpdeskConfig, state: CardState) -> Card:
    ticket, customer = state.ticket, state.customer
    zone = ZoneInfo(config.calendar_of(ticket.department).timezone)
    if ticket.first_response_at is not None:
        response = t._("answered {when}", when=t.datetime(ticket.first_response_at, zone))
    elif ticket.first_response_due is not None:
        response = t._("due {when}", when=t.datetime(ticket.first_response_due, zone))
    else:
        response = "—"
    language = LANGUAGE_NAMES.get(customer.locale or "", customer.locale or "—")
    assignee = state.assignee
    fields: tuple[Field, ...] = (
        Field("status", t._("Status"), agent_status(t, ticket.status)),
        Field("priority", t._("Priority"), priority_name(t, config, ticket.priority)),
        Field("department", t._("Department"), department_name(t, config, ticket.department)),
        Field("request_type", t._("Request type"), request_type_name(t, config, ticket.request_type)),
        Field("customer", t._("Customer"), f"{customer.display_name or '—'} · {customer.platform} · {language}"),
        Field(ASSIGNEE, t._("Assignee"), (assignee.display_name or assignee.platform_user_id) if assignee
              else t._("nobody yet")),
        Field("tier", t._("Support level"), f"L{ticket.tier}"),
        Field("first_response", t._("First response"), response),
    )
    if customer.address:
        fields += (Field("address", t._("Address"), customer.address),)
    if state.organisation is not None:
        role = role_name(t, customer.organisation_role or Role.MEMBER)
        fields += (Field("organisation", t._("Organisation"), f"{state.organisation.name} · {role}"),)
    if state.minutes:
        fields += (Field("time", t._("Time logged"), t.duration(state.minutes / 60)),)
    if billable(config, ticket):
        fields += (Field("billable", t._("Paid work"), t._("yes: the customer approves a quote first")),)
    if state.quote is not None:
        q = state.quote
        row = QuoteRow(q.id, ticket.number, q.state, q.minutes, q.amount, q.currency, q.note, "", q.created_at,
                       q.decided_at, state.quote_by)
        fields += (Field("quote", t._("Quote"), quote_state(t, row, zone)),)
    return Card(ticket.number, ticket.subject, f"#{ticket.number} · {ticket.subject}", fields, t._("Description"),
                ticket.description, tuple(state.attachment_names),
                None if ticket.status == Status.CLOSED else _controls(t, config, state))


def _controls(t: Translator, config: HelpdeskConfig, state: CardState) -> Controls:
    ticket = state.ticket
    current = Option(ticket.status, agent_status(t, ticket.status))
    statuses = (current, *(Option(s, agent_status(t, s)) for s in allowed_targets(Status(ticket.status), Actor.AGENT)))
    priorities = tuple(Option(p.code, p.name.get(t.locale)) for p in config.priorities)
    chosen = next((o for o in priorities if o.value == ticket.priority), priorities[0])
    escalate = None
    if ticket.tier < TIERS[-1]:
        up = ticket.tier + 1
        escalate = EscalateControl(t._("Escalate to L{tier}", tier=up), t._("Escalate?"),
                                   t._("Pass ticket #{number} to L{tier}?", number=ticket.number, tier=up),
                                   t._("Escalate"), t._("Cancel"), required(ticket.tier))
    return Controls(t._("Claim"), t._("Assign to…"), t._("Status"), statuses, t._("Priority"), priorities, chosen,
                    escalate, t._("Log time"))
