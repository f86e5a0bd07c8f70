"""The steps every service's transaction is made of: finding a ticket, checking a field,
linking files, moving a ticket through the lifecycle and telling the customer.

They take the caller's session and write nothing of their own accord: the caller's
transaction commits them with the rest of its change, or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain import access, sla
from core.domain.access import Deed
from core.domain.config import HelpdeskConfig
from core.domain.errors import (
    EmptyField,
    FieldTooLong,
    NotYourTicket,
    ReadOnlyTicket,
    TicketNotFound,
    TopTierReached,
    UnknownAgent,
)
from core.domain.handover import FIELD_MAX, Handover
from core.domain.lifecycle import check_transition, rated
from core.domain.model import DONE_STATUSES, TIERS, Actor, MessageKind, NewAttachment, Status, Who
from core.domain.quotes import QuoteState
from core.services.news import CustomerNews, DeskNews, News
from core.storage.models import (
    Agent,
    Attachment,
    Customer,
    HandoverRecord,
    Organisation,
    Quote,
    StatusChange,
    Ticket,
    TicketMessage,
)

_RATING_DUE = "rating_due"  # session.info key: tickets whose closing asks for a rating
_QUOTES_DUE = "quotes_due"  # session.info key: tickets gone done, whose pending quote is withdrawn


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


# -- lookups inside a transaction -------------------------------------------------------


async def by_number(session: AsyncSession, number: int, *, lock: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.number == number)
    if lock:
        query = query.with_for_update()
    ticket = (await session.execute(query)).scalar_one_or_none()
    if ticket is None:
        raise TicketNotFound(number)
    return ticket


async def owned(session: AsyncSession, customer_id: int, number: int, *, lock: bool = False,
                deed: Deed = Deed.VIEW) -> Ticket:
    """A ticket the customer may `deed` (core.domain.access): their own, or a colleague's as their
    organisation shares it. One they may not see is refused as if it did not exist; one they may
    only see is refused as read-only."""
    ticket = await by_number(session, number, lock=lock)
    may = await deeds(session, customer_id, ticket)
    if deed in may:
        return ticket
    if Deed.VIEW in may:
        raise ReadOnlyTicket(number, deed)
    raise NotYourTicket(number)


async def deeds(session: AsyncSession, customer_id: int, ticket: Ticket) -> frozenset[Deed]:
    """Everything the customer may do with the ticket (core.domain.access)."""
    if ticket.customer_id == customer_id:
        return frozenset(Deed)
    actor, requester = await session.get(Customer, customer_id), await session.get(Customer, ticket.customer_id)
    if actor is None or requester is None:
        return access.NOTHING
    shared = await session.get(Organisation, actor.organisation_id) if actor.organisation_id is not None else None
    return access.allowed(party(actor), party(requester), organisation(shared))


def party(customer: Customer) -> access.Party:
    return access.Party(customer.id, customer.address, customer.organisation_id, customer.organisation_role,
                        bool(customer.address_proven))


def organisation(row: Organisation | None) -> access.Organisation | None:
    return access.Organisation(row.sharing, row.replies, row.approvers) if row is not None else None


async def agent_exists(session: AsyncSession, agent_id: int) -> None:
    if await session.get(Agent, agent_id) is None:
        raise UnknownAgent(agent_id)


def attach(session: AsyncSession, ticket: Ticket, message_id: int | None,
           attachments: Sequence[NewAttachment], now: datetime) -> None:
    for a in attachments:
        session.add(Attachment(
            ticket_id=ticket.id, message_id=message_id, filename=a.filename, mime_type=a.mime_type,
            size=a.size, sha256=a.sha256, platform_file_id=a.platform_file_id,
            stored_path=a.stored_path, created_at=now))


# -- the lifecycle ----------------------------------------------------------------------


class Steps:
    """The lifecycle's steps with what they need: the configuration and where news goes."""

    def __init__(self, config: HelpdeskConfig, news: News) -> None:
        self.config = config
        self.news = news

    def move(self, session: AsyncSession, ticket: Ticket, target: Status, by: Who, reason: str,
             now: datetime) -> None:
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
        session.add(StatusChange(
            ticket_id=ticket.id,
            actor=by.actor,
            actor_customer_id=by.id if by.actor == Actor.CUSTOMER else None,
            actor_agent_id=by.id if by.actor == Actor.AGENT else None,
            from_status=current,
            to_status=target,
            reason=reason,
            at=now,
        ))
        self.news.desk(session, ticket, DeskNews.STATUS_CHANGED, now, old=current.value, new=target.value,
                       actor=by.actor.value, by=by.id, reason=reason)
        if target in DONE_STATUSES:
            session.info.setdefault(_QUOTES_DUE, []).append((ticket, by))
        if rated(current, target, reason):
            session.info.setdefault(_RATING_DUE, []).append(ticket)

    async def tell_status(self, session: AsyncSession, ticket: Ticket, previous: Status, now: datetime,
                          reason: str = "") -> None:
        """Tell the customer of a change they did not make, and ask for a rating if it is due."""
        await self.news.customer(session, ticket, CustomerNews.STATUS_CHANGED, now, old=previous.value,
                                 new=ticket.status, reason=reason,
                                 days=self.config.lifecycle.auto_close_days)
        await self.settle(session, now)

    async def settle(self, session: AsyncSession, now: datetime) -> None:
        """What the moves of a transaction leave to do (every path that moves a ticket awaits it):
        withdraw the quotes of tickets now done, and ask for the ratings due."""
        await self.withdraw_quotes(session, now)
        await self.ask_rating(session, now)

    async def withdraw_quotes(self, session: AsyncSession, now: datetime) -> None:
        """A resolved or closed ticket has no work left to approve: a quote still pending would
        otherwise block time logging on it for good. The desks are told as for a withdrawal; the
        customer, told of the status, finds the quote's buttons no longer awaiting an answer."""
        due: list[tuple[Ticket, Who]] = session.info.pop(_QUOTES_DUE, [])
        for ticket, by in due:
            if ticket.status not in DONE_STATUSES:  # moved on again (reopened) in the same transaction
                continue
            quote = (await session.execute(select(Quote).where(
                Quote.ticket_id == ticket.id, Quote.state == QuoteState.PENDING).with_for_update())).scalars().first()
            if quote is None:
                continue
            quote.state, quote.decided_at = QuoteState.WITHDRAWN, now
            self.news.desk(session, ticket, DeskNews.QUOTE, now, kind="withdrawn", by=by.id, actor=by.actor.value,
                           quote=quote.id, minutes=quote.minutes, amount=quote.amount, currency=quote.currency,
                           note=quote.note)

    async def ask_rating(self, session: AsyncSession, now: datetime) -> None:
        """After a ticket closes after a solution (lifecycle.rated), ask its customer how
        satisfied they were."""
        due: list[Ticket] = session.info.pop(_RATING_DUE, [])
        for ticket in due:
            await self.news.customer(session, ticket, CustomerNews.RATING_REQUEST, now)

    async def escalate(self, session: AsyncSession, ticket: Ticket, by: Who, reason: str, now: datetime,
                       handover: Handover | None = None) -> None:
        """Up one level. With a `handover` (an agent's, to the top level) it is kept, the agent
        becomes the ticket's contact if it had none, the customer is told who has it and what
        comes next, and the desks get its fields."""
        if ticket.tier >= TIERS[-1]:
            raise TopTierReached(ticket.number)
        ticket.tier += 1
        ticket.updated_at = now
        if handover is not None:
            await self.hand_over(session, ticket, by, handover, reason, now)
            return
        session.add(TicketMessage(
            ticket_id=ticket.id,
            kind=MessageKind.SYSTEM,
            author_agent_id=by.id if by.actor == Actor.AGENT else None,
            author_customer_id=by.id if by.actor == Actor.CUSTOMER else None,
            body=f"escalated to L{ticket.tier}" + (f": {reason}" if reason else ""),
            created_at=now,
        ))
        if by.actor != Actor.CUSTOMER:  # a customer who asked is answered in the chat at once
            await self.news.customer(session, ticket, CustomerNews.ESCALATED, now, tier=ticket.tier)
        self.news.desk(session, ticket, DeskNews.ESCALATED, now, tier=ticket.tier, actor=by.actor.value,
                       by=by.id, reason=reason)

    async def hand_over(self, session: AsyncSession, ticket: Ticket, by: Who, handover: Handover, reason: str,
                        now: datetime) -> None:
        assert by.actor == Actor.AGENT and by.id is not None
        fields = {name: clean(name, value, FIELD_MAX) for name, value in handover.values().items()}
        session.add(HandoverRecord(ticket_id=ticket.id, tier=ticket.tier, agent_id=by.id, created_at=now, **fields))
        session.add(TicketMessage(ticket_id=ticket.id, kind=MessageKind.SYSTEM, author_agent_id=by.id,
                                  created_at=now, body=f"escalated to L{ticket.tier} with a hand-over"
                                  + (f": {reason}" if reason else "")))
        if ticket.assignee_id is None:  # the agent who hands it over stays the customer's contact
            ticket.assignee_id = by.id
            self.news.desk(session, ticket, DeskNews.ASSIGNED, now, agent_id=by.id, by=by.id)
        customer = await session.get_one(Customer, ticket.customer_id)
        # The resolution target is said only while it is still ahead and its clock runs.
        due = ticket.resolution_due if ticket.paused_at is None and ticket.resolution_breached_at is None \
            and ticket.resolution_due is not None and ticket.resolution_due > now else None
        await self.news.customer(session, ticket, CustomerNews.ESCALATED, now, tier=ticket.tier, handover=True,
                                 due=due.isoformat() if due else None,
                                 zone=customer.timezone or self.config.timezones.of(customer.locale or "")
                                 or self.config.calendar_of(ticket.department).timezone)
        self.news.desk(session, ticket, DeskNews.ESCALATED, now, tier=ticket.tier, actor=by.actor.value,
                       by=by.id, reason=reason, checked=fields["checked"], reproduce=fields["reproduce"],
                       told=fields["told"])
