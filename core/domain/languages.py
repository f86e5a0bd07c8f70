"""The languages a deployment offers its customers, and names given in them.

The configuration lists the offered languages (`languages`, the default first); a department's,
request type's or priority's name is required in each of them and may be given in others (agents
reading in their own language see it).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, model_validator

LANGUAGES = ("en", "fa", "cs", "ru", "pt")


def _check_offered(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError(f"offer at least one language: {', '.join(LANGUAGES)}")
    unknown = [code for code in value if code not in LANGUAGES]
    if unknown:
        raise ValueError(f"unknown language {', '.join(map(repr, unknown))}; use {', '.join(LANGUAGES)}")
    twice = sorted({code for code in value if value.count(code) > 1})
    if twice:
        raise ValueError(f"{', '.join(map(repr, twice))} listed more than once")
    return value


Offered = Annotated[tuple[str, ...], AfterValidator(_check_offered)]
Name = Annotated[str, Field(min_length=1)]


class Names(BaseModel):
    """A name in each offered language, maybe in others too."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: Name | None = None
    fa: Name | None = None
    cs: Name | None = None
    ru: Name | None = None
    pt: Name | None = None
    _default: str = PrivateAttr("en")

    @model_validator(mode="after")
    def _some(self) -> Names:
        if not any(getattr(self, code) for code in LANGUAGES):
            raise ValueError("give the name in at least one language")
        return self

    def default_to(self, language: str) -> None:
        """The language `get` falls back to: the deployment's default."""
        self._default = language

    def get(self, locale: str) -> str:
        """The name in `locale`, else in the deployment's default language, else in any given."""
        found = (getattr(self, code) for code in (locale, self._default, *LANGUAGES) if code in LANGUAGES)
        return str(next(name for name in found if name))


def missing_names(data: Any) -> list[tuple[str | int, ...]]:
    """Where a name in the raw configuration lacks an offered language (of those listed right:
    a wrong entry in `languages` is reported by itself)."""
    if not isinstance(data, dict):
        return []
    offered = data.get("languages", LANGUAGES)
    offered = [code for code in offered if code in LANGUAGES] if isinstance(offered, list | tuple) else []
    missing: list[tuple[str | int, ...]] = []
    for section in ("priorities", "request_types", "departments"):
        items = data.get(section)
        for i, item in enumerate(items if isinstance(items, list) else []):
            names = item.get("name") if isinstance(item, dict) else None
            if isinstance(names, dict):
                missing += [(section, i, "name", code) for code in dict.fromkeys(offered) if code not in names]
    return missing


def default_first(data: dict[str, Any], default_language: str | None) -> None:
    """A file that lists no languages offers them all, `default_language` first."""
    if "languages" not in data and default_language in LANGUAGES:
        data["languages"] = [default_language, *(code for code in LANGUAGES if code != default_language)]
