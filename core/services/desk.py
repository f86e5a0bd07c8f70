"""The agents' actions on tickets: take, assign, answer, note, move, prioritise, escalate.

Each is one transaction with its news (to the customer and to the agents' desk); a domain
error raised by one leaves nothing of it written. The adapters tell the agents here too of what
belongs to no ticket.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain import sla
from core.domain.clock import Clock
from core.domain.config import HelpdeskConfig
from core.domain.errors import AnswerForContact, HandoverRequired, UnknownPriority
from core.domain.handover import Handover, required
from core.domain.model import MESSAGE_MAX, TIERS, Actor, MessageKind, NewAttachment, Status, Who
from core.services.articles import ArticleKind, Source
from core.services.news import CustomerNews, DeskNews
from core.services.steps import Steps, agent_exists, attach, by_number, clean
from core.storage.db import Database
from core.storage.models import Agent, ArticleEvent, HandoverRecord, Ticket, TicketMessage

log = logging.getLogger(__name__)


class DeskService:
    def __init__(self, db: Database, config: HelpdeskConfig, clock: Clock, steps: Steps) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.steps = steps  # shared with the other services (Services.build): one News for all
        self.news = steps.news

    async def agent(
        self, platform: str, platform_user_id: str, display_name: str = "", locale: str = "en"
    ) -> Agent:
        """The agent behind a platform identity, created on first action."""
        query = select(Agent).where(
            Agent.platform == platform, Agent.platform_user_id == platform_user_id
        )
        async with self.db.read() as session:
            found = (await session.execute(query)).scalar_one_or_none()
        if found is not None:
            return found
        try:
            # A savepoint inside a unit: the same agent's first action at the same moment elsewhere
            # (a double press) may write the row first, and the unit goes on with theirs.
            async with self.db.write() as session:
                found = (await session.execute(query)).scalar_one_or_none()
                if found is None:
                    found = Agent(
                        platform=platform,
                        platform_user_id=platform_user_id,
                        display_name=display_name[:200],
                        locale=locale,
                        created_at=self.clock(),
                    )
                    session.add(found)
                    await session.flush()
                return found
        except IntegrityError:
            async with self.db.read() as session:
                return (await session.execute(query)).scalar_one()

    async def tell_agents(self, event: DeskNews, **params: Any) -> None:
        """News for the agents that belongs to no ticket (a message set aside), on every desk."""
        async with self.db.write(savepoint=False) as session:  # one add, nothing that raises
            self.news.agents(session, event, self.clock(), **params)

    async def add_agent_message(
        self,
        agent_id: int,
        number: int,
        body: str,
        *,
        internal: bool = False,
        attachments: Sequence[NewAttachment] = (),
        via: str = "",
        article: Mapping[str, Any] | None = None,
        to_agent: int | None = None,
    ) -> Ticket:
        """An agent's reply goes to the customer and waits for them; a note stays inside. With
        `article` (its slug, locale, title, text and whether it is in another language than the
        customer's), the reply is a knowledge-base article: the customer is sent it to read, with
        "Was this helpful?" (core.chat.notices), and it counts as shown. A note `to_agent` is
        addressed to that agent (the ticket's contact, see `contact_for`): the desks tell them."""
        body = clean("message", body, MESSAGE_MAX)
        now = self.clock()
        async with self.db.write() as session:
            await agent_exists(session, agent_id)
            ticket = await by_number(session, number, lock=True)
            if not internal and await self._contact(session, ticket, agent_id) is not None:
                raise AnswerForContact(number)  # became so since the interpreter looked
            msg = TicketMessage(
                ticket_id=ticket.id,
                kind=MessageKind.NOTE if internal else MessageKind.AGENT,
                author_agent_id=agent_id,
                body=body,
                created_at=now,
            )
            session.add(msg)
            await session.flush()
            attach(session, ticket, msg.id, attachments, now)
            ticket.updated_at = now
            # `via` names the desk the agent wrote in, which shows the message already.
            addressed: dict[str, Any] = {"to_agent": to_agent} if to_agent is not None else {}
            self.news.desk(session, ticket, DeskNews.AGENT_MESSAGE, now, message_id=msg.id, via=via, **addressed)
            if internal:
                return ticket
            if ticket.status in (Status.NEW, Status.ACCEPTED):
                self.steps.move(session, ticket, Status.WAITING, Who.agent(agent_id), "agent_replied", now)
            if ticket.first_response_at is None:
                ticket.first_response_at = now
            ticket.waiting_since = None
            if article is not None:
                session.add(ArticleEvent(kind=ArticleKind.SHOWN.value, slug=article["slug"], locale=article["locale"],
                                         customer_id=ticket.customer_id, ticket_id=ticket.id,
                                         source=Source.AGENT.value, text="", at=now))
                await self.news.customer(session, ticket, CustomerNews.ARTICLE, now, message_id=msg.id, **article)
                return ticket
            await self.news.customer(
                session, ticket, CustomerNews.AGENT_REPLY, now, body=body, message_id=msg.id,
                files=[{"path": a.stored_path, "name": a.filename} for a in attachments],
            )
            return ticket

    async def assign(self, number: int, agent_id: int, by: Who) -> Ticket:
        now = self.clock()
        async with self.db.write() as session:
            await agent_exists(session, agent_id)
            ticket = await by_number(session, number, lock=True)
            ticket.assignee_id = agent_id
            ticket.updated_at = now
            self.news.desk(session, ticket, DeskNews.ASSIGNED, now, agent_id=agent_id,
                           by=by.id if by.actor == Actor.AGENT else None)
            if ticket.status == Status.NEW:
                self.steps.move(session, ticket, Status.ACCEPTED, by, "assigned", now)
                await self.steps.tell_status(session, ticket, Status.NEW, now)
            return ticket

    async def change_status(self, number: int, target: Status, by: Who, reason: str = "") -> Ticket:
        """An agent (or the system) moves a ticket; the customer is told. Customers move their
        own tickets through TicketService."""
        if by.actor == Actor.CUSTOMER:
            raise ValueError("a customer's change of status goes through TicketService.change_status")
        now = self.clock()
        async with self.db.write() as session:
            if by.actor == Actor.AGENT:
                assert by.id is not None
                await agent_exists(session, by.id)
            ticket = await by_number(session, number, lock=True)
            previous = Status(ticket.status)
            self.steps.move(session, ticket, target, by, reason, now)
            await self.steps.tell_status(session, ticket, previous, now, reason)
        log.info("ticket status changed", extra={"ticket": ticket.number, "old": previous.value,
                                                 "new": target.value, "actor": by.actor.value})
        return ticket

    async def escalate(self, number: int, by: Who, reason: str = "", handover: Handover | None = None) -> Ticket:
        """Up one level; an agent's step to the top level needs a `handover` (core.domain.handover)."""
        now = self.clock()
        async with self.db.write() as session:
            ticket = await by_number(session, number, lock=True)
            if by.actor == Actor.AGENT:
                assert by.id is not None
                await agent_exists(session, by.id)
                if handover is None and required(ticket.tier):
                    raise HandoverRequired(ticket.number, ticket.tier + 1)
            await self.steps.escalate(session, ticket, by, reason, now, handover if by.actor == Actor.AGENT else None)
            return ticket

    async def contact_for(self, number: int, agent_id: int) -> Agent | None:
        """The agent a reply by `agent_id` goes to instead of the customer: on a ticket handed
        over to the top level, its contact (the assignee) when that is someone else."""
        async with self.db.read() as session:
            ticket = await by_number(session, number)
            contact = await self._contact(session, ticket, agent_id)
            return await session.get(Agent, contact) if contact is not None else None

    async def _contact(self, session: AsyncSession, ticket: Ticket, agent_id: int) -> int | None:
        if ticket.tier < TIERS[-1] or ticket.assignee_id is None or ticket.assignee_id == agent_id:
            return None
        handed = await session.scalar(select(HandoverRecord.id).where(
            HandoverRecord.ticket_id == ticket.id, HandoverRecord.tier == TIERS[-1]).limit(1))
        return ticket.assignee_id if handed is not None else None

    async def handover_of(self, number: int) -> tuple[HandoverRecord, Agent | None] | None:
        """A ticket's latest hand-over and the agent who wrote it."""
        async with self.db.read() as session:
            ticket = await by_number(session, number)
            found = await session.scalar(select(HandoverRecord).where(HandoverRecord.ticket_id == ticket.id)
                                         .order_by(HandoverRecord.id.desc()).limit(1))
            return (found, await session.get(Agent, found.agent_id)) if found is not None else None

    async def set_priority(self, number: int, priority: str, by: Who) -> Ticket:
        if self.config.priority(priority) is None:
            raise UnknownPriority(priority)
        now = self.clock()
        async with self.db.write() as session:
            if by.actor == Actor.AGENT:
                assert by.id is not None
                await agent_exists(session, by.id)
            ticket = await by_number(session, number, lock=True)
            old = ticket.priority
            if old == priority:
                return ticket
            ticket.priority = priority
            ticket.updated_at = now
            # The new priority's targets, counted from the opening as they would have been.
            answered_due, warned = ticket.first_response_due, ticket.first_response_warned_at
            sla.plan(ticket, self.config)
            if ticket.first_response_at is not None:
                ticket.first_response_due, ticket.first_response_warned_at = answered_due, warned
            self.news.desk(session, ticket, DeskNews.PRIORITY_CHANGED, now, old=old, new=priority, by=by.id)
            return ticket
