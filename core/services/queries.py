"""Reading tickets: one ticket, a customer's list (their own, or their organisation's as it
shares them), the agents' queue, a thread, its files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain import access
from core.domain.access import Deed
from core.domain.config import HelpdeskConfig
from core.domain.errors import UnknownDepartment
from core.domain.model import DONE_STATUSES, OPEN_STATUSES, MessageKind, NewAttachment, TicketFilter
from core.services.steps import by_number, deeds, organisation, owned, party
from core.services.takeback import as_new
from core.storage.db import Database
from core.storage.models import (
    QUEUE_OPEN,
    Attachment,
    Customer,
    Organisation,
    StatusChange,
    Ticket,
    TicketMessage,
)


@dataclass(frozen=True, slots=True)
class Seen:
    """A ticket as one customer may see it."""

    ticket: Ticket
    deeds: frozenset[Deed]  # what they may do with it
    opened_by: str | None  # who opened it, when not they (nor they under another identity)
    authors: dict[int, str]  # the other customers who wrote in it, by id: their names


@dataclass(frozen=True, slots=True)
class Listed:
    """A ticket in an organisation's list, with who opened it."""

    ticket: Ticket
    opened_by: str  # their name ("" when none is known)
    mine: bool


@dataclass(frozen=True, slots=True)
class Colleague:
    """A colleague who has tickets: one of their identities, their name, how many tickets."""

    id: int
    name: str
    tickets: int


def name_of(customer: Customer) -> str:
    return customer.display_name or customer.address or ""


Q = TypeVar("Q", bound=Select)


def person(customer_id: int) -> Select[int]:
    """The ids of a customer's identities: theirs, and those with the address they proved."""
    address = select(Customer.address).where(
        Customer.id == customer_id, Customer.address_proven.is_(True)).scalar_subquery()
    return select(Customer.id).where(or_(Customer.id == customer_id, Customer.address == address))


def _viewed(query: Q, view: TicketFilter) -> Q:
    if view == TicketFilter.OPEN:
        return query.where(Ticket.status.in_(list(OPEN_STATUSES)))
    if view == TicketFilter.DONE:
        return query.where(Ticket.status.in_(list(DONE_STATUSES)))
    return query


async def _colleagues_of(session: AsyncSession, customer_id: int) -> Customer | None:
    """The customer, when their organisation lets them see their colleagues' tickets."""
    actor = await session.get(Customer, customer_id)
    if actor is None or actor.organisation_id is None:
        return None
    org = await session.get(Organisation, actor.organisation_id)
    return actor if access.sees_colleagues(party(actor), organisation(org)) else None


