"""Time on tickets: agents log minutes on a ticket under an activity, list a ticket's entries
and its total, correct or delete their own entries; the export a time tracker imports."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.clock import Clock
from core.domain.config import HelpdeskConfig
from core.domain.errors import DomainError, FieldTooLong
from core.domain.timelog import MAX_MINUTES
from core.services.news import DeskNews, News
from core.services.quotes import refuse_work
from core.services.steps import by_number
from core.storage.db import Database
from core.storage.models import Agent, Customer, Organisation, Ticket, TimeEntry
from core.storage.timelog import OFFER_KEY_LIMIT

NOTE_LIMIT = 1000


class TimeError(DomainError):
    """Time that cannot be logged or changed; `code` says why: bad_minutes, unknown_activity
    (params: activity, codes), unknown_entry (entry), not_author (entry, author), already_logged
    (number: the offer pressed was answered already)."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        super().__init__(f"{code}: {params}", **params)


@dataclass(frozen=True, slots=True)
class EntryRow:
    id: int
    number: int  # the ticket's
    agent: str  # the agent's name on their desk (their id there when they have none)
    minutes: int
    activity: str  # a code of `[time] activities`, or empty
    note: str
    at: datetime


def _agent_name(agent: Agent) -> str:
    return agent.display_name or agent.platform_user_id


class TimeService:
    """Each change is news for the desks that show the ticket: their card shows its total."""

    def __init__(self, db: Database, config: HelpdeskConfig, clock: Clock, news: News) -> None:
        self.db, self.config, self.clock, self.news = db, config, clock, news

    def _check(self, minutes: int, activity: str = "", note: str = "") -> str:
        """The activity's code; TimeError for minutes out of range or an activity not configured."""
        if not 0 < minutes <= MAX_MINUTES:
            raise TimeError("bad_minutes", minutes=minutes)
        if len(note) > NOTE_LIMIT:
            raise FieldTooLong("note", NOTE_LIMIT, len(note))
        if not activity:
            return ""
        found = self.config.time.activity(activity)
        if found is None:
            raise TimeError("unknown_activity", activity=activity[:32],
                            codes=[a.code for a in self.config.time.activities])
        return found.code

    async def log(self, agent_id: int, number: int, minutes: int, activity: str = "", note: str = "",
                  offer: str = "") -> EntryRow:
        """`offer`: the desk's key of the offer whose button was pressed; TimeError already_logged
        when that offer logged its time before (a second press, here or in another process)."""
        code = self._check(minutes, activity, note)
        async with self.db.write() as session:
            # Locked: a quote sent at the same moment (it locks the ticket too) waits for this entry, or this for it.
            ticket = await by_number(session, number, lock=True)
            if offer and (await session.execute(select(TimeEntry.id).where(TimeEntry.offer == offer))).first():
                raise TimeError("already_logged", number=number)
            await refuse_work(session, self.config, ticket)
            entry = TimeEntry(ticket_id=ticket.id, agent_id=agent_id, minutes=minutes, activity=code,
                              note=note.strip(), at=self.clock(), offer=offer[:OFFER_KEY_LIMIT] or None)
            session.add(entry)
            try:
                await session.flush()
            except IntegrityError:
                if not offer:
                    raise
                # The same offer pressed at the same moment elsewhere: its entry was written first.
                raise TimeError("already_logged", number=number) from None
            self.news.desk(session, ticket, DeskNews.TIME_LOGGED, entry.at, by=agent_id)
            agent = await session.get_one(Agent, agent_id)
            return EntryRow(entry.id, number, _agent_name(agent), minutes, code, entry.note, entry.at)

    async def entries(self, number: int) -> list[EntryRow]:
        """A ticket's entries, oldest first (TicketNotFound when there is no such ticket)."""
        async with self.db.read() as session:
            ticket = await by_number(session, number)
            rows = (await session.execute(select(TimeEntry, Agent).join(Agent, Agent.id == TimeEntry.agent_id)
                                          .where(TimeEntry.ticket_id == ticket.id).order_by(TimeEntry.id))).all()
        return [EntryRow(e.id, number, _agent_name(a), e.minutes, e.activity, e.note, e.at) for e, a in rows]

    async def total(self, number: int) -> int:
        """All the minutes logged on a ticket (TicketNotFound when there is no such ticket)."""
        async with self.db.read() as session:
            ticket = await by_number(session, number)
            return int((await session.execute(select(func.coalesce(func.sum(TimeEntry.minutes), 0))
                                              .where(TimeEntry.ticket_id == ticket.id))).scalar_one())

    async def _own(self, session: AsyncSession, agent_id: int, entry_id: int) -> tuple[TimeEntry, Ticket]:
        found = (await session.execute(select(TimeEntry, Ticket, Agent)
                                       .join(Ticket, Ticket.id == TimeEntry.ticket_id)
                                       .join(Agent, Agent.id == TimeEntry.agent_id)
                                       .where(TimeEntry.id == entry_id)
                                       .with_for_update(of=(TimeEntry, Ticket)))).first()
        if found is None:
            raise TimeError("unknown_entry", entry=entry_id)
        entry, ticket, author = found
        if entry.agent_id != agent_id:
            raise TimeError("not_author", entry=entry_id, author=_agent_name(author))
        self.news.desk(session, ticket, DeskNews.TIME_LOGGED, self.clock(), by=agent_id)
        return entry, ticket

    async def fix(self, agent_id: int, entry_id: int, minutes: int) -> EntryRow:
        """The author's correction of an entry's minutes (TimeError not_author for anybody else).
        More minutes are more work: refused, as logging is, while a quote awaits approval."""
        self._check(minutes)
        async with self.db.write() as session:
            entry, ticket = await self._own(session, agent_id, entry_id)
            if minutes > entry.minutes:
                await refuse_work(session, self.config, ticket)
            entry.minutes, entry.changed_at = minutes, self.clock()
            agent = await session.get_one(Agent, agent_id)
            return EntryRow(entry.id, ticket.number, _agent_name(agent), minutes, entry.activity, entry.note, entry.at)

    async def delete(self, agent_id: int, entry_id: int) -> int:
        """The author's removal of an entry; the ticket's number."""
        async with self.db.write() as session:
            entry, ticket = await self._own(session, agent_id, entry_id)
            await session.delete(entry)
        return ticket.number


