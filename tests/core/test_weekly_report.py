"""`[reports] weekly`: read and checked with a clear error; the weekly picture queued for each
desk once its moment has come, once per week across processes and restarts, never for a moment
long past; the week it covers is the seven local days before."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.delivery.outbox import DeskRoutes
from core.domain.config import DEFAULT_CONFIG, ConfigError, HelpdeskConfig, load_config
from core.domain.schedule import Reports, parse_weekly, week_before
from core.reports.weekly import GRACE, WEEKLY_REPORT, queue_weekly, report_zone
from core.storage.db import Database
from core.storage.models import OutboxMessage

PRAGUE = ZoneInfo("Europe/Prague")
# Monday 30 November 2026, 09:00 in Prague (08:00 UTC).
MONDAY_NINE = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def with_reports(tmp_path: Path, section: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8").replace('[reports]\nweekly = ""', section, 1),
                    encoding="utf-8")
    return path


def test_the_setting_is_read_and_bad_ones_are_named(tmp_path: Path) -> None:
    assert load_config().reports.weekly == ""  # off unless set
    config = load_config(with_reports(tmp_path, '[reports]\nweekly = "Mon  09:00"\ntimezone = "Asia/Tehran"'))
    assert config.reports.weekly == "mon 09:00" and report_zone(config) == ZoneInfo("Asia/Tehran")
    assert report_zone(load_config(with_reports(tmp_path, '[reports]\nweekly = "fri 16:30"'))) == PRAGUE
    for bad, said in (('weekly = "monday 9am"', "reports.weekly: 'monday 9am' is not a weekday and a time"),
                      ('weekly = "mon 24:00"', "reports.weekly: 'mon 24:00' is not a weekday and a time"),
                      ('timezone = "Mars/Base"', "reports.timezone: unknown time zone 'Mars/Base'"),
                      ('monthly = "1 09:00"', "reports.monthly: unknown key")):
        with pytest.raises(ConfigError) as caught:
            load_config(with_reports(tmp_path, f"[reports]\n{bad}"))
        assert said in str(caught.value), str(caught.value)
    assert parse_weekly("sun 23:59") == (6, time(23, 59)) and parse_weekly("xyz 10:00") is None


def test_the_last_run_and_its_week() -> None:
    reports = Reports(weekly="mon 09:00")
    assert reports.last_run(MONDAY_NINE, PRAGUE) == datetime(2026, 11, 30, 9, 0, tzinfo=PRAGUE)
    assert reports.last_run(MONDAY_NINE - timedelta(minutes=1), PRAGUE) == datetime(2026, 11, 23, 9, 0, tzinfo=PRAGUE)
    assert reports.last_run(MONDAY_NINE + timedelta(days=3), PRAGUE) == datetime(2026, 11, 30, 9, 0, tzinfo=PRAGUE)
    assert Reports().last_run(MONDAY_NINE, PRAGUE) is None
    start, end = week_before(datetime(2026, 11, 30, 9, 0, tzinfo=PRAGUE), PRAGUE)
    assert (start, end) == (datetime(2026, 11, 23, tzinfo=PRAGUE), datetime(2026, 11, 30, tzinfo=PRAGUE))
    # Across the change to summer time the week is still seven local days.
    start, end = week_before(datetime(2027, 4, 1, 9, 0, tzinfo=PRAGUE), PRAGUE)
    assert start.date().isoformat() == "2027-03-25"
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(days=7, hours=-1)


def weekly(config: HelpdeskConfig) -> HelpdeskConfig:
    return config.model_copy(update={"reports": Reports(weekly="mon 09:00", timezone="Europe/Prague")})


async def rows(db: Database) -> list[tuple[str, str, dict[str, str]]]:
    async with db.read() as session:
        found = (await session.execute(select(OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.params)
                                       .where(OutboxMessage.event == WEEKLY_REPORT).order_by(OutboxMessage.id))).all()
    return [(p, c, params) for p, c, params in found]


async def test_queued_once_per_desk_and_week(db: Database, config: HelpdeskConfig) -> None:
    config = weekly(config)
    routes = DeskRoutes(config, {"slack": "C1", "telegram": "-100"})
    assert await queue_weekly(db, config, routes, MONDAY_NINE - timedelta(minutes=1)) == 0  # not yet
    other = Database(db.url.render_as_string(hide_password=False))  # another process
    try:
        counts = await asyncio.gather(*(queue_weekly(d, config, routes, MONDAY_NINE + timedelta(seconds=i))
                                        for i, d in enumerate((db, other, db, other))))
    finally:
        await other.dispose()
    assert sum(counts) == 2
    assert await queue_weekly(db, config, routes, MONDAY_NINE + timedelta(hours=2)) == 0  # a restart
    queued = await rows(db)
    assert [(p, c) for p, c, _ in queued] == [("desk:slack", "C1"), ("desk:telegram", "-100")]
    assert queued[0][2] == {"start": "2026-11-23T00:00:00+01:00", "end": "2026-11-30T00:00:00+01:00",
                            "zone": "Europe/Prague", "chat": "C1"}
    # A process down at the moment catches up when it starts, but not a moment long past.
    assert await queue_weekly(db, config, routes, MONDAY_NINE + timedelta(days=7) + GRACE + timedelta(minutes=1)) == 0
    assert await queue_weekly(db, config, routes, MONDAY_NINE + timedelta(days=7, hours=3)) == 2
    assert len(await rows(db)) == 4


async def test_nothing_without_a_desk_or_a_setting(db: Database, config: HelpdeskConfig) -> None:
    assert await queue_weekly(db, weekly(config), DeskRoutes(config, {}), MONDAY_NINE) == 0
    assert await queue_weekly(db, config, DeskRoutes(config, {"slack": "C1"}), MONDAY_NINE) == 0
    assert await rows(db) == []
