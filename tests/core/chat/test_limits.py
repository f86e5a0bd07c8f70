"""Per-customer abuse limits, each with a polite message in the customer's language."""

from __future__ import annotations

from pathlib import Path

from core.domain.config import HelpdeskConfig, Limits
from core.services import Services
from tests.conftest import FakeClock
from tests.core.chat.harness import Customer, make_conversation, open_ticket


async def test_messages_per_minute(service: Services, config: HelpdeskConfig, tmp_path: Path,
                                   clock: FakeClock) -> None:
    strict = config.model_copy(update={"limits": Limits(messages_per_minute=3)})
    c = Customer(make_conversation(service, strict, tmp_path), language_code="cs")
    await c.say("/start")
    await c.press("lang:cs")  # buttons do not count
    await c.say("/help")
    await c.say("/help")
    await c.say("/help")
    assert "Posíláte zprávy rychleji" in c.text
    clock.advance(seconds=61)
    await c.say("/help")
    assert "/new" in c.text


async def test_open_and_new_ticket_limits(service: Services, config: HelpdeskConfig, tmp_path: Path,
                                          clock: FakeClock) -> None:
    limited = config.model_copy(update={"limits": Limits(open_tickets=2, new_tickets_per_hour=3,
                                                          messages_per_minute=1000)})
    service = Services.build(service.db, limited, service.clock)
    c = Customer(make_conversation(service, limited, tmp_path), language_code="fa")
    await c.say("/start")
    await c.press("lang:fa")
    await c.press("nav:cancel")
    await open_ticket(c, subject="یک")
    await open_ticket(c, subject="دو", department="billing", request_type="consultation")
    await c.say("/new")
    assert "۲" in c.text and "dep:technical" not in c.keys()  # refused before the form, in Persian
    await c.say("/withdraw 1001")
    await c.press("withdraw_yes:1001")
    await open_ticket(c, subject="سه", department="sales", request_type="consultation")  # one slot free again
    await c.say("/withdraw 1002")
    await c.press("withdraw_yes:1002")
    await c.say("/new")
    assert "۳" in c.text and "dep:technical" not in c.keys()  # three new ones within the hour
    clock.advance(hours=1, minutes=1)
    await c.say("/new")
    assert "dep:technical" in c.keys()


async def test_after_the_too_fast_notice_a_flood_gets_no_reply_until_the_window_passes(
        service: Services, config: HelpdeskConfig, tmp_path: Path, clock: FakeClock) -> None:
    strict = config.model_copy(update={"limits": Limits(messages_per_minute=3)})
    conversation = make_conversation(service, strict, tmp_path)
    flooder, other = Customer(conversation, "f", "en"), Customer(conversation, "o", "en")
    for c in (flooder, other):
        await c.say("/start")
        await c.press("lang:en")
    await flooder.say("/help")
    await flooder.say("/help")
    assert "faster than we can take them" in (await flooder.say("/help"))[0].text
    for _ in range(50):
        assert await flooder.say("/help") == []  # told once: the rest of the flood is not answered
    assert "/new" in (await other.say("/help"))[0].text  # the limit is the flooder's alone
    clock.advance(seconds=61)
    assert "/new" in (await flooder.say("/help"))[0].text
    await flooder.say("/help")
    await flooder.say("/help")
    assert "faster than we can take them" in (await flooder.say("/help"))[0].text  # a new window: told again
