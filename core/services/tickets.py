"""The customers' actions on their tickets: open, write, confirm or dispute a solution,
withdraw, ask for escalation, rate.

Each is one transaction with its news; a domain error raised by one leaves nothing of it written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain import sla
from core.domain.access import Deed
from core.domain.clock import Clock
from core.domain.config import HelpdeskConfig
from core.domain.errors import (
    EscalationTooEarly,
    IllegalTransition,
    RatingNotPossible,
    TooManyNewTickets,
    TooManyOpenTickets,
    UndoWindowPassed,
    UnknownDepartment,
    UnknownPriority,
    UnknownRequestType,
)
from core.domain.lifecycle import rated
from core.domain.model import (
    DESCRIPTION_MAX,
    MESSAGE_MAX,
    OPEN_STATUSES,
    SUBJECT_MAX,
    Actor,
    MessageKind,
    NewAttachment,
    Status,
    Who,
)
from core.metrics import TICKETS_OPENED
from core.services.news import DeskNews
from core.services.steps import Steps, attach, clean, owned
from core.services.takeback import TakenBack, drop_files, take_out, theirs
from core.storage.db import Database
from core.storage.models import (
    Counter,
    Draft,
    Rating,
    StatusChange,
    Ticket,
    TicketMessage,
)

log = logging.getLogger(__name__)


class TicketService:
    def __init__(self, db: Database, config: HelpdeskConfig, clock: Clock, steps: Steps) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.steps = steps  # shared with the other services (Services.build): one News for all
        self.news = steps.news

    async def rate(self, customer_id: int, number: int, score: int, comment: str | None = None) -> Ticket:
        """The customer's satisfaction with a ticket closed after a solution (lifecycle.rated),
        given once, kept with the agent who handled it."""
        if not 1 <= score <= 5:
            raise RatingNotPossible(number)
        now = self.clock()
        async with self.db.write() as session:
            ticket = await owned(session, customer_id, number, lock=True, deed=Deed.RATE)
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
            self.news.desk(session, ticket, DeskNews.RATED, now, score=score)
            return ticket

    async def comment_rating(self, customer_id: int, number: int, comment: str) -> None:
        text = clean("message", comment, MESSAGE_MAX)
        async with self.db.write() as session:
            ticket = await owned(session, customer_id, number, deed=Deed.RATE)
            rating = await session.get(Rating, ticket.id)
            if rating is None:
                raise RatingNotPossible(number)
            rating.comment = text
            self.news.desk(session, ticket, DeskNews.RATED, self.clock(), score=rating.score, comment=text)

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
        moving: int | None = None,
    ) -> Ticket:
        """Open a ticket; with `clear_draft` the customer's form goes in the same transaction,
        so a crash can never leave both a ticket and the form that would open it again. `moving`:
        the customer's message that is the new ticket's description leaves its ticket in the same
        transaction (its files are among `attachments`); gone already (undone), it is not missed."""
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
                linked_id = (await owned(session, customer_id, linked_to)).id
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
            attach(session, ticket, None, attachments, now)
            self.news.desk(session, ticket, DeskNews.TICKET_OPENED, now)
            moved = await theirs(session, customer_id, moving) if moving is not None else None
            if moved is not None:
                old = await session.get_one(Ticket, moved.ticket_id, with_for_update=True)
                await take_out(session, self.news, self.config, old, moved, now, ticket)
            if clear_draft:
                await session.execute(delete(Draft).where(Draft.customer_id == customer_id))
        TICKETS_OPENED.inc()
        log.info("ticket opened", extra={"ticket": ticket.number, "department": department})
        return ticket

    async def _next_number(self, session: AsyncSession) -> int:
        """A new ticket's number. On SQLite the counter row gives it inside the opening
        transaction: one writer at a time, so nobody waits on it, and numbers are gapless. On
        PostgreSQL a sequence does (revision 0010): a counter row would stay locked until the
        commit, so every process's openings would go one at a time (docs/benchmarks.md). An
        opening that fails after this leaves a gap in the numbers."""
        statement = _NEXT_NUMBER if self.db.is_sqlite else _SEQUENCE_NUMBER
        # On the connection: a Core statement, with no ORM bookkeeping (nor an autoflush).
        return int((await (await session.connection()).execute(statement)).scalar_one())

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
            ticket = await owned(session, customer_id, number, lock=True, deed=Deed.WRITE)
            await self._write(session, ticket, customer_id, body, attachments, now)
            if clear_draft:
                await session.execute(delete(Draft).where(Draft.customer_id == customer_id))
            return ticket

    async def _write(self, session: AsyncSession, ticket: Ticket, customer_id: int, body: str,
                     attachments: Sequence[NewAttachment], now: datetime) -> None:
        current = Status(ticket.status)
        if current in (Status.WAITING, Status.RESOLVED, Status.CLOSED):
            reason = {
                Status.WAITING: "customer_answered",
                Status.RESOLVED: "customer_disputed",
                Status.CLOSED: "customer_reopened",
            }[current]
            self.steps.move(session, ticket, Status.ACCEPTED, Who.customer(customer_id), reason, now)
        msg = TicketMessage(
            ticket_id=ticket.id,
            kind=MessageKind.CUSTOMER,
            author_customer_id=customer_id,
            body=body,
            created_at=now,
        )
        session.add(msg)
        await session.flush()
        attach(session, ticket, msg.id, attachments, now)
        self.news.desk(session, ticket, DeskNews.CUSTOMER_MESSAGE, now, message_id=msg.id)
        if ticket.waiting_since is None:
            ticket.waiting_since = now
        elif not ticket.queue_hint_sent and ticket.status in OPEN_STATUSES:
            # Writing again while unanswered: say once that it does not move the ticket up.
            ticket.queue_hint_sent = True
            ticket.queue_hint_due = True
        ticket.updated_at = now
        ticket.added_message = msg.id
        ticket.reopened = current == Status.CLOSED

    async def take_back_message(
        self, customer_id: int, message_id: int, window: timedelta, *, to: int | None = None
    ) -> TakenBack | None:
        """The customer takes their message out of its ticket within `window` of writing it, and
        with `to` adds it to that ticket of theirs instead (its files with it); else its files go.
        None when the message is not (any more) theirs to take back."""
        now = self.clock()
        # A savepoint: adding to `to` may be refused (its reopening window passed) after the
        # message left, and inside the event's unit nothing of it may stay then.
        async with self.db.write() as session:
            msg = await theirs(session, customer_id, message_id)
            if msg is None:
                return None
            ticket = await session.get_one(Ticket, msg.ticket_id, with_for_update=True)
            if now - msg.created_at > window:
                raise UndoWindowPassed(ticket.number)
            target = await owned(session, customer_id, to, lock=True, deed=Deed.WRITE) if to is not None else None
            taken = await take_out(session, self.news, self.config, ticket, msg, now, target)
            if target is not None:
                await self._write(session, target, customer_id, taken.body, taken.files, now)
            else:
                await drop_files(session, taken.files)
            return taken

    async def settle_resolution(
        self, customer_id: int, number: int, *, solved: bool, comment: str = ""
    ) -> Ticket:
        """The customer confirms a resolved ticket (closed) or says it is not solved."""
        now = self.clock()
        comment = comment.strip()
        if comment:
            comment = clean("message", comment, MESSAGE_MAX)
        async with self.db.write() as session:
            ticket = await owned(session, customer_id, number, lock=True, deed=Deed.SETTLE)
            target = Status.CLOSED if solved else Status.ACCEPTED
            if ticket.status != Status.RESOLVED:
                # Only a solution is confirmed or disputed: closing an open ticket is withdrawing
                # it, and reopening a closed one is writing to it (each with its own words).
                raise IllegalTransition(number, ticket.status, target, Actor.CUSTOMER.value,
                                        "only a resolved ticket is confirmed or disputed")
            reason = "customer_confirmed" if solved else "customer_disputed"
            self.steps.move(session, ticket, target, Who.customer(customer_id), reason, now)
            await self.steps.settle(session, now)
            if comment:
                msg = TicketMessage(
                    ticket_id=ticket.id, kind=MessageKind.CUSTOMER,
                    author_customer_id=customer_id, body=comment, created_at=now,
                )
                session.add(msg)
                await session.flush()
                self.news.desk(session, ticket, DeskNews.CUSTOMER_MESSAGE, now, message_id=msg.id)
                if not solved and ticket.waiting_since is None:
                    ticket.waiting_since = now
            await session.execute(delete(Draft).where(Draft.customer_id == customer_id))
            return ticket


    async def change_status(self, number: int, target: Status, by: Who, reason: str = "") -> Ticket:
        """The customer moves their own ticket (withdraws it, say); the lifecycle decides whether
        they may."""
        if by.actor != Actor.CUSTOMER or by.id is None:
            raise ValueError("an agent's change of status goes through DeskService.change_status")
        now = self.clock()
        async with self.db.write() as session:
            ticket = await owned(session, by.id, number, lock=True, deed=Deed.WITHDRAW)
            previous = Status(ticket.status)
            self.steps.move(session, ticket, target, by, reason, now)
            await self.steps.settle(session, now)
        log.info("ticket status changed", extra={"ticket": ticket.number, "old": previous.value,
                                                 "new": target.value, "actor": by.actor.value})
        return ticket

    async def request_escalation(self, customer_id: int, number: int) -> Ticket:
        """A customer asks to escalate: only once the first response promised them is overdue."""
        now = self.clock()
        async with self.db.write() as session:
            ticket = await owned(session, customer_id, number, lock=True, deed=Deed.ESCALATE)
            if not sla.promise_broken(ticket, self.config, now):
                assert ticket.first_response_due is not None or ticket.first_response_at is not None
                raise EscalationTooEarly(ticket.number, ticket.first_response_due)
            await self.steps.escalate(session, ticket, Who.customer(customer_id), "customer_request", now)
            return ticket


# Statements run on every ticket opened, built once (building them cost more than running them).
_OPENED = select(
    func.count().filter(Ticket.status.in_(list(OPEN_STATUSES))),
    func.count().filter(Ticket.created_at >= bindparam("since")),
).where(Ticket.customer_id == bindparam("customer_id"))
_SEQUENCE_NUMBER = select(func.nextval("ticket_numbers"))
_NEXT_NUMBER = (update(Counter).where(Counter.name == "ticket").values(value=Counter.value + 1)
                .returning(Counter.value))
