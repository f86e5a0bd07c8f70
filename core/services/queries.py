"""Reading tickets: one ticket, a customer's list, the agents' queue, a thread, its files."""

from __future__ import annotations

from sqlalchemy import select, text

from core.domain.config import HelpdeskConfig
from core.domain.errors import UnknownDepartment
from core.domain.model import DONE_STATUSES, OPEN_STATUSES, MessageKind, NewAttachment, TicketFilter
from core.services.steps import by_number, owned
from core.services.takeback import as_new
from core.storage.db import Database
from core.storage.models import QUEUE_OPEN, Attachment, StatusChange, Ticket, TicketMessage


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

    async def get_for_customer(self, customer_id: int, number: int) -> Ticket:
        async with self.db.read() as session:
            return await owned(session, customer_id, number)

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
