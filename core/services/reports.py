"""Reports for a period: open tickets, response and resolution times in business hours, SLA
breaches, satisfaction, and recurring subjects (the Portuguese seed: spot recurring problems).

The figures are worked out in a thread: comparing thousands of subjects with each other takes
seconds, and on the event loop every chat of the process would wait for it."""

from __future__ import annotations

import asyncio
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import ColumnElement, func, select, true

from core.domain.business_time import business_time_between
from core.domain.config import HelpdeskConfig
from core.domain.model import OPEN_STATUSES
from core.domain.textnorm import for_matching
from core.services.articles import ArticleFigures, article_figures
from core.services.organisations import OrganisationError
from core.services.quotes import QuoteFigures, quote_figures
from core.services.timelog import TimeFigures, time_figures
from core.storage.db import Database
from core.storage.models import Customer, Organisation, Rating, Ticket

ALL = "*"
MAX_SUBJECTS = 5000
ROWS_AT_ONCE = 500


@dataclass
class Durations:
    hours: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.hours)

    @property
    def median(self) -> float | None:
        return statistics.median(self.hours) if self.hours else None

    @property
    def p90(self) -> float | None:
        if len(self.hours) < 2:
            return self.hours[0] if self.hours else None
        return statistics.quantiles(self.hours, n=10, method="inclusive")[8]


@dataclass
class Report:
    start: datetime
    end: datetime
    open_now: dict[tuple[str, str], int] = field(default_factory=dict)
    first_response: dict[str, Durations] = field(default_factory=lambda: defaultdict(Durations))
    resolution: dict[str, Durations] = field(default_factory=lambda: defaultdict(Durations))
    breaches: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    ratings: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    recurring: list[tuple[str, list[int]]] = field(default_factory=list)
    articles: ArticleFigures = field(default_factory=ArticleFigures)  # the knowledge base's figures
    organisation: str | None = None  # the organisation whose people's tickets alone are counted
    # Tickets opened in the period per organisation (by their requesters' organisation now),
    # the most first; an unfiltered report's only.
    per_organisation: list[tuple[str, int]] = field(default_factory=list)
    time: TimeFigures = field(default_factory=TimeFigures)  # the time agents logged in the period
    quotes: QuoteFigures = field(default_factory=QuoteFigures)  # quotes for paid work sent and answered


async def build_report(db: Database, config: HelpdeskConfig, start: datetime, end: datetime, *,
                       organisation: str | None = None) -> Report:
    """The figures of a period; with `organisation` (a name, in any case), of the tickets whose
    requester belongs to it (OrganisationError "unknown_organisation" when there is none)."""
    t = Ticket
    report = Report(start, end)
    async with db.read() as session:
        scope: ColumnElement[bool] = true()
        if organisation is not None:
            found = (await session.execute(select(Organisation.id, Organisation.name).where(
                func.lower(Organisation.name) == " ".join(organisation.split()).lower()))).first()
            if found is None:
                raise OrganisationError("unknown_organisation", name=organisation[:100])
            report.organisation = found.name
            scope = t.customer_id.in_(select(Customer.id).where(Customer.organisation_id == found.id))
        else:
            report.per_organisation = [(name, int(n)) for name, n in (await session.execute(
                select(Organisation.name, func.count()).select_from(t)
                .join(Customer, Customer.id == t.customer_id)
                .join(Organisation, Organisation.id == Customer.organisation_id)
                .where(t.created_at >= start, t.created_at < end)
                .group_by(Organisation.name).order_by(func.count().desc(), Organisation.name))).all()]
        open_now = (await session.execute(
            select(t.department, t.status, func.count()).where(t.status.in_(list(OPEN_STATUSES)), scope)
            .group_by(t.department, t.status))).all()
        opened: list[Any] = []
        # In slices, letting the loop run between them: turning thousands of rows into Python
        # values is itself a long step, and the in-loop SQLite (core.storage.fastpath.inline_sqlite)
        # answers without ever yielding on its own.
        async for rows in (await session.stream(
                select(t.number, t.department, t.subject, t.created_at, t.first_response_at, t.resolved_at)
                .where(t.created_at >= start, t.created_at < end, scope)
                .order_by(t.created_at))).partitions(ROWS_AT_ONCE):
            opened += rows
            await asyncio.sleep(0)
        breached = (await session.execute(
            select(t.department, t.first_response_breached_at, t.resolution_breached_at).where(
                ((t.first_response_breached_at >= start) & (t.first_response_breached_at < end))
                | ((t.resolution_breached_at >= start) & (t.resolution_breached_at < end)), scope))).all()
        rated = (await session.execute(
            select(t.department, Rating.score).join(Rating, Rating.ticket_id == t.id)
            .where(Rating.rated_at >= start, Rating.rated_at < end, scope))).all()
        report.time = await time_figures(session, start, end, scope)
        report.quotes = await quote_figures(session, start, end, scope)
    if organisation is None:  # the knowledge base's figures are the whole desk's: not an organisation's
        report.articles = await article_figures(db, start, end)
    return await asyncio.to_thread(_tally, report, config, open_now, opened, breached, rated)


def _tally(report: Report, config: HelpdeskConfig, open_now: Sequence[Any], opened: Sequence[Any],
           breached: Sequence[Any], rated: Sequence[Any]) -> Report:
    """The report from the rows read (runs in a thread: touches no database and no loop)."""
    start, end = report.start, report.end
    for dep, status, n in open_now:
        report.open_now[(dep, status)] = int(n)
    for _number, dep, _subject, created, answered, resolved in opened:
        cal = config.calendar_of(dep) if config.department(dep) else None
        for moment, table in ((answered, report.first_response), (resolved, report.resolution)):
            if moment is not None and cal is not None:
                hours = business_time_between(cal, created, moment).total_seconds() / 3600
                table[dep].hours.append(hours)
                table[ALL].hours.append(hours)
    for dep, first, resolution in breached:
        for key in (dep, ALL):
            report.breaches[key][0] += int(first is not None and start <= first < end)
            report.breaches[key][1] += int(resolution is not None and start <= resolution < end)
    for dep, score in rated:
        report.ratings[dep].append(score)
        report.ratings[ALL].append(score)
    report.recurring = recurring_subjects([(n, s) for n, _, s, *_ in opened[-MAX_SUBJECTS:]])
    return report


def recurring_subjects(tickets: list[tuple[int, str]], threshold: int = 80,
                       top: int = 10) -> list[tuple[str, list[int]]]:
    """Groups of alike subjects (rapidfuzz token-set ratio), the largest first, two or more each.

    Each subject joins the group of the first earlier subject it is most alike, or starts one.
    CPU-bound for seconds with thousands of subjects: call it off the event loop."""
    groups: list[tuple[str, list[int]]] = []
    keys: list[str] = []  # each group's first subject, as matched
    group_of: dict[str, int] = {}  # a subject met before joins its group without comparing again
    for number, subject in tickets:
        key = for_matching(subject)
        if not key:
            continue
        index = group_of.get(key)
        if index is None:
            match = process.extractOne(key, keys, scorer=fuzz.token_set_ratio, score_cutoff=threshold) if keys else None
            if match is None:
                index = len(groups)
                keys.append(key)
                groups.append((subject, []))
            else:
                index = match[2]
            group_of[key] = index
        groups[index][1].append(number)
    found = [g for g in groups if len(g[1]) >= 2]
    return sorted(found, key=lambda g: -len(g[1]))[:top]
