"""An agent in Slack finds an article for a Czech customer's ticket and sends it with a button;
the customer reads it in Telegram in Czech, with "Was this helpful?"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.fast_config import fast_config
from tests.adapters.slack.conftest import AGENT, DESK, TOKEN, Desk, start_world, telegram_ticket
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.telegram_api import FakeTelegramAPI


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Desk]:
    """The desk with the bundled example articles (the form offers them: the customer goes on)."""
    async with FakeTelegramAPI(token=TOKEN) as tg, FakeSlackAPI() as slack:
        config = str(fast_config(tmp_path / "kb", knowledge=True))
        async for started in start_world(tmp_path, tg, slack, HELPDESK_CONFIG=config):
            yield started


async def test_an_agent_sends_an_article_from_slack_and_the_customer_reads_it_in_czech(world: Desk) -> None:
    customer = await telegram_ticket(world)
    response = await world.events.slash_command(AGENT, text="kb 1001 heslo", channel_id=DESK)
    assert response.status == 200
    await world.slack.wait_for(lambda: "reset-password" in str(world.slack.ephemerals[-1:]), timeout=5)
    answer = world.slack.ephemerals[-1]
    assert "Obnovení zapomenutého hesla" in str(answer) and "desk:kbsend:0" in str(answer)  # in the customer's language
    await world.click(AGENT, "desk:kbsend:0", 1001, value="reset-password")
    thread = " ".join(m.get("text", "") for m in world.thread(1001))
    assert "Obnovení zapomenutého hesla" in thread  # the desk's thread shows what was sent
    body = "Zapomněli jste heslo?"  # the article's text (the form's offer only named it)
    await world.tg.wait_for(lambda: any(body in (m.get("text") or "") for m in customer.sent()), timeout=10)
    sent = next(m for m in customer.sent() if body in (m.get("text") or ""))
    assert "Obnovení zapomenutého hesla" in sent["text"] and "**" not in sent["text"]
    assert "kb:yes:cs:reset-password" in str(sent.get("reply_markup"))
    await customer.press("kb:yes:cs:reset-password")
    report = await world.desk.services.articles.figures(world.desk.services.clock().replace(year=2000),
                                                        world.desk.services.clock().replace(year=2100))
    assert report.per_article["reset-password"] == {"shown": 1, "helpful": 1}
