"""Replies as Bot API messages: HTML with every piece of text escaped (or plain text, where the
messenger takes no HTML), split to fit 4,096."""

from __future__ import annotations

import html

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.chat.messages import Reply

TEXT_LIMIT = 4096
CALLBACK_LIMIT = 64


def _units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), so emoji never overflow a part."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Parts of at most `limit`, cut at line ends where possible."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if _units(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while _units(line) > limit:  # one line longer than a message: cut it
            cut = limit
            while _units(line[:cut]) > limit:
                cut -= 1
            parts.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not parts:
        parts.append(current)
    return [p for p in parts if p.strip()] or ["…"]


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.choices:
        return None
    rows = []
    for row in reply.choices:
        buttons = []
        for choice in row:
            if not 1 <= len(choice.key.encode()) <= CALLBACK_LIMIT:
                raise ValueError(f"choice key {choice.key!r} does not fit Telegram's callback data")
            buttons.append(InlineKeyboardButton(choice.label, callback_data=choice.key))
        rows.append(buttons)
    return InlineKeyboardMarkup(rows)


def messages(reply: Reply, *, as_html: bool = True) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """(text, keyboard) per message, HTML or plain; the keyboard goes with the last part."""
    parts = split_text(reply.text)
    markup = keyboard(reply)
    return [(_escaped(part, as_html), markup if i == len(parts) - 1 else None)
            for i, part in enumerate(parts)]


def chosen(original: str, label: str, *, as_html: bool = True) -> str:
    """The prompt as it reads after a button was pressed: its text and the choice made."""
    return _escaped(f"{original}\n\n✓ {label}", as_html)


def _escaped(text: str, as_html: bool) -> str:
    return html.escape(text, quote=False) if as_html else text
