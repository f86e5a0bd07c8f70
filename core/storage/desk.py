"""Reads and bookkeeping for the agents' desks: a ticket's card with all it shows, a message with
its files, and where each ticket's card stands on a desk (DeskPost)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from core.storage.db import Database
from core.storage.models import (
    Agent,
    Attachment,
    Customer,
    DeskPost,
    Organisation,
    OutboxMessage,
    Quote,
    Ticket,
    TicketMessage,
    TimeEntry,
)


@dataclass(frozen=True, slots=True)
class CardState:
    """Everything a ticket's card shows, read in one transaction."""

    ticket: Ticket
    customer: Customer
    assignee: Agent | None
    post: DeskPost | None
    attachment_names: list[str]  # the files of the ticket itself, not of its messages
    organisation: Organisation | None = None  # the requester's, if they belong to one
    minutes: int = 0  # the time logged on it by agents
    quote: Quote | None = None  # its newest quote for paid work, whatever its state
    quote_by: str = ""  # the customer who approved or declined it


async def card_state(db: Database, ticket_id: int, desk: str) -> CardState:
    """The ticket's card as `desk` shows it (its post there, if it has one yet)."""
    async with db.read() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        customer = await session.get_one(Customer, ticket.customer_id)
        assignee = await session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
        post = await session.get(DeskPost, (ticket_id, desk))
        organisation = (await session.get(Organisation, customer.organisation_id)
                        if customer.organisation_id is not None else None)
        names = list((await session.execute(
            select(Attachment.filename).where(Attachment.ticket_id == ticket_id, Attachment.message_id.is_(None))
        )).scalars())
        minutes = int((await session.execute(select(func.coalesce(func.sum(TimeEntry.minutes), 0))
                                             .where(TimeEntry.ticket_id == ticket_id))).scalar_one())
        quote = (await session.execute(select(Quote).where(Quote.ticket_id == ticket_id)
                                       .order_by(Quote.id.desc()).limit(1))).scalars().first()
        decider = await session.get(Customer, quote.decided_by_customer_id) if quote and \
            quote.decided_by_customer_id else None
        quote_by = (decider.display_name or decider.address or decider.platform_user_id) if decider else ""
    return CardState(ticket, customer, assignee, post, names, organisation, minutes, quote, quote_by)


async def message_with_files(db: Database, message_id: int) -> tuple[TicketMessage, list[Attachment]] | None:
    """A ticket's message and its files; None for one the customer took back meanwhile."""
    async with db.read() as session:
        message = await session.get(TicketMessage, message_id)
        if message is None:
            return None
        files = list((await session.execute(
            select(Attachment).where(Attachment.message_id == message_id).order_by(Attachment.id))).scalars())
    return message, files


async def agent_by_id(db: Database, agent_id: int) -> Agent | None:
    async with db.read() as session:
        return await session.get(Agent, agent_id)


async def agents_on(db: Database, platform: str) -> list[Agent]:
    """The agents known on a desk's platform (each has acted there, or was assigned a ticket)."""
    async with db.read() as session:
        return list((await session.execute(select(Agent).where(Agent.platform == platform)
                                           .order_by(Agent.display_name, Agent.id))).scalars())


async def post_at(db: Database, desk: str, channel: str, ts: str) -> DeskPost | None:
    """The ticket whose thread on `desk` is `ts` in `channel`, if it is a ticket's."""
    async with db.read() as session:
        return (await session.execute(select(DeskPost).where(
            DeskPost.desk == desk, DeskPost.channel == channel, DeskPost.ts == ts))).scalar_one_or_none()


async def save_post(db: Database, ticket_id: int, desk: str, channel: str, ts: str, now: datetime, *,
                    card: str | None = None, digest: str | None = None) -> DeskPost:
    """Record a ticket's new thread on a desk; its card is the thread's root unless named."""
    post = DeskPost(ticket_id=ticket_id, desk=desk, channel=channel, ts=ts, card=card or ts, card_digest=digest,
                    closed=False, created_at=now)
    async with db.write() as session:
        session.add(post)
    return post


async def update_post(db: Database, post: DeskPost, **values: object) -> None:
    """Record what changed of a post (its card's digest, its thread closed or opened)."""
    async with db.write() as session:
        await session.execute(update(DeskPost).where(
            DeskPost.ticket_id == post.ticket_id, DeskPost.desk == post.desk).values(**values))
    for key, value in values.items():
        setattr(post, key, value)


async def move_post(db: Database, post: DeskPost, channel: str, ts: str, card: str, now: datetime) -> None:
    """Record that a ticket's thread on a desk was made anew (the old one was deleted there)."""
    await update_post(db, post, channel=channel, ts=ts, card=card, card_digest=None, closed=False, created_at=now)


async def recent_messages(db: Database, ticket_id: int, limit: int) -> list[TicketMessage]:
    """The ticket's last messages, oldest first (a thread made anew shows them)."""
    async with db.read() as session:
        found = list((await session.execute(select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
                                            .order_by(TicketMessage.id.desc()).limit(limit))).scalars())
    return found[::-1]


async def messages_on_the_way(db: Database, ticket_id: int, platform: str) -> set[int]:
    """The ticket's messages whose news for one desk (its outbox platform) is not delivered yet:
    a thread made anew recalls the others, these follow in full."""
    async with db.read() as session:
        rows = (await session.execute(select(OutboxMessage.params).where(
            OutboxMessage.ticket_id == ticket_id, OutboxMessage.platform == platform,
            OutboxMessage.status.in_(("pending", "sending"))))).scalars()
        return {int(p["message_id"]) for p in rows if isinstance(p, dict) and "message_id" in p}


async def ticket_files(db: Database, ticket_id: int) -> list[Attachment]:
    """The files of the ticket itself (not of its messages), in the order they came."""
    async with db.read() as session:
        return list((await session.execute(select(Attachment).where(
            Attachment.ticket_id == ticket_id, Attachment.message_id.is_(None)).order_by(Attachment.id))).scalars())
