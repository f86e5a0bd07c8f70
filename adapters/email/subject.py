"""A mail's subject line: the ticket tag it carries, its topic without reply prefixes."""

from __future__ import annotations

import re

# The tag our own mails carry, kept by every mail program in a reply: "[#1042]".
_TAG = re.compile(r"\[\s*#\s*(\d{1,18})\s*\]")
# Reply and forward prefixes in the mail programs of our customers' languages: Re[2]:, RE :,
# AW:/WG: (German Outlook), Odp: (Polish), Ответ:/Отв: (Russian), پاسخ: (Persian), Enc:/RES:
# (Brazilian), Tr: (French), FW:/Fwd:.
_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|aw|wg|odp|tr|enc|res|ответ|отв|пересл|پاسخ|هدایت)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    re.IGNORECASE,
)


def ticket_tag(subject: str) -> int | None:
    """The ticket number a "[#1042]" anywhere in the subject names."""
    found = _TAG.search(subject)
    return int(found.group(1)) if found else None


def topic(subject: str) -> str:
    """The subject without reply/forward prefixes (repeated, in any case) and the ticket tag."""
    text = " ".join(_TAG.sub(" ", subject).split())
    while True:
        shorter = _PREFIX.sub("", text, count=1)
        if shorter == text:
            return text
        text = shorter
