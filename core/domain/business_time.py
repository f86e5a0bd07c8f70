"""Business-time arithmetic over a department's calendar (working hours, holidays, time zone).

All inputs and outputs are aware datetimes; durations are summed in UTC so a daylight-saving
change inside a working range counts the hours that really passed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from core.domain.config import Calendar, SlaPolicy

_HORIZON_DAYS = 3660  # a calendar with no working time at all must not loop forever


def _window(cal: Calendar, day: date, a: time, b: time) -> tuple[datetime, datetime]:
    start = datetime.combine(day, a, cal.zone).astimezone(UTC)
    if b == time.max:
        end = datetime.combine(day + timedelta(days=1), time.min, cal.zone).astimezone(UTC)
    else:
        end = datetime.combine(day, b, cal.zone).astimezone(UTC)
    return start, end


def add_business_time(cal: Calendar, start: datetime, amount: timedelta) -> datetime:
    """The moment when `amount` of working time has passed after `start`."""
    start = start.astimezone(UTC)
    remaining = amount
    day = start.astimezone(cal.zone).date()
    for _ in range(_HORIZON_DAYS):
        for a, b in cal.ranges_for(day):
            lo, hi = _window(cal, day, a, b)
            lo = max(lo, start)
            if hi <= lo:
                continue
            if hi - lo >= remaining:
                return lo + remaining
            remaining -= hi - lo
        day += timedelta(days=1)
    raise ValueError("the calendar has no working time in the next ten years")


def business_time_between(cal: Calendar, a: datetime, b: datetime) -> timedelta:
    """Working time that passes between two moments (zero when b <= a)."""
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    total = timedelta()
    if b <= a:
        return total
    day = a.astimezone(cal.zone).date()
    last = b.astimezone(cal.zone).date()
    while day <= last:
        for ra, rb in cal.ranges_for(day):
            lo, hi = _window(cal, day, ra, rb)
            lo, hi = max(lo, a), min(hi, b)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def first_response_due(cal: Calendar, policy: SlaPolicy, opened: datetime) -> datetime:
    """When the first answer is due: business or calendar time, never past the wall-clock cap."""
    hours = timedelta(hours=policy.first_response_hours)
    due = add_business_time(cal, opened, hours) if policy.business_time else opened + hours
    if policy.first_response_cap_hours is not None:
        due = min(due, opened + timedelta(hours=policy.first_response_cap_hours))
    return due


def next_opening(cal: Calendar, moment: datetime) -> datetime:
    """`moment` itself while the office is open, else when it next opens."""
    return add_business_time(cal, moment, timedelta())


def resolution_due(cal: Calendar, policy: SlaPolicy, opened: datetime) -> datetime:
    hours = timedelta(hours=policy.resolution_hours)
    return add_business_time(cal, opened, hours) if policy.business_time else opened + hours
