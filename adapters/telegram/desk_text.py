"""The messages of a ticket's topic in Telegram HTML: every piece of text escaped, each message
within 4,096 characters as Telegram counts them (after the markup is parsed)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from adapters.telegram.render import TEXT_LIMIT, split_text
from core.agents import notices
from core.i18n import Translator

CAPTION_LIMIT = 1024  # a document's caption
NOTE_MARK = "🔒"
HEAD_LIMIT = 1000  # a head is a sentence; a longer one (a long name in it) is cut
SUMMARY_BODY_LIMIT = 400  # each message of a remade topic's summary, in short
# Stand-ins for markup put into a translated sentence: private-use characters, which neither the
# escaping nor the translator's isolation of Latin runs (Persian) touches.
_SLOTS = ("\ue000", "\ue001")


def e(text: str) -> str:
    return html.escape(text, quote=False)


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> str:
    return text if units(text) <= limit else split_text(text, limit - 1)[0] + "…"


def block(head: str, body: str = "", *, bold: bool = True, limit: int = TEXT_LIMIT) -> list[str]:
    """A head (bold) and a body under it, as one message or, for a long body, several."""
    head = cut(head, HEAD_LIMIT)
    shown = f"<b>{e(head)}</b>" if bold else e(head)
    if not body.strip():
        return [shown]
    parts = split_text(body, limit - units(head) - 1)
    return [f"{shown}\n{e(parts[0])}", *(e(p) for p in parts[1:])]


def mention(user_id: str, name: str) -> str:
    """A Telegram user named so that they are notified (a plain name for an id that is none)."""
    if not user_id.isdigit():
        return e(name)
    return f'<a href="tg://user?id={user_id}">{e(name or user_id)}</a>'


def fill(sentence: str, *markup: str) -> str:
    """A sentence rendered with _SLOTS for its values, escaped, the values' markup put in."""
    text = e(sentence)
    for slot, value in zip(_SLOTS, markup, strict=False):
        text = text.replace(slot, value)
    return text


def assigned(t: Translator, assignee: str, who: str | None) -> str:
    """`assignee` and `who` as markup (a mention, an escaped name)."""
    if who is None:
        return fill(notices.assigned(t, _SLOTS[0], None), assignee)
    return fill(notices.assigned(t, _SLOTS[0], _SLOTS[1]), assignee, who)


def message_head(t: Translator, who: str, kind: str) -> str:
    """Who wrote a ticket's message: the customer, an agent to the customer, or an internal note,
    which is marked so that nobody takes it for what the customer read."""
    if kind == "customer":
        return notices.customer_message_head(t, who)
    if kind == "note":
        return f"{NOTE_MARK} {notices.agent_message_head(t, who, True)}"
    return notices.agent_message_head(t, who, False)


def hint(t: Translator) -> str:
    """Under the card: how to write in the topic."""
    return t._("Replies in this topic go to the customer. Start a message with note: or send /note "
               "to keep it internal.")


def summary(t: Translator, messages: Sequence[tuple[str, str, str]]) -> list[str]:
    """A topic made anew: why, and the ticket's last messages (who, kind, body), in short."""
    why = t._("The topic of this ticket was deleted, so it was made anew.")
    lines = [f"<b>{e(why)}</b>"]
    if messages:
        lines.append(e(t._("Its last messages:")))
    for who, kind, body in messages:
        lines += ["", f"<b>{e(cut(message_head(t, who, kind), HEAD_LIMIT))}</b>",
                  e(cut(body, SUMMARY_BODY_LIMIT)) if body.strip() else "📎"]
    # Each entry is bounded, the whole not: parts at entry boundaries, every part valid markup.
    parts: list[str] = []
    for line in lines:
        if parts and units(parts[-1]) + 1 + units(line) <= TEXT_LIMIT:
            parts[-1] += "\n" + line
        else:
            parts.append(line)
    return parts
