"""The new part of a reply: quoted history, attribution lines and signatures removed."""

from __future__ import annotations

import re

from mailparser_reply import EmailMessage as ReplyMessage
from mailparser_reply.constants import MAIL_LANGUAGES

# Every real language the library knows ("david" is a mail program's header, kept too).
_LANGUAGES = tuple(MAIL_LANGUAGES)

# What the library does not know (it has no Russian, Portuguese or Persian) or misses: a line
# that starts the quoted history. Everything from it on is history.
_HISTORY = re.compile(
    "|".join(
        (
            # Any language: a time, an address, a colon at the end ("5 дек. 2026 г., в 10:00, X <x@y>:").
            r"^(?=.*\d{1,2}:\d{2}).*<[^<>\s]+@[^<>\s]+>.{0,40}:\s*$",
            # ru, with a date in the line: "Система пишет:" alone is the customer quoting a screen.
            r"^(?=.*\d).*\b(?:пишет|писал|писала|написал|написала|написал\(а\))\s*:\s*$",
            r"^Em .+ escreveu:\s*$",  # pt
            r"^در .+ نوشت\s*:\s*$",  # fa
            r"^On .+ wrote:\s*$",
            r"^Dne .+ napsal(?:\(a\)|a)?:\s*$",
            r"^-{2,} ?(?:Original Message|Исходное сообщение|Mensagem original|Původní zpráva|پیام اصلی) ?-{2,}\s*$",
            # Outlook's header block: two lines of From/Sent/To/Subject in any of the languages.
            r"^\*?(?:From|От|De|Od|از)\*?:.*\n\*?(?:Sent|Date|Отправлено|Дата|Enviado|Enviada|Data|Odesláno|Datum"
            r"|ارسال|تاریخ)\*?:",
        )
    ),
    re.MULTILINE | re.IGNORECASE,
)
_QUOTED = re.compile(r"^[ \t]*>.*$\n?", re.MULTILINE)
# A signature a closing word starts ("Thanks, ...") is one only when that line is short:
# "Thanks, but it still fails when I press Save" is the customer's text.
_CLOSING_LINE = 40
_LONG_LINE = 500
# No reply a person writes is this long; past it (a pasted log) only our own linear patterns run.
_LIBRARY_LIMIT = 100_000


def reply_text(text: str) -> str:
    """`text` without history and signature; `text` itself when nothing would be left."""
    stripped = _strip(text)
    return stripped if stripped else text.strip()


def _strip(text: str) -> str:
    # The library's patterns take time quadratic in a line's length ("On x x x ... wrote"), and no
    # attribution line is long: long lines are hidden from it behind placeholders, put back after.
    if len(text) > _LIBRARY_LIMIT:
        return _fallback(text)
    long_lines: dict[str, str] = {}

    def hide(found: re.Match[str]) -> str:
        key = f"\ue000{len(long_lines)}\ue000"
        long_lines[key] = found.group(0).strip()
        return key

    short = re.sub(rf"^[^\n]{{{_LONG_LINE},}}$", hide, text.replace("\ue000", ""), flags=re.MULTILINE)
    try:
        message = ReplyMessage(text=short, languages=list(_LANGUAGES), keep_hyphen_lists=True).read()
    except Exception:  # the library is regular expressions over customer text: fall back to ours
        return _fallback(text)
    if not message.replies:
        return _fallback(text)
    first = message.replies[0]
    if first.headers:  # the text starts with the history: no new text above it
        return ""
    content = first.content
    if first.signatures and _is_signature(first.signatures):
        content = content.replace(first.signatures, "")
    for disclaimer in first.disclaimers or ():
        content = content.replace(disclaimer, "")
    for key, line in long_lines.items():
        content = content.replace(key, line)
    return _fallback(content.replace("\ue000", ""))


def _is_signature(block: str) -> bool:
    first_line = block.strip().split("\n", 1)[0]
    return first_line.startswith(("-", "_")) or len(first_line) <= _CLOSING_LINE


def _fallback(text: str) -> str:
    text = text.replace("\r\n", "\n")
    found = _HISTORY.search(text)
    if found:
        text = text[: found.start()]
    sig = re.search(r"^-- ?$", text, re.MULTILINE)
    if sig:
        text = text[: sig.start()]
    text = _QUOTED.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
