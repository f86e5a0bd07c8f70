"""Writing notifications into the outbox, inside the caller's transaction.

The relay that delivers them lives in core.delivery.relay; here is only what every write path needs:
a change and the news of it commit together, or neither does. Each row queued here reaches its
chat once: the relay sends a row only while it holds it, and never one that another live worker
holds; a second copy needs a crash between a send and its record.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.domain.config import HelpdeskConfig
from core.storage.models import Customer, OutboxMessage, Ticket

if TYPE_CHECKING:  # at run time it would import the conversation, which imports this module
    from core.chat.messages import Reply

DESK_PREFIX = "desk:"
"""Outbox platform of an agents' desk: `desk:<channel>`, one row per desk that shows a ticket
(or, for news of no ticket, per desk chat that hears it), delivered by that channel's
DeskSender. The chat is the desk's (a channel, a group), so that the relay paces the desk's own
limit."""


def desk_platform(channel: str) -> str:
    return f"{DESK_PREFIX}{channel}"


@dataclass(frozen=True, slots=True)
class DeskRoutes:
    """Where each connected desk shows a department's tickets: the department's own chat on that
    desk (`<channel>_channel` in the configuration), else the desk's default chat."""

    config: HelpdeskConfig
    defaults: Mapping[str, str | None] = field(default_factory=dict)  # desk channel -> default chat

    def __bool__(self) -> bool:
        return bool(self.defaults)

    def chats(self, department: str) -> list[tuple[str, str]]:
        """(outbox platform, chat) of every desk that shows this department's tickets."""
        found = ((channel, desk_chat(self.config, channel, department, default))
                 for channel, default in self.defaults.items())
        return [(desk_platform(channel), chat) for channel, chat in found if chat]

    def every_desk(self) -> list[tuple[str, str]]:
        """(outbox platform, chat) where news of no ticket goes: each desk's default chat, or, for a
        desk without one, every chat its departments name there, so that somebody sees it."""
        found: list[tuple[str, str]] = []
        for channel, default in self.defaults.items():
            named = [default] if default else [d.desks[channel] for d in self.config.departments
                                               if d.desks.get(channel)]
            found += [(desk_platform(channel), chat) for chat in dict.fromkeys(named)]
        return found


def desk_chat(config: HelpdeskConfig, channel: str, department: str, default: str | None) -> str | None:
    """The chat where a desk shows a department's tickets: the department's own there, else the
    desk's default."""
    dep = config.department(department)
    return (dep.desks.get(channel) if dep else None) or default


_QUEUED = "helpdesk_outbox_queued"
_relays: weakref.WeakSet[asyncio.Event] = weakref.WeakSet()


def wake_on_commit(wake: asyncio.Event) -> None:
    """Set `wake` whenever a transaction of this process that queued news commits (and only
    then: profiled, looking at the outbox after every update cost more than the update)."""
    _relays.add(wake)


@event.listens_for(Session, "after_commit")
def _queued_committed(session: Session) -> None:
    if session.get_nested_transaction() is None and session.info.pop(_QUEUED, False):  # the outermost
        for wake in list(_relays):
            wake.set()


@event.listens_for(Session, "after_rollback")
def _queued_rolled_back(session: Session) -> None:
    session.info.pop(_QUEUED, None)


def _queue(
    session: AsyncSession, *, platform: str, chat_id: str, event: str, now: datetime,
    customer_id: int | None, ticket_id: int | None, params: dict[str, Any], key: str | None = None,
) -> OutboxMessage:
    row = OutboxMessage(
        idempotency_key=f"{platform}:{event}:{key or uuid.uuid4().hex}",
        platform=platform,
        chat_id=chat_id,
        customer_id=customer_id,
        ticket_id=ticket_id,
        event=event,
        params=params,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.info[_QUEUED] = True
    return row


def notify_customer(
    session: AsyncSession,
    customer: Customer,
    event: str,
    now: datetime,
    *,
    ticket: Ticket | None = None,
    **params: Any,
) -> OutboxMessage:
    """Queue `event` for the customer's chat; rendered in their language when sent."""
    return _queue(session, platform=customer.platform, chat_id=customer.chat_id, event=event, now=now,
                  customer_id=customer.id, ticket_id=ticket.id if ticket is not None else None,
                  params=params)


SECRET_REPLY = "secret_reply"
"""A reply that holds a secret (a verification code): its words are erased from the outbox as
soon as it is sent or given up, so the database keeps no copy of the secret."""


def queue_reply(
    session: AsyncSession, platform: str, chat_id: str, reply: Reply, now: datetime, *, secret: bool = False
) -> OutboxMessage:
    """Queue a conversation reply, rendered already, for the relay to send (event "reply", or
    SECRET_REPLY)."""
    return _queue(session, platform=platform, chat_id=chat_id, event=SECRET_REPLY if secret else "reply",
                  now=now, customer_id=None, ticket_id=None, params={"reply": reply.to_json()})


def notify_desk(
    session: AsyncSession, ticket: Ticket, routes: DeskRoutes, event: str, now: datetime, *,
    only: set[tuple[str, str]] | None = None, **params: Any
) -> list[OutboxMessage]:
    """Queue news of a ticket for every desk that shows it (its card and thread there), or only
    for those of them in `only`."""
    return [_queue(session, platform=platform, chat_id=chat, event=event, now=now, customer_id=None,
                   ticket_id=ticket.id, params={"number": ticket.number, **params})
            for platform, chat in routes.chats(ticket.department) if only is None or (platform, chat) in only]


def notify_desks(
    session: AsyncSession, routes: DeskRoutes, event: str, now: datetime, **params: Any
) -> list[OutboxMessage]:
    """Queue news that belongs to no ticket for every connected desk. The row's chat rides in its
    params too (`chat`): with no ticket, the desk has nothing else to find it by."""
    return [_queue(session, platform=platform, chat_id=chat, event=event, now=now, customer_id=None,
                   ticket_id=None, params={**params, "chat": chat})
            for platform, chat in routes.every_desk()]


def notify_desk_once(
    session: AsyncSession, platform: str, chat: str, event: str, now: datetime, *, key: str, **params: Any
) -> OutboxMessage:
    """Queue news of no ticket for one desk chat under a key of the caller's (at most 80
    characters): a second row with the same platform, event and key breaks the outbox's unique
    idempotency key, so two processes that both queue it commit one."""
    return _queue(session, platform=platform, chat_id=chat, event=event, now=now, customer_id=None,
                  ticket_id=None, params={**params, "chat": chat}, key=key[:80])
