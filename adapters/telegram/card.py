"""A ticket on the Telegram desk: its topic's name, its card (an HTML message) and the card's
buttons, with the menus a button opens in place of the card's own buttons.

A card's direct actions carry the agents' core keys (core.agents.actions.encode: `ag:claim:1042`);
a menu is this desk's own affair (`tm:status:1042`): it only changes which buttons the card
shows, so it never reaches the agents' core.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.telegram.render import TEXT_LIMIT
from core.agents.actions import Assign, Claim, Escalate, SetPriority, SetStatus, TimeMenu, encode
from core.agents.card import Card
from core.domain.model import Status
from core.i18n import Translator

TOPIC_NAME_LIMIT = 128  # characters, Telegram's limit for a forum topic's name
MENU_PREFIX = "tm"
MENUS = ("assign", "status", "priority", "escalate", "back")
STATUS_MARKS = {Status.NEW: "🆕", Status.ACCEPTED: "🔧", Status.WAITING: "⏳", Status.RESOLVED: "✅",
                Status.CLOSED: "🔒"}
DESCRIPTION_LIMIT = 3000  # of the card's 4,096: the rest is fields, files and the hint
PART_LIMIT = 256  # the title, each field, the hint: a sentence or a name


@dataclass(frozen=True, slots=True)
class Listed:
    """An agent offered by the Assign menu: their Telegram user id and name."""

    user_id: str
    name: str


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units (as Telegram counts), an ellipsis marking a cut."""
    if _units(text) <= limit:
        return text
    if limit < 1:
        return ""
    while text and _units(text) > limit - 1:
        text = text[:-1]
    return text + "…"


def topic_name(number: int, status: str, subject: str) -> str:
    """`🆕 #1042 · Cannot log in`: the status mark, the number and as much of the subject as fits."""
    mark = STATUS_MARKS.get(Status(status), "•")
    return _cut(f"{mark} #{number} · {' '.join(subject.split())}", TOPIC_NAME_LIMIT)


def card_html(card: Card, hint: str) -> str:
    """The card's message: title, fields, description, files, and how to write in the topic.
    Telegram counts a message's 4,096 after the markup is parsed: the text is measured unescaped,
    each part bounded, and the description gets what the rest leaves."""
    e = html.escape
    title = _cut(card.title, PART_LIMIT)
    fields = [(_cut(f.label, PART_LIMIT), _cut(f.value, PART_LIMIT)) for f in card.fields]
    files = _cut(", ".join(card.attachments), PART_LIMIT * 2) if card.attachments else ""
    hint = _cut(hint, PART_LIMIT)
    shown = [title, "", *(f"{label}: {value}" for label, value in fields), "", card.description_label, "",
             *(["", f"📎 {files}"] if files else []), "", hint]
    room = TEXT_LIMIT - _units("\n".join(shown))
    description = _cut(card.description, max(0, min(DESCRIPTION_LIMIT, room)))
    lines = [f"<b>{e(title)}</b>", ""]
    lines += [f"<b>{e(label)}:</b> {e(value)}" for label, value in fields]
    lines += ["", f"<b>{e(card.description_label)}</b>", e(description)]
    if files:
        lines += ["", "📎 " + e(files)]
    lines += ["", f"<i>{e(hint)}</i>"]
    return "\n".join(lines)


def menu_key(menu: str, number: int) -> str:
    return f"{MENU_PREFIX}:{menu}:{number}"


def parse_menu(data: str) -> tuple[str, int] | None:
    """(menu, ticket number) of a key made by menu_key; None for anything else."""
    parts = data.split(":")
    if len(parts) != 3 or parts[0] != MENU_PREFIX or parts[1] not in MENUS or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(_cut(label, 64), callback_data=data)


def card_keyboard(t: Translator, card: Card, menu: str | None = None,
                  agents: Sequence[Listed] = ()) -> InlineKeyboardMarkup | None:
    """The card's buttons, or those of one of its menus; None once the ticket is closed."""
    c, n = card.controls, card.number
    if c is None:
        return None
    back = [_button(t._("« Back"), menu_key("back", n))]
    if menu == "status":
        rows = [[_button(o.label, encode(SetStatus(n, o.value)))] for o in c.statuses[1:]]
        return InlineKeyboardMarkup([*rows, back])
    if menu == "priority":
        rows = [[_button(("• " if o.value == c.current_priority.value else "") + o.label,
                         encode(SetPriority(n, o.value)))] for o in c.priorities]
        return InlineKeyboardMarkup([*rows, back])
    if menu == "assign":
        rows = [[_button(a.name, encode(Assign(n, a.user_id)))] for a in agents[:20]]
        return InlineKeyboardMarkup([*rows, back])
    if menu == "escalate" and c.escalate is not None:
        return InlineKeyboardMarkup([[_button(c.escalate.confirm_text, encode(Escalate(n)))],
                                     [_button(c.escalate.cancel, menu_key("back", n))]])
    rows = [[_button(c.claim, encode(Claim(n))), _button(c.assign, menu_key("assign", n))],
            [_button(f"{c.status}…", menu_key("status", n)), _button(f"{c.priority}…", menu_key("priority", n))]]
    if c.escalate is not None:
        rows.append([_button(c.escalate.label, menu_key("escalate", n))])
    if c.log_time:  # its choices come in a message of their own, under the card
        rows[-1].append(_button(c.log_time, encode(TimeMenu(n))))
    return InlineKeyboardMarkup(rows)


def digest(text: str, keyboard: InlineKeyboardMarkup | None) -> str:
    """What a card looks like, in short: an edit to the same digest would change nothing."""
    shown = json.dumps([text, keyboard.to_dict() if keyboard else None], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(shown.encode()).hexdigest()



# A post's card_digest (64 characters) keeps what its topic shows in two parts, the card's and the
# topic name's, so that each is sent again only when it changed.
CARD_PART, NAME_PART = 40, 23


def card_part(text: str, keyboard: InlineKeyboardMarkup | None) -> str:
    return digest(text, keyboard)[:CARD_PART]


def name_part(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:NAME_PART]


def pack(card: str | None, name: str | None) -> str:
    """A post's card_digest from its two parts (None: not known, sent again at the next change)."""
    return f"{card or ''}:{name or ''}"


def unpack(stored: str | None) -> tuple[str | None, str | None]:
    card, _, name = (stored or "").partition(":")
    return card or None, name or None


def card_forgotten(stored: str | None) -> str:
    """A post's card_digest once the card's buttons were changed in place (a menu): the card is
    drawn afresh at its next delivery, the topic's name still known (not renamed for nothing)."""
    return pack(None, unpack(stored)[1])
