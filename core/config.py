"""The help desk's TOML configuration: departments, request types, priorities, SLA, calendars.

Loaded once at start-up and validated strictly: a broken file stops the bot with one message
that names the file, the key and the problem.
"""

from __future__ import annotations

import tomllib
from datetime import date, time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

LANGUAGES = ("en", "fa", "cs", "ru", "pt")
DEFAULT_CONFIG = Path(__file__).with_name("default_config.toml")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(Exception):
    """The configuration file cannot be used; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(_Strict):
    """A name in every language the help desk speaks."""

    en: Annotated[str, Field(min_length=1)]
    fa: Annotated[str, Field(min_length=1)]
    cs: Annotated[str, Field(min_length=1)]
    ru: Annotated[str, Field(min_length=1)]
    pt: Annotated[str, Field(min_length=1)]

    def get(self, locale: str) -> str:
        return str(getattr(self, locale if locale in LANGUAGES else "en"))


def _parse_time(value: str) -> time:
    if value == "24:00":
        return time.max
    return time.fromisoformat(value)


class Calendar(_Strict):
    """Business hours of an office: time zone, working hours per weekday, holidays."""

    timezone: str
    country: str | None = None  # official holidays from the `holidays` package
    subdivision: str | None = None
    hours: dict[str, list[tuple[str, str]]]
    extra_holidays: list[date] = []
    extra_workdays: dict[date, list[tuple[str, str]]] = {}

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r}")
        try:
            ZoneInfo(value)
        except ZoneInfoNotFoundError as exc:  # pragma: no cover - tzdata mismatch
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is not None and value not in holidays.list_supported_countries():
            raise ValueError(f"no holiday calendar for country code {value!r}")
        return value

    @field_validator("hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        for day, ranges in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            _check_ranges(ranges)
        if not any(value.values()):
            raise ValueError("no working hours on any weekday")
        return value

    @field_validator("extra_workdays")
    @classmethod
    def _workday_ranges(
        cls, value: dict[date, list[tuple[str, str]]]
    ) -> dict[date, list[tuple[str, str]]]:
        for ranges in value.values():
            _check_ranges(ranges)
        return value

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def ranges_for(self, day: date) -> list[tuple[time, time]]:
        """Working ranges on a local date, holidays and exceptional workdays applied."""
        if day in self.extra_workdays:
            raw = self.extra_workdays[day]
        elif day in self.extra_holidays or day in self._official_holidays(day.year):
            return []
        else:
            raw = self.hours.get(WEEKDAYS[day.weekday()], [])
        return [(_parse_time(a), _parse_time(b)) for a, b in raw]

    def _official_holidays(self, year: int) -> Any:
        if self.country is None:
            return ()
        cache: dict[int, Any] = self.__dict__.setdefault("_holiday_cache", {})
        if year not in cache:
            cache[year] = holidays.country_holidays(self.country, subdiv=self.subdivision, years=year)
        return cache[year]


def _check_ranges(ranges: list[tuple[str, str]]) -> None:
    previous = time.min
    for start, end in ranges:
        try:
            a, b = _parse_time(start), _parse_time(end)
        except ValueError as exc:
            raise ValueError(f"bad time in range {start!r}-{end!r}: use HH:MM") from exc
        if not a < b:
            raise ValueError(f"range {start}-{end} ends before it starts")
        if a < previous:
            raise ValueError(f"range {start}-{end} overlaps or precedes the one before it")
        previous = b


class SlaPolicy(_Strict):
    """Targets for one priority. Business hours unless `business_time` is false."""

    first_response_hours: Annotated[float, Field(gt=0)]
    resolution_hours: Annotated[float, Field(gt=0)]
    first_response_cap_hours: Annotated[float, Field(gt=0)] | None = None  # wall-clock ceiling
    business_time: bool = True


class Priority(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    name: Names
    sla: SlaPolicy


class RequestType(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    name: Names
    default_priority: str
    fixed_priority: bool = False  # e.g. a critical bug report is always urgent


class Department(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    name: Names
    calendar: str
    slack_channel: str | None = None
    escalation: dict[str, str] = {}  # "l2"/"l3" -> Slack channel or user group id

    @field_validator("escalation")
    @classmethod
    def _tiers(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key not in ("l2", "l3"):
                raise ValueError(f"unknown tier {key!r}; use l2 or l3")
        return value


class Lifecycle(_Strict):
    reopen_window_days: Annotated[int, Field(ge=0)] = 7
    auto_close_days: Annotated[int, Field(ge=1)] = 5
    reminder_business_days: Annotated[int, Field(ge=1)] = 3
    draft_ttl_hours: Annotated[float, Field(gt=0)] = 24
    warn_share: Annotated[float, Field(gt=0, lt=1)] = 0.75
    duplicate_similarity: Annotated[int, Field(ge=50, le=100)] = 80


class Delivery(_Strict):
    """Pace of notifications: kept below the platforms' limits so that none is ever hit."""

    telegram_chat_interval_seconds: Annotated[float, Field(ge=0)] = 1.0  # one message a second per chat
    telegram_group_interval_seconds: Annotated[float, Field(ge=0)] = 3.0  # 20 a minute per group
    telegram_global_per_second: Annotated[float, Field(gt=0)] = 30.0  # per process
    slack_channel_interval_seconds: Annotated[float, Field(ge=0)] = 1.0  # per channel or DM
    concurrency: Annotated[int, Field(ge=1, le=256)] = 32  # sends in flight at once
    lease_seconds: Annotated[float, Field(gt=0)] = 60.0  # a send not confirmed by then is retried
    max_attempts: Annotated[int, Field(ge=1)] = 12


