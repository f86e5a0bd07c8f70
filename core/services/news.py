"""The news of a change, queued in the change's own transaction: typed events for the outbox.

Customer news goes to the customer's chat, rendered in their language when it is sent
(core.chat.notices); desk news goes to the agents' desk, when one is connected: a ticket's to the
desks that show the ticket, news of no ticket to every desk.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.delivery.outbox import DeskRoutes, notify_customer, notify_desk, notify_desks
from core.storage.models import Customer, Ticket


class CustomerNews(StrEnum):
    AGENT_REPLY = "agent_reply"
    STATUS_CHANGED = "status_changed"
    ESCALATED = "escalated"
    RATING_REQUEST = "rating_request"
    REMINDER = "reminder"
    DRAFT_EXPIRED = "draft_expired"
    ARTICLE = "article"  # a knowledge-base article an agent sent into the ticket
    QUOTE = "quote"  # a quote for paid work sent (Approve, Decline) or withdrawn


class DeskNews(StrEnum):
    TICKET_OPENED = "ticket_opened"
    CUSTOMER_MESSAGE = "customer_message"
    MESSAGE_WITHDRAWN = "message_withdrawn"  # the customer took back (or moved) a message the desk was shown
    AGENT_MESSAGE = "agent_message"
    ASSIGNED = "assigned"
    STATUS_CHANGED = "status_changed"
    PRIORITY_CHANGED = "priority_changed"
    ESCALATED = "escalated"
    RATED = "rated"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    CUSTOMER_UNREACHABLE = "customer_unreachable"  # queued by the relay, on a dead letter
    TIME_LOGGED = "time_logged"  # time logged, corrected or deleted: the card's total changed (no line in the thread)
    QUOTE = "quote"  # a quote sent, approved, declined or withdrawn: a line in the thread, the card redrawn
    SET_ASIDE = "set_aside"  # of no ticket: an incoming message the bot could not handle, set aside


class News:
    """Where a service's news goes: the customer always, and every agents' desk that shows the
    ticket's department (none when no desk is connected); news of no ticket to every desk."""

    def __init__(self, desks: DeskRoutes | None = None) -> None:
        self.desks = desks

    def desk(self, session: AsyncSession, ticket: Ticket, event: DeskNews, now: datetime, *,
             only: set[tuple[str, str]] | None = None, **params: Any) -> None:
        """`only`: just those desks (outbox platform, chat) of the ticket's, say those shown an earlier news."""
        if self.desks:
            notify_desk(session, ticket, self.desks, event.value, now, only=only, **params)

    def agents(self, session: AsyncSession, event: DeskNews, now: datetime, **params: Any) -> None:
        """News that belongs to no ticket, for every connected desk."""
        if self.desks:
            notify_desks(session, self.desks, event.value, now, **params)

    async def customer(
        self, session: AsyncSession, ticket: Ticket, event: CustomerNews, now: datetime, **params: Any
    ) -> None:
        customer = await session.get_one(Customer, ticket.customer_id)
        notify_customer(session, customer, event.value, now, ticket=ticket, number=ticket.number, **params)
