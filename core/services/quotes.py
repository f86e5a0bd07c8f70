"""Quotes for paid work: an agent sends one on a ticket (an estimate in hours, or an amount in
a currency, with a note), the customer approves or declines it; while it is pending no time is
logged on the ticket. Each change is news for the customer and the desks, in one transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.access import Deed
from core.domain.clock import Clock
from core.domain.config import HelpdeskConfig
from core.domain.errors import FieldTooLong, NotYourTicket
from core.domain.model import DONE_STATUSES, Status, Who
from core.domain.quotes import MAX_MINOR, MAX_MINUTES, NOTE_LIMIT, QuoteError, QuotePending, QuoteState, currency_code
from core.services.news import CustomerNews, DeskNews, News
from core.services.steps import Steps, by_number, deeds, neutralize
from core.storage.db import Database
from core.storage.models import Agent, Customer, Quote, Ticket

SENT, APPROVED, DECLINED = "quote_sent", "quote_approved", "quote_declined"  # status changes' reasons


@dataclass(frozen=True, slots=True)
class QuoteRow:
    id: int
    number: int  # the ticket's
    state: str  # QuoteState
    minutes: int | None
    amount: int | None  # minor units of `currency`
    currency: str | None
    note: str
    agent: str  # who sent it
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str = ""  # the customer who approved or declined it

    def terms(self) -> dict[str, Any]:
        """What news carries of it, for the message rendered later."""
        return {"quote": self.id, "minutes": self.minutes, "amount": self.amount, "currency": self.currency,
                "note": self.note}


def _name(who: Agent | Customer | None) -> str:
    if who is None:
        return ""
    return who.display_name or getattr(who, "address", None) or who.platform_user_id


async def pending(session: AsyncSession, ticket_id: int, *, lock: bool = False) -> Quote | None:
    query = select(Quote).where(Quote.ticket_id == ticket_id, Quote.state == QuoteState.PENDING)
    return (await session.execute(query.with_for_update() if lock else query)).scalars().first()


async def refuse_work(session: AsyncSession, config: HelpdeskConfig, ticket: Ticket) -> None:
    """QuotePending when the ticket's quote awaits the customer's approval (time logging asks).
    A resolved or closed ticket's quote is no longer waited on (Steps.withdraw_quotes)."""
    if ticket.status in DONE_STATUSES:
        return
    waiting = await pending(session, ticket.id)
    if waiting is not None:
        raise QuotePending(ticket.number, waiting.created_at, config.calendar_of(ticket.department).timezone)


async def row(session: AsyncSession, quote: Quote, number: int) -> QuoteRow:
    agent = await session.get(Agent, quote.agent_id)
    decider = await session.get(Customer, quote.decided_by_customer_id) if quote.decided_by_customer_id else None
    return QuoteRow(quote.id, number, quote.state, quote.minutes, quote.amount, quote.currency, quote.note,
                    _name(agent), quote.created_at, quote.decided_at, _name(decider))


