"""The customer's own time: their language's zone by default, `/timezone` to choose another,
and a first response promised only for a moment the office is open."""

from __future__ import annotations

from datetime import UTC, datetime

from core.chat import Conversation
from core.services import Services
from tests.conftest import FakeClock
from tests.core.chat.harness import Customer, open_ticket

FSI, PDI = "\u2068", "\u2069"


async def _speaking(conversation: Conversation, language: str, user: str) -> Customer:
    c = Customer(conversation, user_id=user, language_code=language)
    await c.say("/start")
    await c.press(f"lang:{language}")
    await c.press("nav:cancel")
    return c


async def _zone_of(service: Services, c: Customer) -> str | None:
    return (await service.customers.customer(c.platform, c.user_id, f"chat-{c.user_id}")).timezone


async def test_persian_customer_reads_tehran_time_in_solar_hijri(
        conversation: Conversation, service: Services, clock: FakeClock) -> None:
    clock.now = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)  # Saturday 11:30 in Tehran, 9:00 in Prague
    c = await _speaking(conversation, "fa", "fa1")
    await open_ticket(c)
    # Due at the 48-hour ceiling, Monday 9:00 in Prague (the office opens then) = 11:30 in Tehran.
    assert "دوشنبه ۱۶ آذر ۱۴۰۵، ساعت ۱۱:۳۰ به وقت تهران" in c.text
    assert "مرکز اروپا" not in c.text and "Europe" not in c.text

    await c.say("/timezone")
    assert f"تهران ({FSI}UTC+3:30{PDI}) ✓" in [ch.label for r in c.last for ch in r.flat_choices]
    assert "tz:Asia/Kabul" in c.keys() and "tz:Asia/Dubai" in c.keys()
    assert "شنبه ۱۴ آذر ۱۴۰۵، ساعت ۱۱:۳۰" in c.text  # the time now, in the customer's zone
    await c.press("tz:Asia/Kabul")
    assert await _zone_of(service, c) == "Asia/Kabul"
    assert "کابل" in c.text and "شنبه ۱۴ آذر ۱۴۰۵، ساعت ۱۲:۳۰" in c.text  # confirmed with Kabul's time now
    await c.say("/ticket 1001")
    assert "دوشنبه ۱۶ آذر ۱۴۰۵، ساعت ۱۲:۳۰ به وقت کابل" in c.text  # the promise, now in Kabul time

    await c.say("/timezone مشهد")  # a Persian city name that is no zone's own: Tehran
    assert await _zone_of(service, c) == "Asia/Tehran"


async def test_czech_customer_types_a_city_and_a_wrong_name(
        conversation: Conversation, service: Services, clock: FakeClock) -> None:
    c = await _speaking(conversation, "cs", "cs1")
    await c.say("/timezone")
    assert "tz:Europe/Prague" in c.keys()
    assert await _zone_of(service, c) is None  # the language's default is shown, nothing stored
    await c.say("/timezone Berlín")
    assert await _zone_of(service, c) == "Europe/Berlin"
    assert "Berlín (UTC+1)" in c.text and "pondělí 16. listopadu 2026, 9:00" in c.text
    await c.say("/timezone Europe/Lisbon")
    assert await _zone_of(service, c) == "Europe/Lisbon"
    await c.say("/timezone Xyzzy")
    assert "Xyzzy" in c.text and "/timezone Berlin" in c.text
    assert "tz:Europe/Prague" in c.keys()  # and the choice is offered again
    assert await _zone_of(service, c) == "Europe/Lisbon"  # nothing changed
    await c.press_any("tz:Nowhere/Bogus")  # a forged or outdated button
    assert await _zone_of(service, c) == "Europe/Lisbon"
    await open_ticket(c)
    assert "(časové pásmo Lisabon)" in c.text


async def test_timezone_in_help(customer: Customer) -> None:
    await customer.say("/help")
    assert "/timezone" in customer.text


async def test_friday_afternoon_is_never_promised_for_sunday(
        conversation: Conversation, service: Services, clock: FakeClock) -> None:
    clock.now = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)  # Friday 15:30 in Prague (Mon-Fri office)
    c = await _speaking(conversation, "cs", "cs2")
    number = await open_ticket(c, priority="high")  # 8 working hours, a 48-hour wall-clock ceiling
    promised = "pondělí 23. listopadu 2026, 15:30 (SEČ)"  # 1.5 h on Friday, 6.5 h on Monday
    assert promised in c.text and "neděle" not in c.text
    await c.say(f"/ticket {number}")
    assert promised in c.text
    ticket = await service.queries.get_for_customer((await service.customers.customer(
        "telegram", "cs2", "chat-cs2")).id, number)
    assert ticket.first_response_due == datetime(2026, 11, 22, 14, 30, tzinfo=UTC)  # the ceiling stays inside
    # Past the ceiling (Sunday) but before the promise: no escalation button, and asking is refused.
    clock.now = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    await c.say(f"/ticket {number}")
    assert f"escalate:{number}" not in c.keys()
    await c.say(f"/escalate {number}")
    assert "lze eskalovat" in c.text
    assert (await service.queries.get(number)).tier == 1
    clock.now = datetime(2026, 11, 23, 14, 31, tzinfo=UTC)  # Monday, one minute past the promise
    await c.say(f"/ticket {number}")
    assert f"escalate:{number}" in c.keys()
