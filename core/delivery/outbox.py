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
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.storage.models import Customer, OutboxMessage, Ticket

if TYPE_CHECKING:  # at run time it would import the conversation, which imports this module
    from core.chat.messages import Reply

AGENTS_DESK = "desk"
"""Outbox platform of the agents' desk: one chat per department, delivered by the channel that
serves the desk (its DeskSender). The stored value stays "desk": rows already queued keep it."""
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
    customer_id: int | None, ticket_id: int | None, params: dict[str, Any],
) -> OutboxMessage:
    row = OutboxMessage(
        idempotency_key=f"{platform}:{event}:{uuid.uuid4().hex}",
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


def queue_reply(
    session: AsyncSession, platform: str, chat_id: str, reply: Reply, now: datetime
) -> OutboxMessage:
    """Queue a conversation reply, rendered already, for the relay to send (event "reply")."""
    return _queue(session, platform=platform, chat_id=chat_id, event="reply", now=now,
                  customer_id=None, ticket_id=None, params={"reply": reply.to_json()})


def notify_desk(
    session: AsyncSession, ticket: Ticket, event: str, now: datetime, **params: Any
) -> OutboxMessage:
    """Queue news of a ticket for the agents (the department's channel and the ticket's thread)."""
    return _queue(session, platform=AGENTS_DESK, chat_id=ticket.department, event=event, now=now,
                  customer_id=None, ticket_id=ticket.id, params={"number": ticket.number, **params})
