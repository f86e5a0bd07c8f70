"""The report's picture for a period, and the weekly one for the agents' desks.

The weekly picture is news of no ticket in the outbox, one row per desk chat (each desk's
default chat), keyed by the week: queued once whichever process comes first and however often
one restarts, kept until it is sent (a failed send is retried like any desk row), and drawn
when it is sent, in the desk's language."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.delivery.outbox import DeskRoutes, notify_desk_once
from core.domain.config import HelpdeskConfig
from core.domain.schedule import week_before
from core.i18n import Translator
from core.reports.daily import DailyRows, daily_rows, tally
from core.services.reports import Report, build_report
from core.storage.db import Database
from core.storage.models import OutboxMessage

WEEKLY_REPORT = "weekly_report"  # the desk rows' event
# How long after its moment a weekly report is still queued (a process that was down at the
# moment catches up when it starts); shorter than a day, the shortest retention of sent rows,
# so that a row sent and pruned is never queued again.
GRACE = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Picture:
    png: bytes
    caption: str  # one line, in the reader's language
    filename: str


def report_zone(config: HelpdeskConfig) -> ZoneInfo:
    """The zone of the weekly report's days: `[reports] timezone`, else the first department's
    calendar's."""
    return ZoneInfo(config.reports.timezone or config.calendar_of(config.departments[0].code).timezone)


async def report_picture(db: Database, config: HelpdeskConfig, t: Translator, start: datetime, end: datetime,
                         zone: ZoneInfo, *, organisation: str | None = None) -> bytes:
    """The PNG of [start, end), days in `zone`; drawn in a worker thread. With `organisation`,
    its people's tickets only (OrganisationError when there is no such organisation)."""
    report = await build_report(db, config, start, end, organisation=organisation)
    rows = await daily_rows(db, start, end, organisation=report.organisation, articles=report.organisation is None)
    return await asyncio.to_thread(_draw, t, report, rows, zone)


def _draw(t: Translator, report: Report, rows: DailyRows, zone: ZoneInfo) -> bytes:
    from core.reports.chart import draw  # matplotlib loads in the worker thread, not on the event loop

    return draw(t, report, tally(rows, zone))


async def queue_weekly(db: Database, config: HelpdeskConfig, routes: DeskRoutes, now: datetime) -> int:
    """Queue the weekly picture for every desk once its moment has come (within GRACE); the
    rows queued now (0 when it is not time, or they were queued before)."""
    zone = report_zone(config)
    run = config.reports.last_run(now, zone)
    if run is None or now - run > GRACE or not routes:
        return 0
    start, end = week_before(run, zone)
    queued = 0
    for platform, chat in routes.every_desk():
        chat_key = chat if len(chat) <= 64 else hashlib.sha256(chat.encode()).hexdigest()[:64]
        key = f"{start.date().isoformat()}:{chat_key}"
        try:
            async with db.write() as session:
                found = await session.execute(select(OutboxMessage.id).where(
                    OutboxMessage.idempotency_key == f"{platform}:{WEEKLY_REPORT}:{key}"))
                if found.first() is not None:
                    continue
                notify_desk_once(session, platform, chat, WEEKLY_REPORT, now, key=key, start=start.isoformat(),
                                 end=end.isoformat(), zone=zone.key)
        except IntegrityError:  # another process queued it between the look and the insert
            continue
        queued += 1
    return queued


async def weekly_picture(db: Database, config: HelpdeskConfig, t: Translator, params: dict[str, Any]) -> Picture:
    """A queued weekly row's picture, in the reading desk's language."""
    start, end = datetime.fromisoformat(params["start"]), datetime.fromisoformat(params["end"])
    zone = ZoneInfo(params["zone"])
    png = await report_picture(db, config, t, start, end, zone)
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    caption = t._("The weekly report: {start} – {end}", start=t.date(start.astimezone(zone).date()), end=t.date(last))
    return Picture(png, caption, f"report-{start.date().isoformat()}.png")
