"""Forgetting a customer on request (a GDPR erasure): what identifies them goes, the statistics stay.

The rule, table by table:
- customers: the row stays (tickets must keep pointing somewhere) but loses its platform id,
  chat, name and language, and is marked unreachable; if the person writes again they are a
  new customer.
- tickets: kept with their department, type, priority, statuses and times (reports and SLA
  figures), their subject and description replaced by ERASED.
- ticket_messages: every message of their tickets, and any they wrote, keeps its kind, author
  and time (response times) with its text replaced by ERASED.
- attachments: rows of their tickets deleted; a stored file is deleted once no other row names
  it (files are content-addressed, so two customers may share one).
- ratings: the score stays, the comment goes.
- article_events: the counts stay; the words they searched for and their comments go.
- drafts: deleted. outbox: every notification to them deleted, whatever its status; the
  agents' notifications about their tickets lose the texts they carry.
- inbound_events: rows keep no customer key, only the replies of an event until they were sent;
  the replies still kept by events already done are cleared, since nothing reads them again.
- status_changes and desk posts hold no personal data and stay.

Everything in the database changes in one transaction; the files go after it committed, so a
failed transaction leaves every file its rows still name.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from sqlalchemy import delete, func, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from core.services.organisations import relink
from core.storage.db import Database
from core.storage.models import (
    ArticleEvent,
    Attachment,
    Customer,
    Draft,
    InboundEvent,
    OrganisationMember,
    OutboxMessage,
    Rating,
    Ticket,
    TicketMessage,
    Verification,
)

ERASED = "—"
"""What an erased text reads: language-neutral, since agents of every language may see it."""
_TEXT_PARAMS = ("body", "comment", "text", "excerpt")  # excerpt: of a message the customer took back


@dataclass
class Forgotten:
    """What was removed, counted per kind."""

    customer_id: int
    tickets: int = 0
    messages: int = 0
    attachments: int = 0
    files: int = 0
    ratings: int = 0
    drafts: int = 0
    notifications_deleted: int = 0
    notifications_cleared: int = 0
    inbound_replies_cleared: int = 0
    paths: list[str] = field(default_factory=list, repr=False)


async def find_customer(db: Database, platform: str, user_id: str) -> tuple[Customer, int] | None:
    """The customer and how many tickets they have, or None."""
    async with db.read() as session:
        customer = (await session.execute(select(Customer).where(
            Customer.platform == platform, Customer.platform_user_id == user_id))).scalar_one_or_none()
        if customer is None:
            return None
        count = (await session.execute(
            select(func.count()).select_from(Ticket).where(Ticket.customer_id == customer.id))).scalar_one()
        return customer, int(count)


async def forget_customer(db: Database, platform: str, user_id: str) -> Forgotten | None:
    """Erase the customer (see the module's rule); None when there is no such customer."""
    async with db.write() as session:
        customer = (await session.execute(select(Customer).where(
            Customer.platform == platform, Customer.platform_user_id == user_id
        ).with_for_update())).scalar_one_or_none()
        if customer is None:
            return None
        done = await _erase(session, customer)
    for path in done.paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            done.files += 1
    return done


async def _erase(session: AsyncSession, customer: Customer) -> Forgotten:
    done = Forgotten(customer.id)
    tickets = select(Ticket.id).where(Ticket.customer_id == customer.id).scalar_subquery()

    deleted = list((await session.execute(
        delete(Attachment).where(Attachment.ticket_id.in_(tickets)).returning(Attachment.stored_path)
    )).scalars())
    done.attachments, paths = len(deleted), set(deleted)
    still_named = set((await session.execute(
        select(Attachment.stored_path).where(Attachment.stored_path.in_(paths)))).scalars()) if paths else set()
    done.paths = sorted(p for p in paths - still_named if p)

    done.messages = await _changed(session, update(TicketMessage).where(or_(
        TicketMessage.ticket_id.in_(tickets), TicketMessage.author_customer_id == customer.id,
    )).values(body=ERASED))
    done.ratings = await _changed(session, update(Rating).where(
        Rating.ticket_id.in_(tickets), Rating.comment != "").values(comment=""))
    await session.execute(update(ArticleEvent).where(ArticleEvent.customer_id == customer.id, ArticleEvent.text != "")
                          .values(text=""))
    done.tickets = await _changed(session, update(Ticket).where(Ticket.customer_id == customer.id)
                                  .values(subject=ERASED, description=ERASED))
    done.drafts = await _changed(session, delete(Draft).where(Draft.customer_id == customer.id))

    to_them = [OutboxMessage.customer_id == customer.id]
    if customer.chat_id:
        to_them.append((OutboxMessage.platform == customer.platform) & (OutboxMessage.chat_id == customer.chat_id))
    done.notifications_deleted = await _changed(session, delete(OutboxMessage).where(or_(*to_them)))
    about_them = (await session.execute(select(OutboxMessage).where(OutboxMessage.ticket_id.in_(tickets)))).scalars()
    for row in about_them:
        if any(key in row.params for key in _TEXT_PARAMS):
            row.params = {k: v for k, v in row.params.items() if k not in _TEXT_PARAMS}
            done.notifications_cleared += 1

    done.inbound_replies_cleared = await _changed(session, update(InboundEvent).where(
        InboundEvent.state == "done", InboundEvent.replies.is_not(None)).values(replies=null()))

    customer.platform_user_id = f"forgotten-{customer.id}"
    customer.chat_id = ""
    customer.display_name = ""
    customer.locale = None
    customer.timezone = None  # a hint of where they live
    customer.reachable = False
    # Their address, and the organisation it gave: nobody may find them or their tickets through it.
    if customer.address:
        await session.execute(delete(OrganisationMember).where(OrganisationMember.address == customer.address))
    address = customer.address
    customer.address = customer.organisation_id = customer.organisation_role = None
    customer.address_proven = False
    if address:
        await session.flush()
        await relink(session, addresses=(address,))  # others with it lose the membership it gave
    await session.execute(delete(Verification).where(Verification.customer_id == customer.id))
    await session.flush()
    return done


async def _changed(session: AsyncSession, statement: Executable) -> int:
    """How many rows an UPDATE or DELETE changed."""
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)
