"""Time zones named the way people of each language say them, found from what customers type,
and the first response promised for a moment the office is open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.domain.config import load_config
from core.domain.sla import promised_first_response
from core.i18n import translator
from core.storage.models import Ticket
from core.timezones import LIKELY, find_zone

WINTER = datetime(2026, 12, 4, 14, 30, tzinfo=UTC)  # a Friday afternoon
SUMMER = datetime(2026, 7, 3, 14, 30, tzinfo=UTC)
FSI, PDI = "\u2068", "\u2069"


@pytest.mark.parametrize(("language", "zone", "named"), [
    ("fa", "Asia/Tehran", "جمعه ۱۳ آذر ۱۴۰۵، ساعت ۱۸:۰۰ به وقت تهران"),
    ("fa", "Asia/Kabul", "ساعت ۱۹:۰۰ به وقت کابل"),
    ("fa", "UTC", f"ساعت ۱۴:۳۰ به وقت {FSI}UTC{PDI}"),
    ("cs", "Europe/Prague", "pátek 4. prosince 2026, 15:30 (SEČ)"),
    ("cs", "Asia/Tehran", "18:00 (časové pásmo Teherán)"),
    ("ru", "Europe/Moscow", "пятница, 4 декабря 2026\u202fг., 17:30 (МСК)"),
    ("ru", "Asia/Novosibirsk", "21:30 (МСК+4)"),
    ("ru", "Europe/Kaliningrad", "16:30 (МСК\u22121)"),
    ("ru", "Europe/Prague", "15:30 (часовой пояс: Прага)"),
    ("pt", "America/Sao_Paulo", "sexta-feira, 4 de dezembro de 2026, 11:30 (horário de Brasília)"),
    ("pt", "America/Manaus", "10:30 (horário de Manaus)"),
    ("pt", "Europe/Lisbon", "14:30 (horário de Lisboa)"),
    ("en", "Europe/Prague", "Friday, December 4, 2026, 3:30\u202fPM (Prague time)"),
    ("en", "UTC", "2:30\u202fPM (UTC)"),
])
def test_zone_named_as_people_say_it(language: str, zone: str, named: str) -> None:
    text = translator(language).datetime(WINTER, ZoneInfo(zone))
    assert text.endswith(named)


def test_no_generic_zone_name_that_reads_as_a_place() -> None:
    for language in ("en", "fa", "cs", "ru", "pt"):
        for zone in ("Europe/Prague", "Europe/Berlin", "Asia/Tehran", "America/Sao_Paulo", "Europe/Moscow"):
            for moment in (WINTER, SUMMER):
                text = translator(language).datetime(moment, ZoneInfo(zone))
                for generic in ("Европ", "Europe", "Europa", "اروپا", "Evrop", "Россия", "Brazil", "Iran"):
                    assert generic not in text, (language, zone, text)
    assert translator("cs").datetime(SUMMER, ZoneInfo("Europe/Prague")).endswith("(SELČ)")


def test_zone_label_has_city_and_offset() -> None:
    assert translator("ru").zone(ZoneInfo("Asia/Tehran"), WINTER) == "Тегеран (UTC+3:30)"
    assert translator("pt").zone(ZoneInfo("America/Manaus"), WINTER) == "Manaus (UTC-4)"
    assert translator("fa").zone(ZoneInfo("UTC"), WINTER).endswith(f"{FSI}UTC{PDI}")


@pytest.mark.parametrize(("typed", "zone"), [
    ("Berlin", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"), ("Berlim", "Europe/Berlin"),
    ("Teheran", "Asia/Tehran"), ("تهران", "Asia/Tehran"), ("تبریز", "Asia/Tehran"), ("كابل", "Asia/Kabul"),
    ("Москва", "Europe/Moscow"), ("Санкт-Петербург", "Europe/Moscow"), ("новосибирск", "Asia/Novosibirsk"),
    ("Praha", "Europe/Prague"), ("Brno", "Europe/Prague"), ("sao paulo", "America/Sao_Paulo"),
    ("Brasília", "America/Sao_Paulo"), ("Lisboa", "Europe/Lisbon"), ("Vídeň", "Europe/Vienna"),
    ("UTC", "UTC"), ("Xyzzy", None), ("", None), ("x" * 100, None),
    # An offset as people type it; the zone database writes UTC+3 as Etc/GMT-3.
    ("GMT+3", "Etc/GMT-3"), ("utc -5", "Etc/GMT+5"), ("UTC+03:00", "Etc/GMT-3"), ("GMT+14", "Etc/GMT-14"),
    ("UTC+0", "Etc/UTC"), ("UTC+3:30", None), ("GMT+15", None), ("GMT+1", "Etc/GMT-1"),
])
def test_typed_names_are_found(typed: str, zone: str | None) -> None:
    assert find_zone(typed) == zone


def test_likely_zones_exist() -> None:
    for zones in LIKELY.values():
        for name in zones:
            ZoneInfo(name)
        assert len(zones) == len(set(zones))


def _ticket(priority: str, opened: datetime, due: datetime) -> Ticket:
    return Ticket(department="technical", priority=priority, created_at=opened, first_response_due=due)


def test_promise_is_the_due_time_while_the_office_is_open() -> None:
    config = load_config()
    opened = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # Monday 9:00 in Prague
    due = opened + timedelta(hours=4)
    assert promised_first_response(_ticket("high", opened, due), config) == due


def test_calendar_time_promise_waits_for_the_office_to_open() -> None:
    config = load_config()
    opened = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)  # Friday 16:30 in Prague; urgent counts wall-clock time
    promised = promised_first_response(_ticket("urgent", opened, opened + timedelta(hours=2)), config)
    assert promised == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 9:00, when the office opens
