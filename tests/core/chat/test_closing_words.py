"""Each end of a ticket is said once: the closing, then a rating question that does not repeat it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from core.chat.drafts import DraftStore
from core.chat.letters import Letter, Letters
from core.chat.notices import render
from core.delivery.attachments import AttachmentStore
from core.domain.config import HelpdeskConfig
from core.domain.model import Status, Who
from core.i18n import translator
from core.services import Services
from core.services.timers import Timers
from core.storage.models import OutboxMessage
from tests.conftest import FakeClock
from tests.core.chat.harness import Customer, open_ticket


async def _last_row(service: Services) -> int:
    async with service.db.read() as s:
        return max([0, *(await s.execute(select(OutboxMessage.id))).scalars()])


async def _news_since(service: Services, row: int) -> list[str]:
    """The customer's notifications queued after `row`, as they will read."""
    async with service.db.read() as s:
        rows = (await s.execute(select(OutboxMessage).where(
            OutboxMessage.id > row, OutboxMessage.customer_id.is_not(None)).order_by(OutboxMessage.id))).scalars()
        return [render(translator("en"), r.event, r.params).text for r in rows]


def _closed_said(texts: list[str]) -> int:
    return sum(text.lower().count("closed") for text in texts)


async def _resolved(customer: Customer, service: Services) -> int:
    number = await open_ticket(customer)
    agent = await service.desk.agent("slack", "U1")
    await service.desk.change_status(number, Status.RESOLVED, Who.agent(agent.id))
    return number


async def test_confirming_says_closed_once(customer: Customer, service: Services) -> None:
    number = await _resolved(customer, service)
    row = await _last_row(service)
    await customer.say(f"/confirm {number}")
    news = await _news_since(service, row)
    assert any("How satisfied" in text for text in news)
    assert _closed_said([customer.text, *news]) == 1


async def test_an_agent_closing_says_closed_once(customer: Customer, service: Services) -> None:
    number = await _resolved(customer, service)
    row = await _last_row(service)
    agent = await service.desk.agent("slack", "U1")
    await service.desk.change_status(number, Status.CLOSED, Who.agent(agent.id))
    news = await _news_since(service, row)
    assert len(news) == 2 and _closed_said(news) == 1


async def test_auto_close_says_closed_once(customer: Customer, service: Services, config: HelpdeskConfig,
                                           clock: FakeClock) -> None:
    await _resolved(customer, service)
    row = await _last_row(service)
    clock.advance(days=config.lifecycle.auto_close_days + 1)
    assert (await Timers(service).sweep())["auto_close"] == 1
    news = await _news_since(service, row)
    assert len(news) == 2 and _closed_said(news) == 1


async def test_withdrawing_says_withdrawn_once_and_asks_nothing(customer: Customer, service: Services) -> None:
    number = await open_ticket(customer)
    row = await _last_row(service)
    await customer.say(f"/withdraw {number}")
    await customer.press(f"withdraw_yes:{number}")
    assert await _news_since(service, row) == []
    assert customer.text.lower().count("withdrawn") == 1


async def test_a_letter_confirming_says_closed_once(service: Services, config: HelpdeskConfig,
                                                    tmp_path: Path) -> None:
    letters = Letters(service, DraftStore(service.db, service.clock), AttachmentStore(tmp_path / "files"), config,
                      clock=service.clock)
    await letters.take(Letter("letters", "jana@example.cz", "Jana", "Login", "It fails.", language="en"))
    agent = await service.desk.agent("desk", "A1", "Eva")
    await service.desk.change_status(1001, Status.RESOLVED, Who.agent(agent.id))
    row = await _last_row(service)
    [answer] = await letters.take(Letter("letters", "jana@example.cz", "Jana", "Re: Login", "1", ticket=1001))
    assert _closed_said([answer.text, *await _news_since(service, row)]) == 1


async def test_confirm_and_dispute_follow_the_lifecycle_and_reopening_says_so(
        customer: Customer, service: Services) -> None:
    number = await open_ticket(customer)
    await customer.say(f"/confirm {number}")
    assert "not possible for ticket #1001" in customer.text
    await customer.say(f"/notsolved {number}")
    assert "not possible for ticket #1001" in customer.text
    assert (await service.queries.get(number)).status == Status.NEW
    agent = await service.desk.agent("slack", "U1")
    await service.desk.change_status(number, Status.RESOLVED, Who.agent(agent.id))
    await customer.say(f"/confirm {number}")
    await customer.say(f"/notsolved {number}")  # closed now: reopening is writing to it
    assert "not possible for ticket #1001" in customer.text
    await customer.say(f"/ticket {number}")
    await customer.press(f"reply:{number}")
    await customer.say("It is back")
    assert customer.last[0].text == "Ticket #1001 has been reopened with your message."
    assert (await service.queries.get(number)).status == Status.ACCEPTED
