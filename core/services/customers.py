"""The people behind platform identities: customers, created on first contact."""

from __future__ import annotations

from sqlalchemy import select, update

from core.domain.clock import Clock, utcnow
from core.domain.model import OPEN_STATUSES
from core.services.news import DeskNews, News
from core.services.organisations import membership, valid_address
from core.storage.db import Database
from core.storage.models import Customer, Ticket


class CustomerService:
    def __init__(self, db: Database, clock: Clock = utcnow, news: News | None = None) -> None:
        self.db = db
        self.clock = clock
        self.news = news or News()

    async def customer(
        self,
        platform: str,
        platform_user_id: str,
        chat_id: str,
        display_name: str = "",
        locale: str | None = None,
        address: str | None = None,
    ) -> Customer:
        """The customer behind a platform identity, created on first contact. `address`: the mail
        address the identity is (a mail channel's sender), which links it to the same person's
        other identities and to the address's organisation."""
        address = valid_address(address) if address else None
        query = select(Customer).where(
            Customer.platform == platform, Customer.platform_user_id == platform_user_id
        )
        async with self.db.read() as session:
            found = (await session.execute(query)).scalar_one_or_none()
        if found is not None and found.chat_id == chat_id and found.reachable and (address is None or found.address):
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
            if address and not found.address:
                found.address = address
                linked = await membership(session, address)
                found.organisation_id, found.organisation_role = linked if linked else (None, None)
            await session.flush()
            return found

    async def set_locale(self, customer_id: int, locale: str) -> None:
        async with self.db.write(savepoint=False) as session:
            await session.execute(
                update(Customer).where(Customer.id == customer_id).values(locale=locale)
            )

    async def set_timezone(self, customer_id: int, zone: str | None) -> None:
        """The customer's own zone (an IANA name, checked by the caller); None: their language's."""
        async with self.db.write(savepoint=False) as session:
            await session.execute(
                update(Customer).where(Customer.id == customer_id).values(timezone=zone)
            )

    async def mark_unreachable(self, customer_id: int) -> None:
        async with self.db.write() as session:
            await session.execute(
                update(Customer).where(Customer.id == customer_id).values(reachable=False)
            )

    async def unreachable(self, platform: str, platform_user_id: str, reason: str, number: int | None = None) -> bool:
        """A channel learnt that its customer cannot be reached (their address bounced): they are
        marked so, and the desks of the ticket concerned (`number`, else their open ones) are
        told. False when no such customer is known or they were marked already."""
        now = self.clock()
        async with self.db.write() as session:
            customer = (await session.execute(select(Customer).where(
                Customer.platform == platform, Customer.platform_user_id == platform_user_id))).scalar_one_or_none()
            if customer is None or not customer.reachable:
                return False
            tickets = select(Ticket).where(Ticket.customer_id == customer.id)
            tickets = tickets.where(Ticket.number == number) if number is not None else \
                tickets.where(Ticket.status.in_(list(OPEN_STATUSES)))
            concerned = list((await session.execute(tickets)).scalars())
            if number is not None and not concerned:
                return False  # word about somebody else's ticket proves nothing about this customer
            customer.reachable = False
            for ticket in concerned:
                self.news.desk(session, ticket, DeskNews.CUSTOMER_UNREACHABLE, now, platform=platform,
                               reason=reason[:200])
            return True
