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
from zoneinfo import ZoneInfo

import holidays
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.domain.channel_keys import address_key, desk_key, gather
from core.domain.config_problems import describe
from core.domain.languages import LANGUAGES, Names, Offered, default_first, missing_names
from core.domain.schedule import WEEKDAYS, Reports
from core.domain.timelog import TimeSettings
from core.domain.zones import Timezones, Zone
from core.startup import StartupError

DEFAULT_CONFIG = Path(__file__).with_name("default_config.toml")
BUNDLED = "<bundled>"  # `[knowledge] folder`: the examples shipped in the package, wherever the file is
BUNDLED_ARTICLES = Path(__file__).parents[1] / "knowledge" / "articles"


class ConfigError(StartupError):
    """The configuration file cannot be used; the message says where and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _parse_time(value: str) -> time:
    return time.max if value == "24:00" else time.fromisoformat(value)


def _check_ranges(ranges: list[tuple[str, str]]) -> list[tuple[str, str]]:
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
    return ranges


# Checked one day at a time, so that an error names its weekday (or date).
Ranges = Annotated[list[tuple[str, str]], AfterValidator(_check_ranges)]


class Calendar(_Strict):
    """Business hours of an office: time zone, working hours per weekday, holidays."""

    timezone: Zone
    country: str | None = None  # official holidays from the `holidays` package
    subdivision: str | None = None
    hours: dict[str, Ranges]
    extra_holidays: list[date] = []
    extra_workdays: dict[date, Ranges] = {}

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is not None and value not in holidays.list_supported_countries():
            raise ValueError(f"no holiday calendar for country code {value!r}")
        return value

    @field_validator("hours")
    @classmethod
    def _weekdays(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        unknown = [day for day in value if day not in WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown weekday {', '.join(map(repr, unknown))}; use {', '.join(WEEKDAYS)}")
        if not any(value.values()):
            raise ValueError("no working hours on any weekday")
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
    billable: bool = False  # its work may be paid: the card says so (quotes: core.domain.quotes)


class Department(_Strict):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    name: Names
    calendar: str
    # The request types its customers may choose, by code and in this order (every type when unset).
    request_types: Annotated[list[str], Field(min_length=1)] | None = None
    # Where each channel shows this department's tickets (its agents' desk there: a channel, a
    # group), read by the channel under its own name; the file spells it `<channel>_channel =
    # "..."` or `<channel>_desk_chat = "..."`, as the channel's own word for it has it.
    desks: dict[str, str] = {}
    escalation: dict[str, str] = {}  # "l2"/"l3" -> the desk's channel or user group id
    billable: bool = False  # its work may be paid, whatever the request type
    # The addresses of a channel that bring its customers' messages to this department (the
    # support addresses it claims there), spelled `<channel>_addresses = [...]`.
    addresses: dict[str, list[str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _desk_keys(cls, data: Any) -> Any:
        data = gather(data, cls.model_fields, "desks", desk_key)
        return gather(data, cls.model_fields, "addresses", address_key)

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
    """How notifications go out. Each channel's pace (kept below its platform's limits so that
    none is ever hit) is the channel's own: the file spells it `<channel>_<key> = number` in this
    section, gathered here under `channels` and read, checked and defaulted by the channel."""

    channels: dict[str, dict[str, float]] = {}
    concurrency: Annotated[int, Field(ge=1, le=256)] = 32  # sends in flight at once
    lease_seconds: Annotated[float, Field(gt=0)] = 60.0  # a send not confirmed by then is retried
    max_attempts: Annotated[int, Field(ge=1)] = 12

    @model_validator(mode="before")
    @classmethod
    def _channel_keys(cls, data: Any) -> Any:
        return gather(data, cls.model_fields, "channels",
                       lambda key: (key.split("_", 1)[0], key.split("_", 1)[1]) if "_" in key else None)


class Limits(_Strict):
    """Per customer, against abuse: each refusal is explained politely in their language."""

    open_tickets: Annotated[int, Field(ge=1)] = 5
    new_tickets_per_hour: Annotated[int, Field(ge=1)] = 5
    messages_per_minute: Annotated[int, Field(ge=1)] = 20
    automatic_answers_per_hour: Annotated[int, Field(ge=1)] = 10  # per sender, where answers are letters


class Knowledge(_Strict):
    """`[knowledge]`: the folder of the articles (`<folder>/<language>/<slug>.md`); a relative
    one is relative to the configuration file's folder, "<bundled>" the bot's examples. None:
    no knowledge base."""

    folder: Path | None = None


class HelpdeskConfig(_Strict):
    languages: Offered = LANGUAGES  # offered to customers, the deployment's default first
    lifecycle: Lifecycle = Lifecycle()
    limits: Limits = Limits()
    delivery: Delivery = Delivery()
    calendars: dict[str, Calendar]
    priorities: Annotated[list[Priority], Field(min_length=1)]
    request_types: Annotated[list[RequestType], Field(min_length=1)]
    departments: Annotated[list[Department], Field(min_length=1)]
    # A channel's own settings, `[channels.<name>]`: read, checked and defaulted by the channel.
    channels: dict[str, dict[str, Any]] = {}
    timezones: Timezones = Timezones()  # customers' zones per language, until they choose one
    knowledge: Knowledge = Knowledge()
    time: TimeSettings = Field(default_factory=TimeSettings)  # `[time] activities`: what time is logged under
    reports: Reports = Reports()  # `[reports] weekly`: when the weekly picture goes to the desks

    @model_validator(mode="after")
    def _default_names(self) -> HelpdeskConfig:
        named: list[Priority | RequestType | Department] = [*self.priorities, *self.request_types, *self.departments]
        for item in named:
            item.name.default_to(self.languages[0])
        self.time.default_to(self.languages[0])
        return self

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: ModelWrapValidatorHandler[HelpdeskConfig]) -> HelpdeskConfig:
        """The fields' problems and the references' together: pydantic would check references
        (an "after" validator) only once everything else is right, and stop at the first."""
        references = [{"type": "missing", "loc": loc, "input": data} for loc in missing_names(data)]
        references += [{"type": PydanticCustomError("reference", problem), "loc": loc, "input": value}
                       for loc, problem, value in _reference_problems(data)]
        try:
            config = handler(data)
        except ValidationError as exc:
            raise ValidationError.from_exception_data(exc.title, [*exc.errors(), *references]) from None  # type: ignore[list-item]
        if references:
            raise ValidationError.from_exception_data(cls.__name__, references)  # type: ignore[arg-type]
        return config

    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def request_type(self, code: str) -> RequestType | None:
        return next((r for r in self.request_types if r.code == code), None)

    def request_types_of(self, department: str) -> list[RequestType]:
        """The request types a department offers: its own list, or every type."""
        dep = self.department(department)
        if dep is None or dep.request_types is None:
            return list(self.request_types)
        return [rt for code in dep.request_types if (rt := self.request_type(code)) is not None]

    def priority(self, code: str) -> Priority | None:
        return next((p for p in self.priorities if p.code == code), None)

    def calendar_of(self, department: str) -> Calendar:
        dep = self.department(department)
        assert dep is not None
        return self.calendars[dep.calendar]


def _reference_problems(data: Any) -> list[tuple[tuple[str | int, ...], str, Any]]:
    """Codes used twice and references to codes that do not exist, read from the raw data
    (tolerant of anything malformed there: the fields' own validation reports that)."""
    if not isinstance(data, dict):
        return []

    def items(section: str) -> list[tuple[int, dict[str, Any]]]:
        value = data.get(section)
        return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)] if isinstance(value, list) else []

    problems: list[tuple[tuple[str | int, ...], str, Any]] = []
    for section in ("priorities", "request_types", "departments"):
        seen: set[str] = set()
        for i, item in items(section):
            code = item.get("code")
            if isinstance(code, str):
                if code in seen:
                    problems.append(((section, i, "code"), f"duplicate code {code!r}", code))
                seen.add(code)
    priorities = {item.get("code") for _, item in items("priorities")}
    for i, item in items("request_types"):
        wanted = item.get("default_priority")
        if isinstance(wanted, str) and isinstance(data.get("priorities"), list) and wanted not in priorities:
            problems.append((("request_types", i, "default_priority"), f"unknown priority {wanted!r}", wanted))
    calendars = data.get("calendars")
    types = {item.get("code") for _, item in items("request_types")}
    for i, item in items("departments"):
        wanted = item.get("calendar")
        if isinstance(wanted, str) and isinstance(calendars, dict) and wanted not in calendars:
            problems.append((("departments", i, "calendar"), f"unknown calendar {wanted!r}", wanted))
        offered = item["request_types"] if isinstance(item.get("request_types"), list) else []
        for j, code in enumerate(offered):
            if isinstance(code, str) and isinstance(data.get("request_types"), list) and code not in types:
                problems.append((("departments", i, "request_types", j), f"unknown request type {code!r}", code))
            elif code in offered[:j]:
                problems.append((("departments", i, "request_types", j), f"request type {code!r} listed twice", code))
    return problems


def load_config(path: str | Path | None = None, default_language: str | None = None) -> HelpdeskConfig:
    """Read and validate the TOML file (the bundled default when `path` is None); a file that
    lists no `languages` offers them all, `default_language` first."""
    file = Path(path) if path else DEFAULT_CONFIG
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    default_first(data, default_language)
    knowledge = data.get("knowledge")
    if isinstance(knowledge, dict) and isinstance(folder := knowledge.get("folder"), str):
        knowledge["folder"] = str(BUNDLED_ARTICLES if folder == BUNDLED else
                                  (file.parent / Path(folder).expanduser()).resolve())
    try:
        return HelpdeskConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(file, exc, data, list(HelpdeskConfig.model_fields))) from None