class QuoteService:
    def __init__(self, db: Database, config: HelpdeskConfig, clock: Clock, steps: Steps) -> None:
        self.db, self.config, self.clock, self.steps = db, config, clock, steps
        self.news: News = steps.news

    def check(self, minutes: int | None, amount: int | None, currency: str | None, note: str) -> str:
        """The note as kept; QuoteError for terms out of range or an unknown currency."""
        if amount is None:
            if minutes is None or not 0 < minutes <= MAX_MINUTES:
                raise QuoteError("quote_bad_minutes")
        elif not 0 < amount <= MAX_MINOR:
            raise QuoteError("quote_bad_amount")
        elif currency is None or currency_code(currency) != currency:
            raise QuoteError("quote_unknown_currency", currency=(currency or "")[:8])
        note = neutralize(note).strip()
        if len(note) > NOTE_LIMIT:
            raise FieldTooLong("note", NOTE_LIMIT, len(note))
        return note

    async def send(self, agent_id: int, number: int, *, minutes: int | None = None, amount: int | None = None,
                   currency: str | None = None, note: str = "") -> QuoteRow:
        """A new quote; a pending one is withdrawn by it. An open ticket waits on the customer."""
        note = self.check(minutes, amount, currency, note)
        now = self.clock()
        async with self.db.write() as session:
            ticket = await by_number(session, number, lock=True)
            if ticket.status in DONE_STATUSES:
                raise QuoteError("quote_ticket_done", number=number)
            earlier = await pending(session, ticket.id, lock=True)
            if earlier is not None:
                earlier.state, earlier.decided_at = QuoteState.WITHDRAWN, now
            quote = Quote(ticket_id=ticket.id, agent_id=agent_id, minutes=None if amount else minutes,
                          amount=amount, currency=currency if amount else None, note=note,
                          state=QuoteState.PENDING, created_at=now)
            session.add(quote)
            await session.flush()
            if ticket.status in (Status.NEW, Status.ACCEPTED):
                self.steps.move(session, ticket, Status.WAITING, Who.agent(agent_id), SENT, now)
            made = await row(session, quote, number)
            await self.news.customer(session, ticket, CustomerNews.QUOTE, now, kind="sent", **made.terms())
            self.news.desk(session, ticket, DeskNews.QUOTE, now, kind="sent", by=agent_id, actor="agent",
                           **made.terms())
            return made

    async def withdraw(self, agent_id: int, number: int) -> QuoteRow:
        now = self.clock()
        async with self.db.write() as session:
            ticket = await by_number(session, number, lock=True)
            quote = await pending(session, ticket.id, lock=True)
            if quote is None:
                raise QuoteError("quote_none_pending", number=number)
            quote.state, quote.decided_at = QuoteState.WITHDRAWN, now
            made = await row(session, quote, number)
            await self.news.customer(session, ticket, CustomerNews.QUOTE, now, kind="withdrawn", **made.terms())
            self.news.desk(session, ticket, DeskNews.QUOTE, now, kind="withdrawn", by=agent_id, actor="agent",
                           **made.terms())
            return made

    async def decide(self, customer_id: int, number: int, quote_id: int, *, approve: bool) -> QuoteRow:
        """The customer's answer to the pending quote `quote_id`. Approval puts a waiting ticket
        back in progress; after a decline the agents decide what follows."""
        now = self.clock()
        async with self.db.write() as session:
            ticket = await by_number(session, number, lock=True)
            may = await deeds(session, customer_id, ticket)
            if Deed.APPROVE not in may:
                if Deed.VIEW in may:
                    raise QuoteError("quote_not_approver", number=number)
                raise NotYourTicket(number)
            quote = await pending(session, ticket.id, lock=True)
            if quote is None or quote.id != quote_id or ticket.status in DONE_STATUSES:
                raise QuoteError("quote_stale", number=number)
            quote.state = QuoteState.APPROVED if approve else QuoteState.DECLINED
            quote.decided_at, quote.decided_by_customer_id = now, customer_id
            if approve and ticket.status == Status.WAITING:
                self.steps.move(session, ticket, Status.ACCEPTED, Who.customer(customer_id), APPROVED, now)
            made = await row(session, quote, number)
            self.news.desk(session, ticket, DeskNews.QUOTE, now, kind=quote.state, by=customer_id,
                           actor="customer", customer=made.decided_by, **made.terms())
            return made

    async def latest(self, number: int) -> QuoteRow | None:
        """The ticket's newest quote, whatever its state (TicketNotFound when there is no ticket)."""
        async with self.db.read() as session:
            ticket = await by_number(session, number)
            return await latest_of(session, ticket)


async def latest_of(session: AsyncSession, ticket: Ticket) -> QuoteRow | None:
    found = (await session.execute(select(Quote).where(Quote.ticket_id == ticket.id)
                                   .order_by(Quote.id.desc()).limit(1))).scalars().first()
    return await row(session, found, ticket.number) if found is not None else None


@dataclass
class QuoteFigures:
    """Quotes in a period: sent in it, approved and declined in it, pending now; what was
    approved, as minutes of work and as amounts per currency (minor units, by code)."""

    sent: int = 0
    approved: int = 0
    declined: int = 0
    pending: int = 0
    approved_minutes: int = 0
    approved_amounts: dict[str, int] = field(default_factory=dict)


async def quote_figures(session: AsyncSession, start: datetime, end: datetime,
                        scope: ColumnElement[bool]) -> QuoteFigures:
    """The quotes of the tickets `scope` (a condition on tickets) keeps."""
    figures = QuoteFigures()
    rows = (await session.execute(
        select(Quote.state, Quote.created_at, Quote.decided_at, Quote.minutes, Quote.amount, Quote.currency)
        .join(Ticket, Ticket.id == Quote.ticket_id)
        .where(scope, or_(Quote.state == QuoteState.PENDING, and_(Quote.created_at >= start, Quote.created_at < end),
                          and_(Quote.decided_at >= start, Quote.decided_at < end))))).all()
    amounts: dict[str, int] = defaultdict(int)
    for state, created, decided, minutes, amount, currency in rows:
        figures.sent += int(start <= _aware(created) < end)
        figures.pending += int(state == QuoteState.PENDING)
        if decided is None or not start <= _aware(decided) < end:
            continue
        if state == QuoteState.APPROVED:
            figures.approved += 1
            if amount is not None and currency:
                amounts[currency] += amount
            else:
                figures.approved_minutes += minutes or 0
        figures.declined += int(state == QuoteState.DECLINED)
    figures.approved_amounts = dict(sorted(amounts.items()))
    return figures


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive times (stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
