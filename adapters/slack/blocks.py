"""Block Kit for the desk (ticket cards) and for Slack customers (replies with buttons)."""

from __future__ import annotations

from typing import Any

from adapters.slack.mrkdwn import BUTTON_TEXT_LIMIT, HEADER_LIMIT, SECTION_LIMIT, escape, plain, safe, trim
from core.agents.actions import encode
from core.agents.card import ASSIGNEE, Card, Controls
from core.agents.results import ArticleList, Offer, Pick
from core.chat.messages import Reply

Block = dict[str, Any]
CUSTOMER_ACTION = "cv"  # action_id prefix of a Slack customer's buttons
DESK_BLOCK = "desk"  # block_id prefix of a card's controls; the ticket number follows
OFFER_KEY = "key"  # `desk:key:<i>`: an offer's button, its value the agents' core's key (encode)
ACTIONS_LIMIT = 25  # Slack's most elements in one actions block
BLOCKS_LIMIT = 50  # Slack's most blocks in one message


def _option(text: str, value: str) -> Block:
    return {"text": {"type": "plain_text", "text": plain(text, 75)}, "value": value}


def _field(label: str, value: str) -> Block:
    return {"type": "mrkdwn", "text": trim(f"*{label}*\n{value}", 2000)}


def card_blocks(card: Card, assignee_slack_id: str | None) -> tuple[str, list[Block]]:
    """The card of a ticket in its department's channel: its state and its controls."""
    fields = [_field(f.label, f"<@{assignee_slack_id}>" if f.key == ASSIGNEE and assignee_slack_id
                     else escape(f.value)) for f in card.fields]
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": plain(card.title, HEADER_LIMIT)}},
        # A section holds at most ten fields.
        *({"type": "section", "fields": fields[i:i + 10]} for i in range(0, len(fields), 10)),
        {"type": "section", "text": {"type": "mrkdwn", "text": trim(
            f"*{escape(card.description_label)}*\n" + escape(card.description), SECTION_LIMIT)}},
    ]
    if card.attachments:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": trim(
            "📎 " + ", ".join(escape(a) for a in card.attachments), SECTION_LIMIT)}]})
    if card.controls is not None:
        blocks.append(_controls(card.number, card.controls))
    # The fallback text is mrkdwn too (notifications, search): escaped like everything else.
    return safe(f"#{card.number} {card.subject}", 3000), blocks


def _controls(number: int, c: Controls) -> Block:
    statuses = [_option(o.label, o.value) for o in c.statuses]
    priorities = [_option(o.label, o.value) for o in c.priorities]
    elements: list[Block] = [
        {"type": "button", "action_id": "desk:claim", "value": str(number), "style": "primary",
         "text": {"type": "plain_text", "text": plain(c.claim, BUTTON_TEXT_LIMIT)}},
        {"type": "users_select", "action_id": "desk:assign",
         "placeholder": {"type": "plain_text", "text": plain(c.assign, 150)}},
        {"type": "static_select", "action_id": "desk:status", "options": statuses, "initial_option": statuses[0],
         "placeholder": {"type": "plain_text", "text": plain(c.status, 150)}},
        {"type": "static_select", "action_id": "desk:priority", "options": priorities,
         "initial_option": _option(c.current_priority.label, c.current_priority.value),
         "placeholder": {"type": "plain_text", "text": plain(c.priority, 150)}},
    ]
    if c.log_time:
        elements.insert(1, {"type": "button", "action_id": "desk:time",
                            "text": {"type": "plain_text", "text": plain(c.log_time, BUTTON_TEXT_LIMIT)}})
    if c.escalate is not None:
        e = c.escalate
        escalate: Block = {"type": "button", "action_id": "desk:escalate", "value": str(number),
                           "text": {"type": "plain_text", "text": plain(e.label, BUTTON_TEXT_LIMIT)}}
        if not e.handover:  # the hand-over's modal is the confirmation otherwise
            escalate["confirm"] = {
                "title": {"type": "plain_text", "text": plain(e.confirm_title, 100)},
                "text": {"type": "plain_text", "text": plain(e.confirm_text, 300)},
                "confirm": {"type": "plain_text", "text": plain(e.confirm, 30)},
                "deny": {"type": "plain_text", "text": plain(e.cancel, 30)},
            }
        elements.append(escalate)
    return {"type": "actions", "block_id": f"{DESK_BLOCK}:{number}", "elements": elements}


def article_blocks(text: str, found: ArticleList) -> list[Block]:
    """The articles an agent found for a ticket: the list, and a button per article that sends it
    into the ticket (`desk:kbsend:<i>` in the ticket's `desk:<number>` block, the slug its value)."""
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": trim(text, SECTION_LIMIT)}}]
    if found.number is not None and found.rows:
        blocks.append({"type": "actions", "block_id": f"{DESK_BLOCK}:{found.number}", "elements": [
            {"type": "button", "action_id": f"{DESK_BLOCK}:kbsend:{i}", "value": row.slug,
             "text": {"type": "plain_text", "text": plain(f"{found.send}: {row.title}", BUTTON_TEXT_LIMIT)}}
            for i, row in enumerate(found.rows)]})
    return blocks


def offer_blocks(text: str, offer: Offer) -> list[Block]:
    """An offer (the card's Log time, the time spent on a ticket resolved) for the agent alone:
    the text, and its picks as buttons. A row of several picks is an actions block of its own
    (the quick durations side by side); rows of one pick in a row (a menu of activities) share
    blocks, which Slack wraps, so that every pick is a button within the message's blocks."""
    blocks: list[Block] = [{"type": "section", "text": {"type": "mrkdwn", "text": trim(text, SECTION_LIMIT)}}]
    groups: list[list[Pick]] = []
    alone = False  # the last group gathers rows of one pick
    for row in offer.picks:
        if len(row) == 1 and alone and len(groups[-1]) < ACTIONS_LIMIT:
            groups[-1].append(row[0])
            continue
        groups += [list(row[i:i + ACTIONS_LIMIT]) for i in range(0, len(row), ACTIONS_LIMIT)]
        alone = len(row) == 1
    index = 0
    for g, group in enumerate(groups[:BLOCKS_LIMIT - 1]):
        elements = []
        for pick in group:
            elements.append({"type": "button", "action_id": f"{DESK_BLOCK}:{OFFER_KEY}:{index}",
                             "value": encode(pick.action),
                             "text": {"type": "plain_text", "text": plain(pick.label, BUTTON_TEXT_LIMIT)}})
            index += 1
        blocks.append({"type": "actions", "block_id": f"{DESK_BLOCK}:{offer.number}:{g}", "elements": elements})
    return blocks


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
