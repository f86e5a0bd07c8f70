"""Taking a customer's message back out of its ticket (Undo, Move): its files, its desk news,
and the change of status it caused when nothing happened on the ticket since."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.domain import sla
from core.domain.config import HelpdeskConfig
from core.domain.model import Actor, MessageKind, NewAttachment, Status
from core.services.news import DeskNews, News
from core.storage.models import Attachment, Draft, OutboxMessage, StatusChange, Ticket, TicketMessage

_UNLINK = "helpdesk_unlink_after_commit"
_ANSWERED = "customer_answered"


@dataclass(frozen=True, slots=True)
class TakenBack:
    """A message taken out of its ticket: where it was, what it said, its files, where it went,
    and whether the change of status it caused stays (something happened on the ticket since)."""

    number: int
    body: str
    files: list[NewAttachment]
    moved_to: Ticket | None
    status_kept: bool = False


def as_new(rows: Iterable[Attachment]) -> list[NewAttachment]:
    """Stored files as a message's attachments, to be linked again (to another ticket, a form)."""
    return [NewAttachment(a.filename, a.mime_type, a.size, a.sha256, a.stored_path, a.platform_file_id)
            for a in rows]


async def theirs(session: AsyncSession, customer_id: int, message_id: int) -> TicketMessage | None:
    """The customer's own message, locked; None when it is not (any more) theirs."""
    msg = await session.get(TicketMessage, message_id, with_for_update=True)
    if msg is None or msg.author_customer_id != customer_id or msg.kind != MessageKind.CUSTOMER:
        return None
    return msg


async def take_out(session: AsyncSession, news: News, config: HelpdeskConfig, ticket: Ticket,
                   msg: TicketMessage, now: datetime, moved_to: Ticket | None) -> TakenBack:
    """The message leaves its ticket with its files' rows and its unsent desk news; a desk that was
    shown it is told. Its files are the caller's to keep (a move) or to drop (drop_files)."""
    files = as_new((await session.execute(select(Attachment).where(Attachment.message_id == msg.id))).scalars())
    await session.execute(delete(Attachment).where(Attachment.message_id == msg.id))
    shown = await _unsend(session, ticket, DeskNews.CUSTOMER_MESSAGE, lambda p: p.get("message_id") == msg.id)
    kept = await _undo_status(session, news, config, ticket, msg, now)
    body = msg.body
    if ticket.waiting_since == msg.created_at:  # it was what the ticket waited on: no longer
        ticket.waiting_since = None
    await session.delete(msg)
    await session.flush()
    if shown:
        excerpt = body if body.strip() else ", ".join(f.filename for f in files)  # a file alone: its name
        news.desk(session, ticket, DeskNews.MESSAGE_WITHDRAWN, now, only=shown, excerpt=excerpt[:300],
                  moved_to=moved_to.number if moved_to is not None else None)
    return TakenBack(ticket.number, body, files, moved_to, kept)


async def drop_files(session: AsyncSession, files: list[NewAttachment]) -> None:
    """Delete the stored files after the commit when no attachment row nor any unfinished form
    names them (files are content-addressed: another ticket, or a form moving this very message,
    may hold the same one)."""
    paths = {f.stored_path for f in files if f.stored_path}
    if not paths:
        return
    named = set((await session.execute(
        select(Attachment.stored_path).where(Attachment.stored_path.in_(paths)))).scalars())
    for path in paths - named:
        in_form = (await session.execute(select(func.count()).select_from(Draft).where(
            cast(Draft.data, Text).contains(path, autoescape=True)))).scalar_one()
        if not in_form:
            session.sync_session.info.setdefault(_UNLINK, set()).add(path)


async def _unsend(session: AsyncSession, ticket: Ticket, news: DeskNews,
                  match: Callable[[dict[str, Any]], bool]) -> set[tuple[str, str]]:
    """Delete the ticket's unsent desk rows of `news` that `match`; the desks (platform, chat)
    whose row was sent or is being sent."""
    rows = (await session.execute(select(OutboxMessage.id, OutboxMessage.platform, OutboxMessage.chat_id,
                                         OutboxMessage.params).where(
        OutboxMessage.ticket_id == ticket.id, OutboxMessage.event == news.value))).all()
    shown: set[tuple[str, str]] = set()
    for row_id, platform, chat, params in rows:
        if match(params):
            gone = await session.execute(delete(OutboxMessage).where(
                OutboxMessage.id == row_id, OutboxMessage.status == "pending"))
            if not getattr(gone, "rowcount", 0):
                shown.add((platform, chat))
    return shown


async def _undo_status(session: AsyncSession, news: News, config: HelpdeskConfig, ticket: Ticket,
                       msg: TicketMessage, now: datetime) -> bool:
    """Put a ticket the message took off waiting back to waiting, when nothing happened on it
    since; True when the message moved the ticket and that stays."""
    changes = list((await session.execute(select(StatusChange).where(StatusChange.ticket_id == ticket.id)
                                          .order_by(StatusChange.id.desc()).limit(2))).scalars())
    caused = (await session.execute(select(func.count()).select_from(StatusChange).where(
        StatusChange.ticket_id == ticket.id, StatusChange.at == msg.created_at,
        StatusChange.actor == Actor.CUSTOMER, StatusChange.to_status == Status.ACCEPTED))).scalar_one()
    if not caused:
        return False
    later = (await session.execute(select(func.count()).select_from(TicketMessage).where(
        TicketMessage.ticket_id == ticket.id, TicketMessage.id > msg.id))).scalar_one()
    last = changes[0]
    if (later or last.reason != _ANSWERED or last.at != msg.created_at or ticket.status != Status.ACCEPTED
            or ticket.updated_at != msg.created_at or len(changes) < 2 or changes[1].to_status != Status.WAITING):
        return True
    waited_from = changes[1].at
    reminded = ticket.reminded_at
    # The clock resumed at the message: paused again from then, so the span is counted once.
    sla.on_transition(ticket, Status.ACCEPTED, Status.WAITING, msg.created_at, config)
    cal = config.calendar_of(ticket.department)
    ticket.reminder_due_at = sla.add_business_days(cal, waited_from, config.lifecycle.reminder_business_days)
    ticket.reminded_at = reminded
    ticket.status = Status.WAITING
    await session.delete(last)
    shown = await _unsend(session, ticket, DeskNews.STATUS_CHANGED,
                          lambda p: p.get("reason") == _ANSWERED and p.get("by") == msg.author_customer_id)
    if shown:  # a desk shown the ticket in progress sees it waiting again
        news.desk(session, ticket, DeskNews.STATUS_CHANGED, now, only=shown, old=Status.ACCEPTED.value,
                  new=Status.WAITING.value, actor=Actor.CUSTOMER.value, by=msg.author_customer_id,
                  reason="message_withdrawn")
    return False


@event.listens_for(Session, "after_commit")
def _unlink_committed(session: Session) -> None:
    if session.get_nested_transaction() is None:  # the outermost
        for path in session.info.pop(_UNLINK, ()):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


@event.listens_for(Session, "after_rollback")
def _unlink_rolled_back(session: Session) -> None:
    session.info.pop(_UNLINK, None)
