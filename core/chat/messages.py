"""Neutral inbound events and outbound replies exchanged with the adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.delivery.attachments import IncomingFile


@dataclass(frozen=True, slots=True)
class Inbound:
    """Something a customer did: typed text (commands included), pressed a button, sent a file."""

    platform: str
    user_id: str
    chat_id: str
    display_name: str = ""
    language_code: str | None = None  # the platform's idea of the user's language
    text: str | None = None
    choice: str | None = None  # the key of a Choice shown earlier
    file: IncomingFile | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """A button. `key` is short ASCII (at most 64 bytes): it travels as callback data."""

    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    """Plain text (adapters escape it for their markup) and optional rows of choices."""

    text: str
    choices: tuple[tuple[Choice, ...], ...] = field(default=())
    locale: str = "en"
    expects_text: bool = False  # a free-text step: its buttons are only navigation
    files: tuple[tuple[str, str], ...] = ()  # (stored path, file name) sent along
    ticket: int | None = None  # the ticket it is about (a channel that threads by ticket uses it)
    personal: bool = False  # written by a person (an agent's answer), not by the bot

    @property
    def flat_choices(self) -> list[Choice]:
        return [c for row in self.choices for c in row]

    def to_json(self) -> dict[str, Any]:
        """A plain form to keep in the database until the reply was sent."""
        return {"text": self.text, "choices": [[[c.key, c.label] for c in row] for row in self.choices],
                "locale": self.locale, "expects_text": self.expects_text,
                "files": [list(f) for f in self.files], "ticket": self.ticket, "personal": self.personal}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(text=data["text"], locale=data["locale"], expects_text=data["expects_text"],
                   choices=tuple(tuple(Choice(k, label) for k, label in row) for row in data["choices"]),
                   files=tuple((path, name) for path, name in data["files"]),
                   ticket=data.get("ticket"), personal=bool(data.get("personal", False)))


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
