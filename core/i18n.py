"""Translations, plural rules and locale-aware formatting, bound to one recipient's locale.

There is no global `_`: code that speaks to someone is handed a `Translator` for that
person's locale. Catalogs live in locales/ at the top of a source checkout; an installed
package carries them as core/locales with each .mo compiled at build time (setup.py). In a
checkout, each .po is compiled with Babel's own compiler on first use into a cache the process
can write (never beside the sources, which a service user may not be allowed to change).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_precision
from babel.support import NullTranslations, Translations
from babel.units import format_unit

from core.domain.config import LANGUAGES
from core.timezones import zone_label, zone_phrase

_PACKAGED = Path(__file__).resolve().parent / "locales"  # an installed wheel
LOCALES_DIR = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
BABEL_LOCALES = {"en": "en", "fa": "fa_IR", "cs": "cs_CZ", "ru": "ru_RU", "pt": "pt_BR"}
LANGUAGE_NAMES = {"en": "English", "fa": "فارسی", "cs": "Čeština", "ru": "Русский", "pt": "Português"}
RTL = frozenset({"fa"})

# First Strong Isolate / Pop Directional Isolate: keep "#1042" or a URL left-to-right
# inside right-to-left text without disturbing the words around it.
FSI, PDI = "\u2068", "\u2069"
# Right-to-left mark: a client takes a line's direction from its first strong letter, and many
# look inside isolates for it, so a Persian line that begins with "/new" needs one in front.
RLM = "\u200f"
_OPENERS = "\u2066\u2067\u2068"  # LRI, RLI, FSI: text inside is isolated already
_ISOLATES = re.compile("([\u2066\u2067\u2068\u2069])")
_WORD = r"[A-Za-z0-9][A-Za-z0-9._%+\-/:@#?=&]*[A-Za-z0-9/]|[A-Za-z0-9]"
# A command with its arguments ("/ticket 1042" is one unit, else the slash lands on the far
# side), a ticket number, or any other run of Latin letters and digits (an address, a code).
_LATIN_RUN = re.compile(rf"/[A-Za-z_]+(?: +#?(?:{_WORD}))*|#\d+|{_WORD}")
Moment = datetime  # the class's own `datetime` method hides the type below it
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# A number's separators too: Persian groups with «٬» and marks decimals with «٫».
_PERSIAN_NUMBER = str.maketrans("0123456789,.", "۰۱۲۳۴۵۶۷۸۹٬٫")


def match_locale(code: str | None) -> str | None:
    """One of our languages for a platform code such as 'pt-BR' or 'fa_IR', else None."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return base if base in LANGUAGES else None


def pick_language(offered: Sequence[str], *codes: str | None) -> str:
    """The first of `codes` (ours, or a platform's such as 'pt-BR') that the deployment offers,
    else its default language (the first offered)."""
    for code in codes:
        found = match_locale(code)
        if found is not None and found in offered:
            return found
    return offered[0]


def cache_dirs() -> list[Path]:
    """Where compiled catalogs may be kept, in order: $XDG_CACHE_HOME or ~/.cache, then the
    temp folder (a service user may have no writable home)."""
    folders = [Path(tempfile.gettempdir()) / f"helpdesk-bot-{os.getuid()}" / "locales"]
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except RuntimeError:  # no home directory to be found
        return folders
    return [base / "helpdesk-bot" / "locales", *folders]


def compiled_catalog(po_path: Path) -> bytes:
    """The .mo for a .po: the one built beside it in an installed package, else compiled.

    A compiled catalog is cached under the hash of its source, so an edited .po is never
    served stale and checkouts sharing one cache do not disturb each other.
    """
    built = po_path.with_suffix(".mo")
    if po_path.is_relative_to(_PACKAGED) and built.exists():
        return built.read_bytes()
    source = po_path.read_bytes()
    name = f"{po_path.parent.parent.name}-{hashlib.sha256(source).hexdigest()[:20]}.mo"
    folders = cache_dirs()
    for folder in folders:
        try:
            return (folder / name).read_bytes()
        except OSError:
            continue
    out = io.BytesIO()
    write_mo(out, read_po(io.BytesIO(source), locale=po_path.parent.parent.name), use_fuzzy=False)
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{name}.{os.getpid()}.tmp"
            tmp.write_bytes(out.getvalue())
            tmp.replace(folder / name)
            break
        except OSError:
            continue  # not writable: the next place, or none (compiled again at the next start)
    return out.getvalue()


