"""Reads and bookkeeping for the agents' desks: a ticket's card with all it shows, a message with
its files, and where each ticket's card stands on a desk (DeskPost)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.storage.db import Database
from core.storage.models import Agent, Attachment, Customer, DeskPost, Ticket, TicketMessage


@dataclass(frozen=True, slots=True)
class CardState:
    """Everything a ticket's card shows, read in one transaction."""

    ticket: Ticket
    customer: Customer
    assignee: Agent | None
    post: DeskPost | None
    attachment_names: list[str]  # the files of the ticket itself, not of its messages


async def card_state(db: Database, ticket_id: int) -> CardState:
    async with db.read() as session:
        ticket = await session.get_one(Ticket, ticket_id)
        customer = await session.get_one(Customer, ticket.customer_id)
        assignee = await session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
        post = await session.get(DeskPost, ticket_id)
        names = list((await session.execute(
            select(Attachment.filename).where(Attachment.ticket_id == ticket_id, Attachment.message_id.is_(None))
        )).scalars())
    return CardState(ticket, customer, assignee, post, names)


async def message_with_files(db: Database, message_id: int) -> tuple[TicketMessage, list[Attachment]]:
    async with db.read() as session:
        message = await session.get_one(TicketMessage, message_id)
        files = list((await session.execute(
            select(Attachment).where(Attachment.message_id == message_id).order_by(Attachment.id))).scalars())
    return message, files


async def agent_by_id(db: Database, agent_id: int) -> Agent | None:
    async with db.read() as session:
        return await session.get(Agent, agent_id)


async def post_at(db: Database, channel: str, ts: str) -> DeskPost | None:
    """The card posted at `ts` in `channel` (a desk's thread root), if it is a ticket's."""
    async with db.read() as session:
        return (await session.execute(
            select(DeskPost).where(DeskPost.channel == channel, DeskPost.ts == ts))).scalar_one_or_none()


async def save_post(db: Database, ticket_id: int, channel: str, ts: str, now: datetime) -> DeskPost:
    post = DeskPost(ticket_id=ticket_id, channel=channel, ts=ts, created_at=now)
    async with db.write() as session:
        session.add(post)
    return post