class QueryService:
    def __init__(self, db: Database, config: HelpdeskConfig) -> None:
        self.db = db
        self.config = config

    async def get(self, number: int) -> Ticket:
        async with self.db.read() as session:
            return await by_number(session, number)

    async def get_by_id(self, ticket_id: int) -> Ticket:
        async with self.db.read() as session:
            return await session.get_one(Ticket, ticket_id)

    async def get_for_customer(self, customer_id: int, number: int, deed: Deed = Deed.VIEW) -> Ticket:
        async with self.db.read() as session:
            return await owned(session, customer_id, number, deed=deed)

    async def seen(self, customer_id: int, number: int) -> Seen:
        """A ticket the customer may see, with what they may do and who else wrote in it."""
        async with self.db.read() as session:
            ticket = await owned(session, customer_id, number)
            may = await deeds(session, customer_id, ticket)
            mine = set((await session.execute(person(customer_id))).scalars())
            writers = select(TicketMessage.author_customer_id).where(
                TicketMessage.ticket_id == ticket.id, TicketMessage.author_customer_id.is_not(None))
            others = (await session.execute(select(Customer).where(
                or_(Customer.id == ticket.customer_id, Customer.id.in_(writers))))).scalars()
            names = {c.id: name_of(c) for c in others if c.id not in mine}
            opened_by = names.get(ticket.customer_id)
            return Seen(ticket, may, opened_by, names)

    async def list_for_customer(
        self, customer_id: int, view: TicketFilter = TicketFilter.ALL, limit: int = 50
    ) -> list[Ticket]:
        """The customer's own tickets, those of their identities with the same proven address too."""
        query = _viewed(select(Ticket).where(Ticket.customer_id.in_(person(customer_id))), view)
        query = query.order_by(Ticket.number.desc()).limit(limit)
        async with self.db.read() as session:
            return list((await session.execute(query)).scalars())

    async def sees_colleagues(self, customer_id: int) -> bool:
        """Whether the customer's organisation lets them see their colleagues' tickets."""
        async with self.db.read() as session:
            return await _colleagues_of(session, customer_id) is not None

    async def organisation_tickets(
        self, customer_id: int, view: TicketFilter = TicketFilter.ALL, *, creator: int | None = None,
        limit: int = 50,
    ) -> list[Listed] | None:
        """The tickets of the customer's organisation (of one `creator` of it), with who opened
        each; None when the organisation does not let them see their colleagues' tickets."""
        async with self.db.read() as session:
            actor = await _colleagues_of(session, customer_id)
            if actor is None:
                return None
            query = select(Ticket, Customer).join(Customer, Customer.id == Ticket.customer_id).where(
                Customer.organisation_id == actor.organisation_id)
            if creator is not None:
                query = query.where(Ticket.customer_id.in_(person(creator)))
            query = _viewed(query, view).order_by(Ticket.number.desc()).limit(limit)
            rows = (await session.execute(query)).all()
            me = party(actor)
            return [Listed(ticket, name_of(who), access.relation(me, party(who)) == access.Relation.REQUESTER)
                    for ticket, who in rows]

    async def colleagues(self, customer_id: int) -> list[Colleague] | None:
        """The customer's colleagues who have tickets (each person once, by their address); None
        when the organisation does not let them see their colleagues' tickets."""
        async with self.db.read() as session:
            actor = await _colleagues_of(session, customer_id)
            if actor is None:
                return None
            rows = (await session.execute(
                select(Customer, func.count(Ticket.id)).join(Ticket, Ticket.customer_id == Customer.id)
                .where(Customer.organisation_id == actor.organisation_id)
                .group_by(Customer.id).order_by(Customer.id))).all()
        people: dict[str, Colleague] = {}
        me = party(actor)
        for who, count in rows:
            if access.relation(me, party(who)) == access.Relation.REQUESTER:
                continue
            key = who.address or f"#{who.id}"
            known = people.get(key)
            people[key] = Colleague(known.id if known else who.id, (known.name if known else "") or name_of(who),
                                    (known.tickets if known else 0) + count)
        return sorted(people.values(), key=lambda c: (c.name.casefold(), c.id))

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

    async def message_files(self, message_id: int) -> list[NewAttachment]:
        """The files a message brought, as attachments to link again."""
        query = select(Attachment).where(Attachment.message_id == message_id).order_by(Attachment.id)
        async with self.db.read() as session:
            return as_new((await session.execute(query)).scalars())

    async def history(self, ticket_id: int) -> list[StatusChange]:
        query = select(StatusChange).where(StatusChange.ticket_id == ticket_id)
        async with self.db.read() as session:
            return list((await session.execute(query.order_by(StatusChange.id))).scalars())

    async def customer_message(self, customer_id: int, message_id: int) -> tuple[Ticket, TicketMessage] | None:
        """A message the customer wrote, with its ticket; None when it is not (any more) there."""
        async with self.db.read() as session:
            msg = await session.get(TicketMessage, message_id)
            if msg is None or msg.author_customer_id != customer_id or msg.kind != MessageKind.CUSTOMER:
                return None
            return await session.get_one(Ticket, msg.ticket_id), msg
