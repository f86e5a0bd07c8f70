"""The ticket service: every change of a ticket, one transaction each, news in the outbox.

Methods raise core.domain.errors.DomainError subclasses on bad input; when they do, nothing of the
operation has been written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.delivery.outbox import notify_customer, notify_desk
from core.domain import sla
from core.domain.clock import Clock, utcnow
from core.domain.config import HelpdeskConfig
from core.domain.errors import (
    EmptyField,
    EscalationTooEarly,
    FieldTooLong,
    NotYourTicket,
    RatingNotPossible,
    TicketNotFound,
    TooManyNewTickets,
    TooManyOpenTickets,
    TopTierReached,
    UnknownAgent,
    UnknownDepartment,
    UnknownPriority,
    UnknownRequestType,
)
from core.domain.lifecycle import check_transition, rated
from core.domain.model import (
    DESCRIPTION_MAX,
    DONE_STATUSES,
    MESSAGE_MAX,
    OPEN_STATUSES,
    SUBJECT_MAX,
    TIERS,
    Actor,
    MessageKind,
    Status,
    TicketFilter,
    Who,
)
from core.metrics import TICKETS_OPENED
from core.storage.db import Database
from core.storage.models import (
    QUEUE_OPEN,
    Agent,
    Attachment,
    Counter,
    Customer,
    Draft,
    Rating,
    StatusChange,
    Ticket,
    TicketMessage,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """A file already stored under ATTACHMENTS_DIR, to be linked to a ticket."""

    filename: str
    mime_type: str
    size: int
    sha256: str
    stored_path: str
    platform_file_id: str | None = None


# Direction overrides and isolates could make a subject read backwards to an agent (U+202E);
# other control characters have no place in a ticket. Line breaks and tabs stay; so do the
# zero-width joiners and marks that Persian text and emoji need.
_NEUTRALIZE = {cp: None for cp in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF)}
_NEUTRALIZE.update({cp: None for cp in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)) if cp not in (0x09, 0x0A)})
_NEUTRALIZE[0x0D] = None


def neutralize(text: str) -> str:
    return text.translate(_NEUTRALIZE)


def clean(field: str, value: str, limit: int) -> str:
    """The text without surrounding blanks or hostile controls; empty or over-long is an error."""
    text = neutralize(value).strip()
    if not text:
        raise EmptyField(field)
    if len(text) > limit:
        raise FieldTooLong(field, limit, len(text))
    return text


class TicketService:
    def __init__(
        self, db: Database, config: HelpdeskConfig, clock: Clock = utcnow, *, desk: bool = False
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.desk = desk  # an agents' desk (Slack) is connected: tell it about every change

    def _desk(self, session: AsyncSession, ticket: Ticket, event: str, now: datetime, **params: object) -> None:
        if self.desk:
            notify_desk(session, ticket, event, now, **params)

    # -- people -------------------------------------------------------------------------

    async def customer(
        self,
        platform: str,
        platform_user_id: str,
        chat_id: str,
        display_name: str = "",
        locale: str | None = None,
    ) -> Customer:
        """The customer behind a platform identity, created on first contact."""
        query = select(Customer).where(
            Customer.platform == platform, Customer.platform_user_id == platform_user_id
        )
        async with self.db.read() as session:
            found = (await session.execute(query)).scalar_one_or_none()
        if found is not None and found.chat_id == chat_id and found.reachable:
            return found
        async with self.db.write(savepoint=False) as session:  # nothing here raises a domain error
            found = (await session.execute(query)).scalar_one_or_none()
            if found is None:
                found = Customer(
                    platform=platform,
                    platform_user_id=platform_user_id,
                    chat_id=chat_id,
                    display_name=display_name[:200],
                    locale=locale,
                    reachable=True,
                    created_at=self.clock(),
                )
                session.add(found)
            else:
                # A customer who writes again can be reached again, perhaps in a new chat.
                found.chat_id = chat_id
                found.reachable = True
            await session.flush()
            return found

    async def set_customer_locale(self, customer_id: int, locale: str) -> None:
        async with self.db.write(savepoint=False) as session:
            await session.execute(
                update(Customer).where(Customer.id == customer_id).values(locale=locale)
            )

    async def rate(self, customer_id: int, number: int, score: int, comment: str | None = None) -> Ticket:
        """The customer's satisfaction with a ticket closed after a solution (lifecycle.rated),
        given once, kept with the agent who handled it."""
        if not 1 <= score <= 5:
            raise RatingNotPossible(number)
        now = self.clock()
        async with self.db.write() as session:
            ticket = await self._owned(session, customer_id, number, lock=True)
            if ticket.status != Status.CLOSED:
                raise RatingNotPossible(number)
            closing = (await session.execute(
                select(StatusChange.from_status, StatusChange.reason).where(StatusChange.ticket_id == ticket.id)
                .order_by(StatusChange.id.desc()).limit(1))).first()
            previous = Status(closing[0]) if closing and closing[0] else None
            if not rated(previous, Status.CLOSED, closing[1] if closing else ""):
                raise RatingNotPossible(number, "unresolved")
            if await session.get(Rating, ticket.id) is not None:
                raise RatingNotPossible(number, "rated")
            rating = Rating(ticket_id=ticket.id, comment="", agent_id=ticket.assignee_id, score=score, rated_at=now)
            session.add(rating)
            if comment is not None:
                rating.comment = clean("message", comment, MESSAGE_MAX)
            self._desk(session, ticket, "rated", now, score=score)
            return ticket

    async def comment_rating(self, customer_id: int, number: int, comment: str) -> None:
        text = clean("message", comment, MESSAGE_MAX)
        async with self.db.write() as session:
            ticket = await self._owned(session, customer_id, number)
            rating = await session.get(Rating, ticket.id)
            if rating is None:
                raise RatingNotPossible(number)
            rating.comment = text
            self._desk(session, ticket, "rated", self.clock(), score=rating.score, comment=text)

    async def mark_unreachable(self, customer_id: int) -> None:
        async with self.db.write() as session:
            await session.execute(
                update(Customer).where(Customer.id == customer_id).values(reachable=False)
            )

    async def agent(
        self, platform: str, platform_user_id: str, display_name: str = "", locale: str = "en"
    ) -> Agent:
        query = select(Agent).where(
            Agent.platform == platform, Agent.platform_user_id == platform_user_id
        )
        async with self.db.read() as session:
            found = (await session.execute(query)).scalar_one_or_none()
        if found is not None:
            return found
        async with self.db.write(savepoint=False) as session:  # nothing here raises a domain error
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

    # -- opening ------------------------------------------------------------------------

    def resolve_priority(self, request_type: str, priority: str | None) -> str:
        """The priority a ticket gets: fixed by its type (a critical bug), chosen, or default."""
        rt = self.config.request_type(request_type)
        if rt is None:
            raise UnknownRequestType(request_type)
        if rt.fixed_priority or priority is None:
            return rt.default_priority
        if self.config.priority(priority) is None:
            raise UnknownPriority(priority)
        return priority

    async def check_can_open(self, customer_id: int, session: AsyncSession | None = None) -> None:
        """The per-customer limits on opening tickets; a domain error when one is reached."""
        limits = self.config.limits
        params = {"customer_id": customer_id, "since": self.clock() - timedelta(hours=1)}
        if session is None:
            async with self.db.read() as own:
                open_now, last_hour = (await (await own.connection()).execute(_OPENED, params)).one()
        else:
            open_now, last_hour = (await (await session.connection()).execute(_OPENED, params)).one()
        if open_now >= limits.open_tickets:
            raise TooManyOpenTickets(limits.open_tickets)
        if last_hour >= limits.new_tickets_per_hour:
            raise TooManyNewTickets(limits.new_tickets_per_hour)

    async def open_ticket(
        self,
        customer_id: int,
        *,
        department: str,
        request_type: str,
        subject: str,
        description: str,
        priority: str | None = None,
        attachments: Sequence[NewAttachment] = (),
        linked_to: int | None = None,
        clear_draft: bool = False,
    ) -> Ticket:
        """Open a ticket; with `clear_draft` the customer's form goes in the same transaction,
        so a crash can never leave both a ticket and the form that would open it again."""
        if self.config.department(department) is None:
            raise UnknownDepartment(department)
        priority = self.resolve_priority(request_type, priority)
        subject = clean("subject", subject, SUBJECT_MAX)
        description = clean("description", description, DESCRIPTION_MAX)
        now = self.clock()
        # Every check comes before the first change, so the block needs no savepoint.
        async with self.db.write(savepoint=False) as session:
            await self.check_can_open(customer_id, session)
            linked_id = None
            if linked_to is not None:
                linked_id = (await self._owned(session, customer_id, linked_to)).id
            number = await self._next_number(session)
            ticket = Ticket(
                number=number,
                customer_id=customer_id,
                department=department,
                request_type=request_type,
                priority=priority,
                subject=subject,
                description=description,
                status=Status.NEW,
                tier=1,
                linked_ticket_id=linked_id,
                created_at=now,
                updated_at=now,
                waiting_since=now,
            )
            sla.plan(ticket, self.config)
            session.add(ticket)
            await session.flush()
            session.add(
                StatusChange(
                    ticket_id=ticket.id,
                    actor=Actor.CUSTOMER,
                    actor_customer_id=customer_id,
                    from_status=None,
                    to_status=Status.NEW,
                    reason="opened",
                    at=now,
                )
            )
            self._attach(session, ticket, None, attachments, now)
            self._desk(session, ticket, "ticket_opened", now)
            if clear_draft:
                await session.execute(delete(Draft).where(Draft.customer_id == customer_id))
        TICKETS_OPENED.inc()
        log.info("ticket opened", extra={"ticket": ticket.number, "department": department})
        return ticket

    async def _next_number(self, session: AsyncSession) -> int:
        """A new ticket's number. On SQLite the counter row gives it inside the opening
        transaction: one writer at a time, so nobody waits on it, and numbers are gapless. On
        PostgreSQL a sequence does (revision 0010): the counter row stayed locked until the
        commit, so every process's openings went one at a time, and at 100 updates/s the
        updates benchmark's wave of submitted forms queued there (half-rate p99 0.6 s; 30-73 ms
        with the sequence). An opening that fails after this leaves a gap in the numbers."""
        statement = _NEXT_NUMBER if self.db.is_sqlite else _SEQUENCE_NUMBER
        # On the connection: a Core statement, with no ORM bookkeeping (nor an autoflush).
        return int((await (await session.connection()).execute(statement)).scalar_one())

    def _attach(
        self,
        session: AsyncSession,
        ticket: Ticket,
        message_id: int | None,
        attachments: Sequence[NewAttachment],
        now: datetime,
    ) -> None:
        for a in attachments:
            session.add(
                Attachment(
                    ticket_id=ticket.id,
                    message_id=message_id,
                    filename=a.filename,
                    mime_type=a.mime_type,
                    size=a.size,
                    sha256=a.sha256,
                    platform_file_id=a.platform_file_id,
                    stored_path=a.stored_path,
                    created_at=now,
                )
            )

    # -- messages -----------------------------------------------------------------------

    async def add_customer_message(
        self,
        customer_id: int,
        number: int,
        body: str,
        attachments: Sequence[NewAttachment] = (),
        *,
        clear_draft: bool = False,
    ) -> Ticket:
        """A customer writes to their ticket; an answer, a dispute or a reopening follows."""
        body = body.strip() if attachments and not body.strip() else clean("message", body, MESSAGE_MAX)
        now = self.clock()
        # Its checks (the ticket, the transition) come before the first change: no savepoint.
        async with self.db.write(savepoint=False) as session:
            ticket = await self._owned(session, customer_id, number, lock=True)
            current = Status(ticket.status)
            if current in (Status.WAITING, Status.RESOLVED, Status.CLOSED):
                reason = {
                    Status.WAITING: "customer_answered",
                    Status.RESOLVED: "customer_disputed",
                    Status.CLOSED: "customer_reopened",
                }[current]
                self._move(session, ticket, Status.ACCEPTED, Who.customer(customer_id), reason, now)
            msg = TicketMessage(
                ticket_id=ticket.id,
                kind=MessageKind.CUSTOMER,
                author_customer_id=customer_id,
                body=body,
                created_at=now,
            )
            session.add(msg)
            await session.flush()
            self._attach(session, ticket, msg.id, attachments, now)
            self._desk(session, ticket, "customer_message", now, message_id=msg.id)
            if ticket.waiting_since is None:
                ticket.waiting_since = now
            elif not ticket.queue_hint_sent and ticket.status in OPEN_STATUSES:
                # Writing again while unanswered: say once that it does not move the ticket up.
                ticket.queue_hint_sent = True
                ticket.queue_hint_due = True
            ticket.updated_at = now
            if clear_draft:
                await session.execute(delete(Draft).where(Draft.customer_id == customer_id))
            return ticket

    async def settle_resolution(
        self, customer_id: int, number: int, *, solved: bool, comment: str = ""
    ) -> Ticket:
        """The customer confirms a resolved ticket (closed) or says it is not solved."""
        now = self.clock()
        comment = comment.strip()
        if comment:
            comment = clean("message", comment, MESSAGE_MAX)
        async with self.db.write() as session:
            ticket = await self._owned(session, customer_id, number, lock=True)
            target = Status.CLOSED if solved else Status.ACCEPTED
            reason = "customer_confirmed" if solved else "customer_disputed"
            self._move(session, ticket, target, Who.customer(customer_id), reason, now)
            await self._ask_rating(session, now)
            if comment:
                msg = TicketMessage(
                    ticket_id=ticket.id, kind=MessageKind.CUSTOMER,
                    author_customer_id=customer_id, body=comment, created_at=now,
                )
                session.add(msg)
                await session.flush()
                self._desk(session, ticket, "customer_message", now, message_id=msg.id)
                if not solved and ticket.waiting_since is None:
                    ticket.waiting_since = now
            await session.execute(delete(Draft).where(Draft.customer_id == customer_id))
            return ticket


    async def add_agent_message(
        self,
        agent_id: int,
        number: int,
        body: str,
        *,
        internal: bool = False,
        attachments: Sequence[NewAttachment] = (),
        via: str = "",
    ) -> Ticket:
        """An agent's reply goes to the customer and waits for them; a note stays inside."""
        body = clean("message", body, MESSAGE_MAX)
        now = self.clock()
        async with self.db.write() as session:
            await self._agent_exists(session, agent_id)
            ticket = await self._by_number(session, number, lock=True)
            msg = TicketMessage(
                ticket_id=ticket.id,
                kind=MessageKind.NOTE if internal else MessageKind.AGENT,
                author_agent_id=agent_id,
                body=body,
                created_at=now,
            )
            session.add(msg)
            await session.flush()
            self._attach(session, ticket, msg.id, attachments, now)
            ticket.updated_at = now
            # `via` names the desk the agent wrote in, which shows the message already.
            self._desk(session, ticket, "agent_message", now, message_id=msg.id, via=via)
            if internal:
                return ticket
            if ticket.status in (Status.NEW, Status.ACCEPTED):
                self._move(session, ticket, Status.WAITING, Who.agent(agent_id), "agent_replied", now)
            if ticket.first_response_at is None:
                ticket.first_response_at = now
            ticket.waiting_since = None
            customer = await session.get_one(Customer, ticket.customer_id)
            notify_customer(
                session, customer, "agent_reply", now, ticket=ticket,
                number=ticket.number, body=body, message_id=msg.id,
                files=[{"path": a.stored_path, "name": a.filename} for a in attachments],
            )
            return ticket

    # -- agent actions ------------------------------------------------------------------

    async def assign(self, number: int, agent_id: int, by: Who) -> Ticket:
        now = self.clock()
        async with self.db.write() as session:
            await self._agent_exists(session, agent_id)
            ticket = await self._by_number(session, number, lock=True)
            ticket.assignee_id = agent_id
            ticket.updated_at = now
            self._desk(session, ticket, "assigned", now, agent_id=agent_id,
                       by=by.id if by.actor == Actor.AGENT else None)
            if ticket.status == Status.NEW:
                self._move(session, ticket, Status.ACCEPTED, by, "assigned", now)
                await self._tell_status(session, ticket, Status.NEW, now)
            return ticket

    async def change_status(self, number: int, target: Status, by: Who, reason: str = "") -> Ticket:
        now = self.clock()
        async with self.db.write() as session:
            if by.actor == Actor.CUSTOMER:
                assert by.id is not None
                ticket = await self._owned(session, by.id, number, lock=True)
            else:
                if by.actor == Actor.AGENT:
                    assert by.id is not None
                    await self._agent_exists(session, by.id)
                ticket = await self._by_number(session, number, lock=True)
            previous = Status(ticket.status)
            self._move(session, ticket, target, by, reason, now)
            if by.actor != Actor.CUSTOMER:
                await self._tell_status(session, ticket, previous, now, reason)
            else:
                await self._ask_rating(session, now)
        log.info("ticket status changed", extra={"ticket": ticket.number, "old": previous.value,
                                                 "new": target.value, "actor": by.actor.value})
        return ticket

    async def escalate(self, number: int, by: Who, reason: str = "") -> Ticket:
        now = self.clock()
        async with self.db.write() as session:
            if by.actor == Actor.CUSTOMER:
                assert by.id is not None
                ticket = await self._owned(session, by.id, number, lock=True)
            else:
                ticket = await self._by_number(session, number, lock=True)
            await self._escalate(session, ticket, by, reason, now)
            return ticket

    async def request_escalation(self, customer_id: int, number: int) -> Ticket:
        """A customer asks to escalate: only once the first response is overdue."""
        now = self.clock()
        async with self.db.write() as session:
            ticket = await self._owned(session, customer_id, number, lock=True)
            if not sla.first_response_overdue(ticket, now):
                assert ticket.first_response_due is not None or ticket.first_response_at is not None
                raise EscalationTooEarly(ticket.number, ticket.first_response_due)
            await self._escalate(session, ticket, Who.customer(customer_id), "customer_request", now)
            return ticket

    async def _escalate(self, session: AsyncSession, ticket: Ticket, by: Who, reason: str, now: datetime) -> None:
        if ticket.tier >= TIERS[-1]:
            raise TopTierReached(ticket.number)
        ticket.tier += 1
        ticket.updated_at = now
        session.add(
            TicketMessage(
                ticket_id=ticket.id,
                kind=MessageKind.SYSTEM,
                author_agent_id=by.id if by.actor == Actor.AGENT else None,
                author_customer_id=by.id if by.actor == Actor.CUSTOMER else None,
                body=f"escalated to L{ticket.tier}" + (f": {reason}" if reason else ""),
                created_at=now,
            )
        )
        if by.actor != Actor.CUSTOMER:  # a customer who asked is answered in the chat at once
            customer = await session.get_one(Customer, ticket.customer_id)
            notify_customer(
                session, customer, "escalated", now, ticket=ticket,
                number=ticket.number, tier=ticket.tier,
            )
        self._desk(session, ticket, "escalated", now, tier=ticket.tier, actor=by.actor.value,
                   by=by.id, reason=reason)

    async def set_priority(self, number: int, priority: str, by: Who) -> Ticket:
        if self.config.priority(priority) is None:
            raise UnknownPriority(priority)
        now = self.clock()
        async with self.db.write() as session:
            if by.actor == Actor.AGENT:
                assert by.id is not None
                await self._agent_exists(session, by.id)
            ticket = await self._by_number(session, number, lock=True)
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
            self._desk(session, ticket, "priority_changed", now, old=old, new=priority, by=by.id)
            return ticket

    def _move(
        self, session: AsyncSession, ticket: Ticket, target: Status, by: Who, reason: str,
        now: datetime,
    ) -> None:
        current = Status(ticket.status)
        check_transition(
            current, target, by.actor,
            number=ticket.number,
            closed_at=ticket.closed_at,
            now=now,
            reopen_window=timedelta(days=self.config.lifecycle.reopen_window_days),
        )
        sla.on_transition(ticket, current, target, now, self.config)
        ticket.status = target
        ticket.updated_at = now
        if target == Status.RESOLVED:
            ticket.resolved_at = now
        elif target == Status.CLOSED:
            ticket.closed_at = now
        elif current in DONE_STATUSES:  # reopened or disputed
            ticket.resolved_at = None
            ticket.closed_at = None
        session.add(
            StatusChange(
                ticket_id=ticket.id,
                actor=by.actor,
                actor_customer_id=by.id if by.actor == Actor.CUSTOMER else None,
                actor_agent_id=by.id if by.actor == Actor.AGENT else None,
                from_status=current,
                to_status=target,
                reason=reason,
                at=now,
            )
        )
        self._desk(session, ticket, "status_changed", now, old=current.value, new=target.value,
                   actor=by.actor.value, by=by.id, reason=reason)
        if rated(current, target, reason):
            session.info.setdefault("rating_due", []).append(ticket)

    async def _tell_status(
        self, session: AsyncSession, ticket: Ticket, previous: Status, now: datetime, reason: str = ""
    ) -> None:
        customer = await session.get_one(Customer, ticket.customer_id)
        notify_customer(
            session, customer, "status_changed", now, ticket=ticket,
            number=ticket.number, old=previous.value, new=ticket.status, reason=reason,
            days=self.config.lifecycle.auto_close_days,
        )
        await self._ask_rating(session, now)

    async def _ask_rating(self, session: AsyncSession, now: datetime) -> None:
        """After a ticket closes after a solution (lifecycle.rated), ask its customer how satisfied they were."""
        due: list[Ticket] = session.info.pop("rating_due", [])
        for ticket in due:
            customer = await session.get_one(Customer, ticket.customer_id)
            notify_customer(session, customer, "rating_request", now, ticket=ticket, number=ticket.number)

    # -- reading ------------------------------------------------------------------------

    async def get(self, number: int) -> Ticket:
        async with self.db.read() as session:
            return await self._by_number(session, number)

    async def get_by_id(self, ticket_id: int) -> Ticket:
        async with self.db.read() as session:
            return await session.get_one(Ticket, ticket_id)

    async def get_for_customer(self, customer_id: int, number: int) -> Ticket:
        async with self.db.read() as session:
            return await self._owned(session, customer_id, number)

    async def list_for_customer(
        self, customer_id: int, view: TicketFilter = TicketFilter.ALL, limit: int = 50
    ) -> list[Ticket]:
        query = select(Ticket).where(Ticket.customer_id == customer_id)
        if view == TicketFilter.OPEN:
            query = query.where(Ticket.status.in_(list(OPEN_STATUSES)))
        elif view == TicketFilter.DONE:
            query = query.where(Ticket.status.in_(list(DONE_STATUSES)))
        query = query.order_by(Ticket.number.desc()).limit(limit)
        async with self.db.read() as session:
            return list((await session.execute(query)).scalars())

    async def queue(
        self,
        *,
        department: str | None = None,
        unassigned: bool = False,
        assignee_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Ticket]:
        """Open tickets, the longest-waiting customer first."""
        # The partial index's predicate spelled as in the index: SQLite matches it literally.
        query = select(Ticket).where(text(QUEUE_OPEN))
        if department is not None:
            if self.config.department(department) is None:
                raise UnknownDepartment(department)
            query = query.where(Ticket.department == department)
        if unassigned:
            query = query.where(Ticket.assignee_id.is_(None))
        if assignee_id is not None:
            query = query.where(Ticket.assignee_id == assignee_id)
        query = query.order_by(Ticket.queue_rank, Ticket.number).limit(limit).offset(offset)
        async with self.db.read() as session:
            return list((await session.execute(query)).scalars())

    async def thread(self, ticket_id: int, *, internal: bool = False) -> list[TicketMessage]:
        query = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
        if not internal:
            query = query.where(TicketMessage.kind != MessageKind.NOTE)
        async with self.db.read() as session:
            return list((await session.execute(query.order_by(TicketMessage.id))).scalars())

    async def attachments(self, ticket_id: int) -> list[Attachment]:
        query = select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)
        async with self.db.read() as session:
            return list((await session.execute(query)).scalars())

    async def history(self, ticket_id: int) -> list[StatusChange]:
        query = select(StatusChange).where(StatusChange.ticket_id == ticket_id)
        async with self.db.read() as session:
            return list((await session.execute(query.order_by(StatusChange.id))).scalars())

    # -- lookups inside a transaction ---------------------------------------------------

    async def _by_number(self, session: AsyncSession, number: int, *, lock: bool = False) -> Ticket:
        query = select(Ticket).where(Ticket.number == number)
        if lock:
            query = query.with_for_update()
        ticket = (await session.execute(query)).scalar_one_or_none()
        if ticket is None:
            raise TicketNotFound(number)
        return ticket

    async def _owned(
        self, session: AsyncSession, customer_id: int, number: int, *, lock: bool = False
    ) -> Ticket:
        ticket = await self._by_number(session, number, lock=lock)
        if ticket.customer_id != customer_id:
            raise NotYourTicket(number)
        return ticket

    async def _agent_exists(self, session: AsyncSession, agent_id: int) -> None:
        if await session.get(Agent, agent_id) is None:
            raise UnknownAgent(agent_id)


# Statements run on every ticket opened, built once (building them cost more than running them).
_OPENED = select(
    func.count().filter(Ticket.status.in_(list(OPEN_STATUSES))),
    func.count().filter(Ticket.created_at >= bindparam("since")),
).where(Ticket.customer_id == bindparam("customer_id"))
_SEQUENCE_NUMBER = select(func.nextval("ticket_numbers"))
_NEXT_NUMBER = (update(Counter).where(Counter.name == "ticket").values(value=Counter.value + 1)
                .returning(Counter.value))
