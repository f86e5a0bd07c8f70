"""Reports: business-hour response times, breaches, satisfaction, recurring subjects, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from core.agents.report import render_csv, render_text
from core.domain.config import HelpdeskConfig
from core.domain.model import Status, Who
from core.i18n import translator
from core.services import Services
from core.services.reports import ALL, build_report, recurring_subjects
from core.services.timers import Timers
from tests.conftest import FakeClock


async def test_report(service: Services, clock: FakeClock, config: HelpdeskConfig) -> None:
    start = clock.now
    agent = await service.desk.agent("slack", "U1", "Eva")
    numbers = []
    for i, (subject, answer_after) in enumerate([("Cannot log in", 1), ("cannot log in again", 3),
                                                 ("Invoice missing", 2), ("Login fails, cannot log in", None)]):
        customer = await service.customers.customer("telegram", str(i), str(i), "C", "en")
        clock.now = start + timedelta(minutes=i)
        t = await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                      subject=subject, description="d", priority="normal")
        numbers.append(t.number)
        if answer_after is not None:
            clock.now = start + timedelta(minutes=i, hours=answer_after)
            await service.desk.add_agent_message(agent.id, t.number, "hello")
    await service.desk.change_status(numbers[0], Status.RESOLVED, Who.agent(agent.id))
    await service.desk.change_status(numbers[0], Status.CLOSED, Who.agent(agent.id))
    await service.tickets.rate((await service.queries.get(numbers[0])).customer_id, numbers[0], 4)
    clock.now = start + timedelta(days=3, minutes=4)  # past the first-response due of the unanswered one
    assert (await Timers(service).sweep())["first_response_breach"] == 1
    report = await build_report(service.db, config, start, clock.now + timedelta(minutes=1))
    first = report.first_response[ALL]
    assert first.count == 3 and first.median == 2.0 and round(first.p90 or 0, 1) == 2.8
    assert report.first_response["technical"].count == 3
    assert report.breaches[ALL] == [1, 0]
    assert report.ratings[ALL] == [4]
    assert report.open_now[("technical", "new")] == 1 and report.open_now[("technical", "waiting")] == 2
    assert report.recurring[0][1] == [numbers[0], numbers[1], numbers[3]]
    text = render_text(translator("en"), config, report)
    assert "median 2 hr, 90th percentile 2 hr 48 min, tickets: 3" in text and "3× Cannot log in" in text
    assert f"Report for the period: {translator('en').date(start.date())} – " in text
    assert "Satisfaction: 4.00 on average, ratings: 1" in text
    assert "medián" in render_text(translator("cs"), config, report) or "Medián" in render_text(
        translator("cs"), config, report)
    rows = list(csv.reader(io.StringIO(render_csv(config, report))))
    assert rows[0] == ["section", "department", "metric", "value"]
    assert ["first_response_minutes", "*", "median", "120.0"] in rows
    assert ["first_response_minutes", "*", "p90", "168.0"] in rows
    assert ["period", "*", "first_day_iso", start.date().isoformat()] in rows
    assert ["sla_breaches", "*", "first_response", "1"] in rows


def test_recurring_subjects_normalize_persian() -> None:
    groups = recurring_subjects([(1, "مشكل ورود"), (2, "مشکل ورود"), (3, "Billing"), (4, "مشکل  ورود!")])
    assert groups == [("مشكل ورود", [1, 2, 4])]


async def test_empty_report(service: Services, config: HelpdeskConfig) -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    report = await build_report(service.db, config, now - timedelta(days=30), now)
    assert "Recurring subjects:\n  —" in render_text(translator("en"), config, report)


async def test_short_spans_show_minutes_and_dates_read_as_the_reader_reads(
        service: Services, clock: FakeClock, config: HelpdeskConfig) -> None:
    clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning in the office
    agent = await service.desk.agent("slack", "U1", "Eva")
    customer = await service.customers.customer("telegram", "1", "1", "C", "en")
    ticket = await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                               subject="Slow", description="d", priority="normal")
    clock.now += timedelta(minutes=20)
    await service.desk.add_agent_message(agent.id, ticket.number, "hello")
    report = await build_report(service.db, config, datetime(2026, 11, 1, tzinfo=UTC),
                                datetime(2026, 12, 1, tzinfo=UTC))
    english = render_text(translator("en"), config, report)
    assert "median 20 min, 90th percentile 20 min" in english and "0.3" not in english
    assert "Report for the period: November 1, 2026 – November 30, 2026" in english
    persian = render_text(translator("fa"), config, report)
    assert "۲۰ دقیقه" in persian and "۱۰ آبان ۱۴۰۵" in persian and "2026" not in persian
    russian = render_text(translator("ru"), config, report)
    assert "20 мин" in russian and "1 ноября 2026" in russian
    rows = list(csv.reader(io.StringIO(render_csv(config, report))))
    assert ["first_response_minutes", "*", "median", "20.0"] in rows
    assert ["period", "*", "last_day_iso", "2026-11-30"] in rows
