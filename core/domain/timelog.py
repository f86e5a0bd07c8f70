"""Time on tickets: how a typed duration reads (`25m`, `1h30`, `1:30`, `90`) and the activities
agents log time under (`[time] activities` in the configuration, names per language)."""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.domain.languages import Names

DEFAULT_FILE = Path(__file__).with_name("default_config.toml")  # core.domain.config's DEFAULT_CONFIG
MAX_MINUTES = 24 * 60  # one entry is at most a day's work

_DURATION = re.compile(r"^(?:(?P<h>\d{1,3})(?:h|:)(?P<hm>\d{1,2})?m?|(?P<m>\d{1,4})m?(?:in)?)$")


def parse_duration(text: str) -> int | None:
    """Minutes of `25m`, `90` (minutes), `1h`, `1h30`, `1h30m`, `1:30`; None when it is not a
    duration (any digits: ASCII, Persian, Arabic-Indic). Zero and overlong ones are numbers all
    the same: the caller refuses them with its own words."""
    if not text:
        return None
    try:
        text = "".join(str(int(c)) if c.isdigit() else c for c in text.strip().lower())
    except ValueError:
        return None
    found = _DURATION.match(text)
    if found is None:
        return None
    if found["m"] is not None:
        return int(found["m"])
    minutes = int(found["hm"] or 0)
    if found["hm"] is not None and minutes >= 60:
        return None
    return int(found["h"]) * 60 + minutes


class Activity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    name: Names

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: Any) -> Any:
        """A bare code (`"investigation"`) is its own name."""
        return {"code": data, "name": {"en": data}} if isinstance(data, str) else data


@cache
def _shipped() -> tuple[Activity, ...]:
    """The activities of the configuration shipped with the bot: written there once, they are
    also what a configuration without `[time]` gets."""
    with DEFAULT_FILE.open("rb") as f:
        return tuple(Activity.model_validate(a) for a in tomllib.load(f)["time"]["activities"])


def _bundled() -> list[Activity]:
    return [a.model_copy(deep=True) for a in _shipped()]


class TimeSettings(BaseModel):
    """`[time]`: `activities`, each a bare code or a table `code = "..."`, `name = { en = "...", ... }`
    (`[[time.activities]]`)."""

    model_config = ConfigDict(extra="forbid")

    activities: list[Activity] = Field(default_factory=_bundled)

    @model_validator(mode="after")
    def _once_each(self) -> TimeSettings:
        codes = [a.code for a in self.activities]
        if twice := sorted({c for c in codes if codes.count(c) > 1}):
            raise ValueError(f"activity listed twice: {', '.join(twice)}")
        return self

    def default_to(self, language: str) -> None:
        for activity in self.activities:
            activity.name.default_to(language)

    def activity(self, word: str) -> Activity | None:
        """The activity a typed word names: its code, or its name in any language (any case)."""
        word = word.casefold()
        return next((a for a in self.activities if word == a.code or word in {
            str(n).casefold() for n in a.name.model_dump().values() if n}), None)
