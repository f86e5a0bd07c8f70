"""Time zones as customers know them: named the way people say it in each language, found from
a typed city or IANA name, and a few likely ones per language to offer.

The naming rule, per language, for any zone: by its city (CLDR's exemplar city, in the reader's
language), in the phrase people put after a time, never by CLDR's generic zone name, which reads
as a place («(Центральная Европа)»). Where a short name is what people say, it is used: Czech
«SEČ»/«SELČ», Russian zones by their distance from Moscow («МСК», «МСК+4»), Brazil's official
«horário de Brasília». The phrases are locale data, like CLDR's own patterns, and live here.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location, get_timezone_name
from rapidfuzz import fuzz, process

from core.domain.zones import known_zones

# Zones offered as buttons by /timezone, the language's usual default first.
LIKELY: dict[str, tuple[str, ...]] = {
    "en": ("UTC", "Europe/London", "America/New_York", "America/Chicago", "America/Los_Angeles",
           "Asia/Kolkata", "Australia/Sydney"),
    "fa": ("Asia/Tehran", "Asia/Kabul", "Asia/Dubai", "Europe/Istanbul", "Europe/Berlin", "Europe/London",
           "America/Toronto"),
    "cs": ("Europe/Prague", "Europe/London", "UTC"),
    "ru": ("Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk",
           "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk", "Asia/Yakutsk", "Asia/Vladivostok",
           "Asia/Magadan", "Asia/Kamchatka"),
    "pt": ("America/Sao_Paulo", "America/Manaus", "America/Cuiaba", "America/Rio_Branco", "America/Noronha",
           "Europe/Lisbon"),
}

# Cities people type that are no zone's own city, in the five languages.
ALIASES: dict[str, str] = {
    **dict.fromkeys(("Mashhad", "Isfahan", "Esfahan", "Shiraz", "Tabriz", "Karaj", "Qom", "Ahvaz", "Kish",
                     "مشهد", "اصفهان", "شیراز", "تبریز", "کرج", "قم", "اهواز", "کیش", "Iran", "ایران"),
                    "Asia/Tehran"),
    **dict.fromkeys(("Herat", "هرات", "Mazar-i-Sharif", "مزار شریف", "Afghanistan", "افغانستان"), "Asia/Kabul"),
    **dict.fromkeys(("Brno", "Ostrava", "Plzeň", "Olomouc", "Bratislava", "Česko", "Czechia"), "Europe/Prague"),
    **dict.fromkeys(("Saint Petersburg", "St Petersburg", "Санкт-Петербург", "Петербург", "Питер", "Казань",
                     "Kazan", "Нижний Новгород", "Ростов-на-Дону", "Сочи", "Минск", "Minsk", "МСК"),
                    "Europe/Moscow"),
    **dict.fromkeys(("Brasília", "Brasilia", "Rio de Janeiro", "Rio", "Belo Horizonte", "Curitiba", "Porto Alegre",
                     "Salvador", "Brasil", "Brazil"), "America/Sao_Paulo"),
    **dict.fromkeys(("Porto", "Portugal", "Coimbra"), "Europe/Lisbon"),
    **dict.fromkeys(("Kyiv", "Kiev", "Киев", "Київ"), "Europe/Kyiv"),
    **dict.fromkeys(("UTC", "GMT", "Etc/UTC", "Coordinated Universal Time"), "UTC"),
}

# Zones whose time Brazilians call «horário de Brasília» (UTC-3, the country's official time).
BRASILIA = frozenset({"America/Sao_Paulo", "America/Bahia", "America/Fortaleza", "America/Recife",
                      "America/Belem", "America/Maceio", "America/Araguaina", "America/Santarem"})
MOSCOW = timedelta(hours=3)
MINUS = "\u2212"


def offset(local: datetime) -> str:
    """`UTC+3:30`, `UTC-3`, `UTC`: the zone's distance from UTC at that moment (a plain hyphen,
    so that right-to-left text keeps it as one left-to-right unit)."""
    delta = local.utcoffset() or timedelta()
    if not delta:
        return "UTC"
    minutes = int(abs(delta).total_seconds()) // 60
    sign = "+" if delta > timedelta() else "-"
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def city(zone: ZoneInfo, locale: Locale) -> str | None:
    """The zone's city in the reader's language; None for a zone that is only an offset (UTC)."""
    key = str(zone.key)
    if "/" not in key or key.startswith("Etc/"):
        return None
    try:
        return str(get_timezone_location(key, locale=locale, return_city=True))
    except LookupError:  # a zone newer than Babel's data: its own city, in English
        return key.rsplit("/", 1)[-1].replace("_", " ")


def territory(zone: ZoneInfo) -> str | None:
    return get_global("zone_territories").get(str(zone.key))


def zone_phrase(language: str, locale: Locale, zone: ZoneInfo, local: datetime) -> str:
    """How a time is followed by its zone in `language`: « به وقت تهران», « (МСК+4)»,
    « (horário de Brasília)», « (Prague time)»; `local` is the moment in that zone."""
    place = city(zone, locale)
    if place is None:
        return f" به وقت {offset(local)}" if language == "fa" else f" ({offset(local)})"
    if language == "fa":
        return f" به وقت {place}"
    if language == "ru":
        if territory(zone) == "RU":
            hours = int(((local.utcoffset() or MOSCOW) - MOSCOW).total_seconds() // 3600)
            return " (МСК)" if hours == 0 else f" (МСК{'+' if hours > 0 else MINUS}{abs(hours)})"
        return f" (часовой пояс: {place})"
    if language == "cs":
        short = get_timezone_name(local, "short", locale=locale)
        return f" ({short})" if short.isalpha() else f" (časové pásmo {place})"
    if language == "pt":
        return " (horário de Brasília)" if zone.key in BRASILIA else f" (horário de {place})"
    return f" ({place} time)"


def zone_label(locale: Locale, zone: ZoneInfo, now: datetime) -> str:
    """A zone on a button or in a sentence: its city and its offset now, «Tehran (UTC+3:30)»."""
    place = city(zone, locale)
    local = now.astimezone(zone)
    return f"{place} ({offset(local)})" if place else offset(local)


def _plain(text: str) -> str:
    """Typed names compared without case, accents, Arabic letter variants or punctuation."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("ي", "ی").replace("ك", "ک"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\s_\-.,'’/()]+", " ", text).strip()


