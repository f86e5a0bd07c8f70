"""The SLA and automation timers, as sweeps over indexed due-time columns.

Each sweep takes its due tickets with FOR UPDATE SKIP LOCKED and marks them in the same
transaction as the news it writes, so a timer fires once, whichever process sweeps, and a
restart loses none (the times are in the database, not in memory).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.model import OPEN_STATUSES, TIERS, Status, Who
from core.services import Services
from core.services.news import CustomerNews, DeskNews
from core.storage.models import TIMER_INDEXES, Ticket

BATCH = 200


def _predicate(index: str) -> str:
    return next(where for name, _, where in TIMER_INDEXES if name == index)


class Timers:
    def __init__(self, services: Services) -> None:
        self.db = services.db
        self.clock = services.clock
        self.config = services.config
        self.news = services.news
        self.steps = services.steps

    async def sweep(self) -> dict[str, int]:
        """Fire every timer that is due; returns how many of each fired."""
        now = self.clock()
        t = Ticket
        def due(index: str, column: Any, *, predicate: str = "") -> Select[Ticket]:
            # The partial index's own predicate, spelled the same: SQLite matches it literally.
            conditions = [text(w) for w in _predicate(index).split(" AND ")]
            # Ordered by the indexed due time: ordering by id made SQLite scan the whole table.
            query = select(t).where(*conditions, column <= now).order_by(column)
            return query.where(text(predicate)) if predicate else query

        open_list = ", ".join(f"'{s.value}'" for s in OPEN_STATUSES)
        fired = {
            "first_response_warning": await self._each(
                due("ix_timer_first_warn", t.first_response_warn_at, predicate=f"status IN ({open_list})"),
                self._first_response_warning, now),
            "first_response_breach": await self._each(
                due("ix_timer_first_breach", t.first_response_due, predicate="status IN ('new', 'accepted')"),
                self._first_response_breach, now),
            "resolution_warning": await self._each(
                due("ix_timer_resolution_warn", t.resolution_warn_at), self._resolution_warning, now),
            "resolution_breach": await self._each(
                due("ix_timer_resolution_breach", t.resolution_due), self._resolution_breach, now),
            "reminder": await self._each(due("ix_timer_reminder", t.reminder_due_at), self._reminder, now),
            "auto_close": await self._each(due("ix_timer_auto_close", t.auto_close_at), self._auto_close, now),
        }
        return fired

    async def _each(self, query: Select[Ticket],
                    action: Callable[[AsyncSession, Ticket, datetime], Awaitable[None]], now: datetime) -> int:
        async with self.db.write() as session:
            due = list((await session.execute(
                query.limit(BATCH).with_for_update(skip_locked=True))).scalars())
            for ticket in due:
                await action(session, ticket, now)
            return len(due)

    async def _first_response_warning(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        ticket.first_response_warned_at = now
        self.news.desk(session, ticket, DeskNews.SLA_WARNING, now, kind="first_response",
                       due=ticket.first_response_due.isoformat() if ticket.first_response_due else None)

    async def _resolution_warning(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        ticket.resolution_warned_at = now
        self.news.desk(session, ticket, DeskNews.SLA_WARNING, now, kind="resolution",
                       due=ticket.resolution_due.isoformat() if ticket.resolution_due else None)

    async def _first_response_breach(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        ticket.first_response_breached_at = now
        await self._breach(session, ticket, now, "first_response")

    async def _resolution_breach(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        ticket.resolution_breached_at = now
        await self._breach(session, ticket, now, "resolution")

    async def _breach(self, session: AsyncSession, ticket: Ticket, now: datetime, kind: str) -> None:
        """Up one tier (the supervisor mentioned, the customer told), or flag it at the top tier."""
        if ticket.tier < TIERS[-1]:
            await self.steps.escalate(session, ticket, Who.system(), f"{kind}_overdue", now)
        else:
            self.news.desk(session, ticket, DeskNews.SLA_BREACH, now, kind=kind)

    async def _reminder(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        ticket.reminded_at = now
        await self.news.customer(session, ticket, CustomerNews.REMINDER, now)

    async def _auto_close(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        self.steps.move(session, ticket, Status.CLOSED, Who.system(), "auto_closed", now)
        await self.steps.tell_status(session, ticket, Status.RESOLVED, now, "auto_closed")
