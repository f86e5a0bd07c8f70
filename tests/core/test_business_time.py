"""Business-time arithmetic: working hours, weekends, holidays, split shifts, zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.domain.business_time import add_business_time, business_time_between, first_response_due
from core.domain.config import Calendar, SlaPolicy

PRAGUE = Calendar(
    timezone="Europe/Prague", country="CZ",
    hours={d: [("09:00", "13:00"), ("14:00", "17:00")] for d in ("mon", "tue", "wed", "thu", "fri")},
)
TEHRAN = Calendar(
    timezone="Asia/Tehran", country="IR",
    hours={**{d: [("09:00", "17:00")] for d in ("sat", "sun", "mon", "tue", "wed")},
           "thu": [("09:00", "13:00")]},
)


def at(cal: Calendar, *args: int) -> datetime:
    return datetime(*args, tzinfo=cal.zone)


def test_split_shift_skips_lunch() -> None:
    start = at(PRAGUE, 2026, 11, 16, 12, 0)  # Monday noon
    assert add_business_time(PRAGUE, start, timedelta(hours=2)) == at(PRAGUE, 2026, 11, 16, 15, 0)


def test_weekend_is_skipped() -> None:
    start = at(PRAGUE, 2026, 11, 20, 16, 0)  # Friday 16:00, one hour left
    assert add_business_time(PRAGUE, start, timedelta(hours=2)) == at(PRAGUE, 2026, 11, 23, 10, 0)


def test_holiday_is_skipped() -> None:
    # 24-26 December are Czech public holidays; 23 Dec 2026 is a Wednesday.
    start = at(PRAGUE, 2026, 12, 23, 16, 0)
    assert add_business_time(PRAGUE, start, timedelta(hours=2)) == at(PRAGUE, 2026, 12, 28, 10, 0)


def test_extra_workday_and_extra_holiday() -> None:
    cal = PRAGUE.model_copy(update={
        "extra_holidays": [date(2026, 11, 16)],
        "extra_workdays": {date(2026, 11, 21): [("10:00", "12:00")]},
    })
    assert cal.ranges_for(date(2026, 11, 16)) == []
    start = at(cal, 2026, 11, 20, 16, 0)  # Friday 16:00, then a working Saturday morning
    assert add_business_time(cal, start, timedelta(hours=2)) == at(cal, 2026, 11, 21, 11, 0)


def test_tehran_week_starts_on_saturday() -> None:
    start = at(TEHRAN, 2026, 11, 19, 12, 0)  # Thursday noon, one hour left; Friday off
    assert add_business_time(TEHRAN, start, timedelta(hours=2)) == at(TEHRAN, 2026, 11, 21, 10, 0)


def test_daylight_saving_change_in_prague() -> None:
    cal = Calendar(timezone="Europe/Prague", hours={"sun": [("00:00", "24:00")]})
    # 29 March 2026: clocks jump from 02:00 to 03:00, so the day has 23 hours.
    day = business_time_between(cal, at(cal, 2026, 3, 29, 0, 0), at(cal, 2026, 3, 30, 0, 0))
    assert day == timedelta(hours=23)


def test_between_is_the_inverse_of_add() -> None:
    start = at(PRAGUE, 2026, 11, 18, 10, 30)
    end = add_business_time(PRAGUE, start, timedelta(hours=19, minutes=15))
    assert business_time_between(PRAGUE, start, end) == timedelta(hours=19, minutes=15)
    assert business_time_between(PRAGUE, end, start) == timedelta()


def test_first_response_is_capped_by_wall_clock() -> None:
    policy = SlaPolicy(first_response_hours=24, first_response_cap_hours=72, resolution_hours=80)
    opened = at(PRAGUE, 2026, 11, 20, 16, 0)  # Friday: 24 business hours is past Wednesday
    assert first_response_due(PRAGUE, policy, opened) == opened + timedelta(hours=72)
    calendar_time = SlaPolicy(first_response_hours=2, resolution_hours=8, business_time=False)
    assert first_response_due(PRAGUE, calendar_time, opened) == opened + timedelta(hours=2)
    assert first_response_due(PRAGUE, calendar_time, opened).tzinfo is not None
    assert opened.astimezone(UTC).tzinfo is UTC