@cache
def _exact() -> dict[str, str]:
    return {key.casefold(): key for key in known_zones()}


@cache
def _names() -> dict[str, str]:
    """Every zone by its city in the five languages and by its own name, then the aliases."""
    names: dict[str, str] = {}
    zones = sorted(set(get_global("zone_territories")) & known_zones())
    for code in ("en", "fa_IR", "cs_CZ", "ru_RU", "pt_BR"):
        locale = Locale.parse(code)
        for key in zones:
            place = city(ZoneInfo(key), locale)
            if place:
                names.setdefault(_plain(place), key)
    for key in zones:
        if not key.startswith("Etc/"):  # "GMT+3" there is UTC−3: read by _offset instead
            names.setdefault(_plain(key.rsplit("/", 1)[-1]), key)
    for alias, key in ALIASES.items():
        names.setdefault(_plain(alias), key)
    return names


# "UTC+3", "GMT -5", "utc+03:00": what people type for an offset.
_OFFSET = re.compile(r"(?i)(?:utc|gmt)\s*([+\-−])\s*(\d{1,2})(?::?(\d\d))?")


def _offset_zone(match: re.Match[str]) -> str | None:
    """The fixed zone of a whole-hour offset; the zone database names them with the sign
    reversed (Etc/GMT-3 is UTC+3). A part-hour offset has no such zone: a city names it."""
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if minutes or hours > (14 if sign == "+" else 12):
        return None
    if hours == 0:
        return "Etc/UTC"
    return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"


def find_zone(typed: str) -> str | None:
    """The IANA zone a customer means by `typed` (an IANA name, a city in one of our languages,
    or close to one), or None."""
    typed = typed.strip()
    if not typed or len(typed) > 64:
        return None
    offset = _OFFSET.fullmatch(typed)
    if offset:
        return _offset_zone(offset)
    if typed.casefold() in _exact():
        return _exact()[typed.casefold()]
    wanted = _plain(typed)
    names = _names()
    if wanted in names:
        return names[wanted]
    found = process.extractOne(wanted, names.keys(), scorer=fuzz.ratio, score_cutoff=85)
    return names[found[0]] if found else None
