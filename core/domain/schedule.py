"""`[reports]`: when the weekly report goes to the agents' desks (`weekly = "mon 09:00"`, in
`timezone`, else the first department's calendar's zone); empty or absent, it does not."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator

from core.domain.zones import Zone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WHEN = re.compile(r"^(?P<day>[a-z]{3}) +(?P<hour>\d{1,2}):(?P<minute>\d{2})$")


class Reports(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    weekly: str = ""  # "<weekday> HH:MM"
    timezone: Zone | None = None

    @field_validator("weekly")
    @classmethod
    def _when(cls, value: str) -> str:
        value = " ".join(value.split()).lower()
        if value and parse_weekly(value) is None:
            raise ValueError(f"{value!r} is not a weekday and a time; write it like \"mon 09:00\" "
                             f"(a weekday of {', '.join(WEEKDAYS)}, then HH:MM)")
        return value

    def last_run(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """The latest scheduled moment at or before `now` (None when no weekly report is set)."""
        when = parse_weekly(self.weekly)
        if when is None:
            return None
        weekday, at = when
        local = now.astimezone(zone)
        day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
        moment = datetime.combine(day, at, zone)
        return moment if moment <= now else datetime.combine(day - timedelta(days=7), at, zone)


def parse_weekly(value: str) -> tuple[int, time] | None:
    """("mon 09:00") -> (0, 09:00); None when it is not that."""
    found = _WHEN.match(value)
    if found is None or found["day"] not in WEEKDAYS:
        return None
    hour, minute = int(found["hour"]), int(found["minute"])
    if hour > 23 or minute > 59:
        return None
    return WEEKDAYS.index(found["day"]), time(hour, minute)


def week_before(run: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The seven whole local days before a run's day, as a half-open range."""
    end = datetime.combine(run.astimezone(zone).date(), time.min, zone)
    return datetime.combine(end.date() - timedelta(days=7), time.min, zone), end
