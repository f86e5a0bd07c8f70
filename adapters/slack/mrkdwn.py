"""Making text safe for Slack's mrkdwn: nothing a customer types may ping, mention or link."""

from __future__ import annotations

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
BUTTON_TEXT_LIMIT = 75


def escape(text: str) -> str:
    """Slack's own rule: &, < and > become entities; <!channel>, <@U1> and <url|x> go inert."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def trim(text: str, limit: int) -> str:
    """At most `limit` characters, cut with an ellipsis (never inside an entity)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def safe(text: str, limit: int = SECTION_LIMIT) -> str:
    return trim(escape(text), limit)


def plain(text: str, limit: int) -> str:
    """For plain_text fields (headers, buttons): no markup, just the length."""
    return trim(text, limit)