class Limits(_Strict):
    """Per customer, against abuse: each refusal is explained politely in their language."""

    open_tickets: Annotated[int, Field(ge=1)] = 5
    new_tickets_per_hour: Annotated[int, Field(ge=1)] = 5
    messages_per_minute: Annotated[int, Field(ge=1)] = 20


class HelpdeskConfig(_Strict):
    lifecycle: Lifecycle = Lifecycle()
    limits: Limits = Limits()
    delivery: Delivery = Delivery()
    calendars: dict[str, Calendar]
    priorities: Annotated[list[Priority], Field(min_length=1)]
    request_types: Annotated[list[RequestType], Field(min_length=1)]
    departments: Annotated[list[Department], Field(min_length=1)]

    @model_validator(mode="after")
    def _references(self) -> HelpdeskConfig:
        for label, items in (
            ("priorities", self.priorities),
            ("request_types", self.request_types),
            ("departments", self.departments),
        ):
            codes = [i.code for i in items]
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            if dupes:
                raise ValueError(f"{label}: duplicate code {dupes[0]!r}")
        priority_codes = {p.code for p in self.priorities}
        for i, rt in enumerate(self.request_types):
            if rt.default_priority not in priority_codes:
                raise ValueError(
                    f"request_types[{i}].default_priority: unknown priority {rt.default_priority!r}"
                )
        for i, dep in enumerate(self.departments):
            if dep.calendar not in self.calendars:
                raise ValueError(f"departments[{i}].calendar: unknown calendar {dep.calendar!r}")
        return self

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def request_type(self, code: str) -> RequestType | None:
        return next((r for r in self.request_types if r.code == code), None)

    def priority(self, code: str) -> Priority | None:
        return next((p for p in self.priorities if p.code == code), None)

    def calendar_of(self, department: str) -> Calendar:
        dep = self.department(department)
        assert dep is not None
        return self.calendars[dep.calendar]


def load_config(path: str | Path | None = None) -> HelpdeskConfig:
    """Read and validate the TOML file (the bundled default when `path` is None)."""
    file = Path(path) if path else DEFAULT_CONFIG
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    try:
        return HelpdeskConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(file, exc)) from None


def _describe(file: Path, exc: ValidationError) -> str:
    lines = [f"{file}: {exc.error_count()} problem(s) in the configuration:"]
    for err in exc.errors():
        key = _key(err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            problem = "unknown key"
        elif kind == "missing":
            problem = "required key is missing"
        else:
            problem = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"  {key or '(top level)'}: {problem}")
    return "\n".join(lines)


def _key(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("tuple[str, str]", "list[tuple[str, str]]"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out
