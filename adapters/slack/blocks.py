"""Block Kit for the desk (ticket cards) and for Slack customers (replies with buttons)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from adapters.slack.mrkdwn import BUTTON_TEXT_LIMIT, HEADER_LIMIT, SECTION_LIMIT, escape, plain, safe, trim
from core.chat.messages import Reply
from core.chat.views import agent_status as desk_status
from core.domain.config import HelpdeskConfig
from core.domain.lifecycle import allowed_targets
from core.domain.model import TIERS, Actor, Status
from core.i18n import LANGUAGE_NAMES, Translator
from core.storage.models import Customer, Ticket

Block = dict[str, Any]
CUSTOMER_ACTION = "cv"  # action_id prefix of a Slack customer's buttons
DESK_BLOCK = "desk"  # block_id prefix of a card's controls; the ticket number follows


def _option(text: str, value: str) -> Block:
    return {"text": {"type": "plain_text", "text": plain(text, 75)}, "value": value}


def _field(label: str, value: str) -> Block:
    return {"type": "mrkdwn", "text": trim(f"*{label}*\n{value}", 2000)}


def ticket_card(
    t: Translator,
    config: HelpdeskConfig,
    ticket: Ticket,
    customer: Customer,
    assignee_slack_id: str | None,
    attachment_names: list[str],
) -> tuple[str, list[Block]]:
    """The card of a ticket in its department's channel: its state and its controls."""
    loc = t.locale
    dep = config.department(ticket.department)
    rt = config.request_type(ticket.request_type)
    pri = config.priority(ticket.priority)
    zone = ZoneInfo(config.calendar_of(ticket.department).timezone)
    n = ticket.number
    title = f"#{n} · {ticket.subject}"
    if ticket.first_response_at is not None:
        response = t._("answered {when}", when=t.datetime(ticket.first_response_at, zone))
    elif ticket.first_response_due is not None:
        response = t._("due {when}", when=t.datetime(ticket.first_response_due, zone))
    else:
        response = "—"
    who = f"{escape(customer.display_name or '—')} · {customer.platform} · " \
          f"{LANGUAGE_NAMES.get(customer.locale or '', customer.locale or '—')}"
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": plain(title, HEADER_LIMIT)}},
        {"type": "section", "fields": [
            _field(t._("Status"), desk_status(t, ticket.status)),
            _field(t._("Priority"), pri.name.get(loc) if pri else ticket.priority),
            _field(t._("Department"), dep.name.get(loc) if dep else ticket.department),
            _field(t._("Request type"), rt.name.get(loc) if rt else ticket.request_type),
            _field(t._("Customer"), who),
            _field(t._("Assignee"), f"<@{assignee_slack_id}>" if assignee_slack_id else t._("nobody yet")),
            _field(t._("Support level"), f"L{ticket.tier}"),
            _field(t._("First response"), response),
        ]},
        {"type": "section", "text": {"type": "mrkdwn", "text": trim(
            "*" + t._("Description") + "*\n" + escape(ticket.description), SECTION_LIMIT)}},
    ]
    if attachment_names:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": trim(
            "📎 " + ", ".join(escape(a) for a in attachment_names), SECTION_LIMIT)}]})
    if ticket.status != Status.CLOSED:
        blocks.append(_controls(t, config, ticket))
    # The fallback text is mrkdwn too (notifications, search): escaped like everything else.
    return safe(f"#{n} {ticket.subject}", 3000), blocks


def _controls(t: Translator, config: HelpdeskConfig, ticket: Ticket) -> Block:
    loc = t.locale
    current = _option(desk_status(t, ticket.status), ticket.status)
    statuses = [current] + [_option(desk_status(t, s), s)
                            for s in allowed_targets(Status(ticket.status), Actor.AGENT)]
    priorities = [_option(p.name.get(loc), p.code) for p in config.priorities]
    chosen = next((o for o in priorities if o["value"] == ticket.priority), priorities[0])
    elements: list[Block] = [
        {"type": "button", "action_id": "desk:claim", "value": str(ticket.number), "style": "primary",
         "text": {"type": "plain_text", "text": plain(t._("Claim"), BUTTON_TEXT_LIMIT)}},
        {"type": "users_select", "action_id": "desk:assign",
         "placeholder": {"type": "plain_text", "text": plain(t._("Assign to…"), 150)}},
        {"type": "static_select", "action_id": "desk:status", "options": statuses, "initial_option": current,
         "placeholder": {"type": "plain_text", "text": plain(t._("Status"), 150)}},
        {"type": "static_select", "action_id": "desk:priority", "options": priorities, "initial_option": chosen,
         "placeholder": {"type": "plain_text", "text": plain(t._("Priority"), 150)}},
    ]
    if ticket.tier < TIERS[-1]:
        elements.append({
            "type": "button", "action_id": "desk:escalate", "value": str(ticket.number),
            "text": {"type": "plain_text", "text": plain(t._("Escalate to L{tier}", tier=ticket.tier + 1),
                                                         BUTTON_TEXT_LIMIT)},
            "confirm": {
                "title": {"type": "plain_text", "text": plain(t._("Escalate?"), 100)},
                "text": {"type": "plain_text", "text": plain(t._("Pass ticket #{number} to L{tier}?",
                                                                  number=ticket.number, tier=ticket.tier + 1), 300)},
                "confirm": {"type": "plain_text", "text": plain(t._("Escalate"), 30)},
                "deny": {"type": "plain_text", "text": plain(t._("Cancel"), 30)},
            },
        })
    return {"type": "actions", "block_id": f"{DESK_BLOCK}:{ticket.number}", "elements": elements}


def reply_blocks(reply: Reply) -> tuple[str, list[Block]]:
    """A conversation reply for a Slack customer: escaped text in sections, buttons below."""
    text = escape(reply.text)
    sections = [text[i:i + SECTION_LIMIT] for i in range(0, len(text), SECTION_LIMIT)] or ["…"]
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": part}}
                           for part in sections[:40]]
    index = 0
    for row in reply.choices:
        for start in range(0, len(row), 5):
            elements = []
            for choice in row[start:start + 5]:
                elements.append({
                    "type": "button", "action_id": f"{CUSTOMER_ACTION}:{index}", "value": choice.key,
                    "text": {"type": "plain_text", "text": plain(choice.label, BUTTON_TEXT_LIMIT)},
                })
                index += 1
            blocks.append({"type": "actions", "elements": elements})
    return safe(reply.text, 3000) or "…", blocks[:50]


def answered_blocks(blocks: list[Block], label: str) -> list[Block]:
    """A customer's prompt after a press: the buttons go, the choice is shown."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": safe(f"✓ {label}", 3000)}]})
    return kept