async def ticket_minutes(db: Database, ticket_id: int) -> int:
    """All the time logged on a ticket."""
    async with db.read() as session:
        return int((await session.execute(select(func.coalesce(func.sum(TimeEntry.minutes), 0))
                                          .where(TimeEntry.ticket_id == ticket_id))).scalar_one())


async def export_rows(db: Database, start: datetime, end: datetime) -> list[EntryRow]:
    """Every entry logged in [start, end), oldest first."""
    async with db.read() as session:
        rows = (await session.execute(select(TimeEntry, Ticket.number, Agent)
                                      .join(Ticket, Ticket.id == TimeEntry.ticket_id)
                                      .join(Agent, Agent.id == TimeEntry.agent_id)
                                      .where(TimeEntry.at >= start, TimeEntry.at < end)
                                      .order_by(TimeEntry.at, TimeEntry.id))).all()
    return [EntryRow(e.id, n, _agent_name(a), e.minutes, e.activity, e.note, e.at) for e, n, a in rows]


TOP_TICKETS = 20


@dataclass
class TimeFigures:
    """Minutes logged in a period, the most first in each table: per ticket (number, subject;
    the first TOP_TICKETS), per agent, per customer (their name, else their address or id), per
    organisation (the customer's, now) and per department (a code)."""

    total: int = 0
    per_ticket: list[tuple[int, str, int]] = field(default_factory=list)
    per_agent: list[tuple[str, int]] = field(default_factory=list)
    per_customer: list[tuple[str, int]] = field(default_factory=list)
    per_organisation: list[tuple[str, int]] = field(default_factory=list)
    per_department: list[tuple[str, int]] = field(default_factory=list)


def _most_first(sums: dict[Any, int]) -> list[tuple[Any, int]]:
    return sorted(sums.items(), key=lambda item: (-item[1], str(item[0])))


async def time_figures(session: AsyncSession, start: datetime, end: datetime,
                       scope: ColumnElement[bool]) -> TimeFigures:
    """The time logged in [start, end) on the tickets `scope` (a condition on tickets) keeps."""
    rows = (await session.execute(
        select(TimeEntry.minutes, Ticket.number, Ticket.subject, Ticket.department, Agent.display_name,
               Agent.platform_user_id, Customer.display_name, Customer.address, Customer.platform_user_id,
               Organisation.name)
        .join(Ticket, Ticket.id == TimeEntry.ticket_id).join(Agent, Agent.id == TimeEntry.agent_id)
        .join(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
        .where(TimeEntry.at >= start, TimeEntry.at < end, scope))).all()
    tickets: dict[tuple[int, str], int] = defaultdict(int)
    agents: dict[str, int] = defaultdict(int)
    customers: dict[str, int] = defaultdict(int)
    orgs: dict[str, int] = defaultdict(int)
    deps: dict[str, int] = defaultdict(int)
    for minutes, number, subject, dep, agent, agent_id, customer, address, customer_id, org in rows:
        tickets[(number, subject)] += minutes
        agents[agent or agent_id] += minutes
        customers[customer or address or customer_id] += minutes
        if org is not None:
            orgs[org] += minutes
        deps[dep] += minutes
    return TimeFigures(sum(deps.values()), [(n, s, m) for (n, s), m in _most_first(tickets)[:TOP_TICKETS]],
                       _most_first(agents), _most_first(customers), _most_first(orgs), _most_first(deps))
