"""Translations, plural rules and locale-aware formatting, bound to one recipient's locale.

There is no global `_`: code that speaks to someone is handed a `Translator` for that
person's locale. Catalogs live in locales/; a missing or stale .mo is compiled from its .po
with Babel's own compiler on first use.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
from babel import Locale
from babel.dates import format_date, format_time, get_timezone_name
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from core.config import LANGUAGES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
BABEL_LOCALES = {"en": "en", "fa": "fa_IR", "cs": "cs_CZ", "ru": "ru_RU", "pt": "pt_BR"}
LANGUAGE_NAMES = {"en": "English", "fa": "فارسی", "cs": "Čeština", "ru": "Русский", "pt": "Português"}
RTL = frozenset({"fa"})

# First Strong Isolate / Pop Directional Isolate: keep "#1042" or a URL left-to-right
# inside right-to-left text without disturbing the words around it.
FSI, PDI = "\u2068", "\u2069"
_LATIN_RUN = re.compile(r"(#\d+|[A-Za-z0-9][A-Za-z0-9._%+\-/:@#?=&]*[A-Za-z0-9/])")
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def match_locale(code: str | None) -> str | None:
    """One of our languages for a platform code such as 'pt-BR' or 'fa_IR', else None."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return base if base in LANGUAGES else None


def compile_catalogs(directory: Path = LOCALES_DIR) -> None:
    """Build each .mo from its .po when missing or older (what `pybabel compile` does)."""
    for po_path in directory.glob(f"*/LC_MESSAGES/{DOMAIN}.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=po_path.parent.parent.name)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        tmp.replace(mo_path)


@cache
def _translations(locale: str) -> NullTranslations:
    compile_catalogs()
    mo = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if locale == "en" or not mo.exists():
        return NullTranslations()
    with mo.open("rb") as fh:
        return Translations(fh, domain=DOMAIN)


class Translator:
    """Everything locale-dependent about talking to one person."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LANGUAGES else "en"
        self.babel_locale = Locale.parse(BABEL_LOCALES[self.locale])
        self._t = _translations(self.locale)

    @property
    def rtl(self) -> bool:
        return self.locale in RTL

    def _(self, message: str, **params: Any) -> str:
        return self._fill(self._t.gettext(message), params)

    def ngettext(self, singular: str, plural: str, n: int, **params: Any) -> str:
        return self._fill(self._t.ngettext(singular, plural, n), {"n": self.number(n), **params})

    def _fill(self, text: str, params: dict[str, Any]) -> str:
        if not params:
            return text
        return text.format(**{k: self._isolate(v) for k, v in params.items()})

    def _isolate(self, value: Any) -> Any:
        if self.rtl and isinstance(value, str) and FSI not in value:
            return _LATIN_RUN.sub(lambda m: f"{FSI}{m.group(0)}{PDI}", value)
        return value

    def number(self, n: int | float) -> str:
        text = format_decimal(n, locale=self.babel_locale, group_separator=False) \
            if isinstance(n, int) else format_decimal(n, locale=self.babel_locale)
        return text.translate(_PERSIAN_DIGITS) if self.rtl else text

    def decimal(self, value: float, pattern: str = "0.0") -> str:
        """A measured value with a fixed number of decimals, in the locale's notation."""
        text = format_decimal(value, format=pattern, locale=self.babel_locale)
        return text.translate(_PERSIAN_DIGITS) if self.rtl else text

    def ticket(self, number: int) -> str:
        """`#1042` in every language, isolated left-to-right inside Persian text."""
        tag = f"#{number}"
        return f"{FSI}{tag}{PDI}" if self.rtl else tag

    def datetime(self, moment: datetime, zone: ZoneInfo, *, with_zone: bool = True) -> str:
        """A date and time in the recipient's calendar, with the time zone named."""
        local = moment.astimezone(zone)
        zone_name = get_timezone_name(zone, width="long", locale=self.babel_locale)
        if self.locale == "fa":
            j = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
            weekday = jdatetime.date.j_weekdays_fa[j.weekday()]
            month = jdatetime.date.j_months_fa[j.month - 1]
            text = f"{weekday} {j.day} {month} {j.year}، ساعت {j.hour:02d}:{j.minute:02d}"
            text = text.translate(_PERSIAN_DIGITS)
            return f"{text} ({zone_name})" if with_zone else text
        day = format_date(local, "full", locale=self.babel_locale)
        text = f"{day}, {format_time(local, 'short', locale=self.babel_locale)}"
        return f"{text} ({zone_name})" if with_zone else text


@cache
def translator(locale: str) -> Translator:
    return Translator(locale)
