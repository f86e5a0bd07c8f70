"""The channel contract: what core asks of a messenger, and all it knows about one.

A channel (one folder under adapters/) turns its platform's events into Inbound, takes each
through core.delivery.pipeline.Pipeline, and sends what core gives it. It declares its own
limits (Pacing) and its identity rule (is_group); the relay paces its notifications by them and
knows nothing else about the platform. Core never names a channel: it only holds their names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from core.domain.config import ConfigError, Delivery

if TYPE_CHECKING:
    from aiohttp import web

    from core.chat.messages import Reply


class DeliveryError(Exception):
    """A send failed; `permanent` means it never will succeed (blocked, chat gone)."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Pacing:
    """A channel's limits, declared by the channel: the relay keeps every notification within
    them, so that a platform's flood limit is never met."""

    chat_interval: float = 0.0  # seconds between two messages to one private chat
    group_interval: float = 0.0  # seconds between two messages to one group chat
    global_per_second: float | None = None  # all messages of this process (the channel's client keeps it)


class Sender(Protocol):
    """Delivers a rendered reply to a customer's chat on one channel."""

    async def send(self, chat_id: str, reply: Reply) -> None: ...


class DeskSender(Protocol):
    """Shows a ticket's news to the agents (its card and thread on the agents' desk); news of no
    ticket (`ticket_id` None) goes to the chat its params name (`chat`)."""

    @property
    def interval(self) -> float: ...  # seconds between two deliveries into one desk chat

    async def deliver(self, event: str, params: dict[str, Any], ticket_id: int | None) -> None: ...


class Channel(Protocol):
    """What the relay needs of a channel: where its notifications go and how fast."""

    @property
    def name(self) -> str: ...
    @property
    def pacing(self) -> Pacing: ...
    @property
    def sender(self) -> Sender: ...
    @property
    def desk(self) -> DeskSender | None: ...  # the agents' desk it serves, if any

    def is_group(self, chat_id: str) -> bool: ...


class ServedChannel(Channel, Protocol):
    """A channel the bot server runs: started with its HTTP routes, probed, stopped, closed."""

    def routes(self) -> list[web.RouteDef]: ...
    def health(self) -> tuple[bool, str]: ...
    async def start(self, http: web.Application | None = None) -> None: ...
    async def stop(self) -> None: ...  # takes no more events, finishes those in hand
    async def close(self) -> None: ...  # after the relay's last pass: release connections


def pace_keys(delivery: Delivery, channel: str, defaults: dict[str, float]) -> dict[str, float]:
    """A channel's keys in the configuration's [delivery] section (`<channel>_<key>`) over the
    defaults it declares: every key must be one of them, and a number of seconds or a rate
    that is not negative (ConfigError naming the key otherwise)."""
    given = delivery.channels.get(channel, {})
    for key, value in given.items():
        if key not in defaults:
            raise ConfigError(f"[delivery] {channel}_{key}: unknown key")
        if value < 0:
            raise ConfigError(f"[delivery] {channel}_{key}: must not be negative")
    return {**defaults, **given}
