"""A period's figures day by day, for the report's picture: tickets opened and resolved, the
SLA kept or missed (by the day a ticket was opened), articles shown and tickets they spared,
minutes logged. Days are the reader's local days (`zone`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Executable, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from core.services.articles import ArticleKind
from core.services.reports import ROWS_AT_ONCE
from core.storage.db import Database
from core.storage.models import ArticleEvent, Customer, Organisation, Ticket, TimeEntry

MAX_DAYS = 366  # a picture of more days would be unreadable; the CLI refuses longer periods


@dataclass
class Day:
    opened: int = 0
    resolved: int = 0
    first_met: int = 0  # of the tickets opened that day: first response within the SLA ...
    first_late: int = 0  # ... or past it (answered late, or still waiting past it)
    resolution_met: int = 0
    resolution_late: int = 0
    shown: int = 0  # articles shown
    deflected: int = 0  # tickets not opened thanks to an article
    minutes: int = 0  # time logged


@dataclass
class Daily:
    days: dict[date, Day] = field(default_factory=dict)  # every day of the period, in order


@dataclass
class DailyRows:
    """What the database holds for the period, read on the loop, tallied in a thread."""

    start: datetime
    end: datetime
    opened: Sequence[Any] = ()
    resolved: Sequence[Any] = ()
    articles: Sequence[Any] = ()
    time: Sequence[Any] = ()


async def daily_rows(db: Database, start: datetime, end: datetime, *, organisation: str | None = None,
                     articles: bool = True) -> DailyRows:
    """The rows of [start, end); `organisation` (its exact name) keeps its people's tickets only."""
    t = Ticket
    scope: ColumnElement[bool] = true()
    if organisation is not None:
        scope = t.customer_id.in_(select(Customer.id).join(Organisation, Organisation.id == Customer.organisation_id)
                                  .where(Organisation.name == organisation))
    rows = DailyRows(start, end)
    async with db.read() as session:
        rows.opened = await _rows(session, select(
            t.created_at, t.first_response_at, t.first_response_breached_at, t.resolved_at,
            t.resolution_breached_at).where(t.created_at >= start, t.created_at < end, scope))
        rows.resolved = await _rows(session, select(t.resolved_at).where(t.resolved_at >= start,
                                                                          t.resolved_at < end, scope))
        rows.time = await _rows(session, select(TimeEntry.at, TimeEntry.minutes).join(t, t.id == TimeEntry.ticket_id)
                                .where(TimeEntry.at >= start, TimeEntry.at < end, scope))
        if articles:
            kinds = [ArticleKind.SHOWN.value, ArticleKind.DEFLECTED.value]
            rows.articles = await _rows(session, select(ArticleEvent.at, ArticleEvent.kind).where(
                ArticleEvent.at >= start, ArticleEvent.at < end, ArticleEvent.kind.in_(kinds)))
    return rows


async def _rows(session: AsyncSession, statement: Executable) -> list[Any]:
    """Every row, read in slices with the loop let run between them (a busy desk's month is
    thousands of rows, and the in-loop SQLite never yields on its own)."""
    found: list[Any] = []
    async for part in (await session.stream(statement)).partitions(ROWS_AT_ONCE):
        found += part
        await asyncio.sleep(0)
    return found


def tally(rows: DailyRows, zone: ZoneInfo) -> Daily:
    """The rows per local day (pure: runs in a thread)."""
    first, last = rows.start.astimezone(zone).date(), (rows.end - timedelta(microseconds=1)).astimezone(zone).date()
    daily = Daily({first + timedelta(days=i): Day() for i in range((last - first).days + 1)})

    def day(moment: datetime) -> Day:
        return daily.days.setdefault(moment.astimezone(zone).date(), Day())

    for created, answered, first_breached, resolved, resolution_breached in rows.opened:
        d = day(created)
        d.opened += 1
        if first_breached is not None:
            d.first_late += 1
        elif answered is not None:
            d.first_met += 1
        if resolution_breached is not None:
            d.resolution_late += 1
        elif resolved is not None:
            d.resolution_met += 1
    for (resolved,) in rows.resolved:
        day(resolved).resolved += 1
    for at, kind in rows.articles:
        d = day(at)
        if kind == ArticleKind.SHOWN.value:
            d.shown += 1
        else:
            d.deflected += 1
    for at, minutes in rows.time:
        day(at).minutes += minutes
    return daily