@cache
def _translations(locale: str) -> NullTranslations:
    po = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if locale == "en" or not po.exists():
        return NullTranslations()
    return Translations(io.BytesIO(compiled_catalog(po)), domain=DOMAIN)


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
        # Isolated after filling, so that "/{command} 1042" or "#{number}" becomes one unit.
        return self.isolate(text.format(**params) if params else text)

    def isolate(self, text: str) -> str:
        """Each Latin-script run of right-to-left text wrapped in FSI…PDI; text already inside
        an isolate is left as it is, so isolating twice changes nothing."""
        if not self.rtl:
            return text
        out, depth = [], 0
        for piece in _ISOLATES.split(text):
            if piece and piece in _OPENERS:
                depth += 1
            elif piece == PDI:
                depth = max(depth - 1, 0)
            elif depth == 0:
                piece = _LATIN_RUN.sub(lambda m: f"{FSI}{m.group(0)}{PDI}", piece)
            out.append(piece)
        return "\n".join(f"{RLM}{line}" if line and line[0] in _OPENERS else line
                         for line in "".join(out).split("\n"))

    def number(self, n: int | float) -> str:
        text = format_decimal(n, locale=self.babel_locale)  # grouped: «4.000 caracteres»
        return text.translate(_PERSIAN_NUMBER) if self.rtl else text

    def decimal(self, value: float, pattern: str = "0.0") -> str:
        """A measured value with a fixed number of decimals, in the locale's notation."""
        text = format_decimal(value, format=pattern, locale=self.babel_locale)
        return text.translate(_PERSIAN_NUMBER) if self.rtl else text

    def money(self, minor: int, currency: str) -> str:
        """An amount kept in the currency's minor units (cents), in the locale's notation."""
        value = Decimal(minor).scaleb(-get_currency_precision(currency))
        text = format_currency(value, currency, locale=self.babel_locale)
        return text.translate(_PERSIAN_NUMBER) if self.rtl else text

    def ticket(self, number: int) -> str:
        """`#1042` in every language, isolated left-to-right inside Persian text."""
        tag = f"#{number}"
        return f"{FSI}{tag}{PDI}" if self.rtl else tag

    def date(self, day: date) -> str:
        """A calendar day in the recipient's calendar ("5 December 2026", Solar Hijri in Persian)."""
        if self.locale == "fa":
            j = jdatetime.date.fromgregorian(date=day)
            return f"{j.day} {jdatetime.date.j_months_fa[j.month - 1]} {j.year}".translate(_PERSIAN_DIGITS)
        return format_date(day, "long", locale=self.babel_locale)

    def duration(self, hours: float) -> str:
        """A span of time to the minute: "45 min" under an hour, "1 h 30 min" above it (the
        locale's own abbreviations), never hours rounded to 0.0."""
        minutes = round(hours * 60)
        whole, rest = divmod(minutes, 60)

        def unit(n: int, name: str) -> str:
            text = format_unit(n, f"duration-{name}", length="short", locale=self.babel_locale)
            return text.translate(_PERSIAN_DIGITS) if self.rtl else text

        if not whole:
            return unit(rest, "minute")
        if not rest:
            return unit(whole, "hour")
        return self._("{hours} {minutes}", hours=unit(whole, "hour"), minutes=unit(rest, "minute"))

    def datetime(self, moment: datetime, zone: ZoneInfo, *, with_zone: bool = True) -> str:
        """A date and time in the recipient's calendar, with the time zone named the way people
        of this language say it (core.timezones)."""
        local = moment.astimezone(zone)
        if self.locale == "fa":
            j = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
            weekday = jdatetime.date.j_weekdays_fa[j.weekday()]
            month = jdatetime.date.j_months_fa[j.month - 1]
            text = f"{weekday} {j.day} {month} {j.year}، ساعت {j.hour:02d}:{j.minute:02d}"
            text = text.translate(_PERSIAN_DIGITS)
        else:
            day = format_date(local, "full", locale=self.babel_locale)
            text = f"{day}, {format_time(local, 'short', locale=self.babel_locale)}"
        if with_zone:
            text += zone_phrase(self.locale, self.babel_locale, zone, local)
        return self.isolate(text)

    def zone(self, zone: ZoneInfo, now: Moment) -> str:
        """A time zone by its city and its offset now, «Tehran (UTC+3:30)» in this language."""
        return self.isolate(zone_label(self.babel_locale, zone, now))


@cache
def translator(locale: str) -> Translator:
    return Translator(locale)
