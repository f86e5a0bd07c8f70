"""Time-zone names in the configuration: the calendars' zones and the customers' defaults."""

from __future__ import annotations

from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict


@cache
def known_zones() -> frozenset[str]:
    """The zone database's names, read once (reading them walks the whole database)."""
    return frozenset(available_timezones())


def known_zone(value: str) -> str:
    """An IANA zone name this system's time-zone database has; a ValueError naming it otherwise."""
    if value not in known_zones():
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Prague'")
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - tzdata mismatch
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


Zone = Annotated[str, AfterValidator(known_zone)]


class Timezones(BaseModel):
    """`[timezones]`: the zone a customer's times are shown in until they choose one, per
    language; a language left out falls back to the ticket's department's zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: Zone | None = None
    fa: Zone | None = None
    cs: Zone | None = None
    ru: Zone | None = None
    pt: Zone | None = None

    def of(self, locale: str | None) -> str | None:
        return getattr(self, locale, None) if locale in type(self).model_fields else None
