"""A quote from the Telegram desk group: `/quote ...` in a ticket's topic (about its ticket),
through the real process; the customer approves in their chat; time refused before and logged
after; the card and the topic's lines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.storage.models import Ticket
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, start_bot
from tests.adapters.telegram.desk_helpers import DESK, card_message, desk_settled, say, topic_of
from tests.fakes.telegram_api import FakeTelegramAPI

CUSTOMER, AGENT = 613, 713


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Running]:
    async with FakeTelegramAPI(token=TOKEN) as api:
        api.add_user(AGENT, first_name="Eva", language_code="en")
        api.add_forum(DESK, members={AGENT: "member"})
        async for running in start_bot(tmp_path, api, TELEGRAM_DESK_CHAT=str(DESK)):
            yield running


def answers(r: Running) -> list[dict[str, Any]]:
    return [q.params for q in r.api.requests_for("sendMessage", DESK) if q.ok and q.params.get("reply_parameters")]


async def test_a_quote_from_the_desk_group_approved_by_the_customer(desk: Running) -> None:
    customer = TgUser(desk, CUSTOMER, "cs")
    await customer.intake("Nová sestava", "Potřebujeme měsíční přehled.", priority="normal")
    async with desk.desk.db.read() as s:
        number = max((await s.execute(select(Ticket.number))).scalars())
    topic = await topic_of(desk, number)

    async def command(text: str, thread: int | None = topic) -> str:
        before = len(answers(desk))
        await say(desk, AGENT, text, thread)
        found = answers(desk)[before:]
        assert found, f"no answer to {text}"
        return "\n".join(a["text"] for a in found)

    sent = await command("/quote 2h30 a monthly overview")  # the topic's ticket
    assert f"Quote sent to the customer of ticket #{number}: 2 hr 30 min." in sent
    assert "has been awaiting the customer's approval of a quote since" in await command("/time 25m")
    await desk_settled(desk)
    key = f"quote:yes:{number}:1"
    await desk.api.wait_for(lambda: any(key in str(m.get("reply_markup")) for m in customer.sent()), timeout=10)
    card = await card_message(desk, number)
    await desk.api.wait_for(lambda: "awaiting approval since" in desk.api.messages[(DESK, card)]["text"],
                            timeout=10)
    await customer.press(key)
    await desk_settled(desk)
    await desk.api.wait_for(lambda: "approved by" in desk.api.messages[(DESK, card)]["text"], timeout=10)
    topic_lines = [q.params["text"] for q in desk.api.requests_for("sendMessage", DESK)
                   if q.ok and q.params.get("message_thread_id") == topic]
    assert any("sent the customer a quote" in t for t in topic_lines)
    assert any("approved the quote" in t for t in topic_lines)
    assert f"Logged 25 min on ticket #{number}" in await command("/time 25m")


async def test_resolving_withdraws_the_pending_quote(desk: Running) -> None:
    """A quote left pending when the agent resolves the ticket is withdrawn with it: the topic
    says so, the card shows it withdrawn, the customer's Approve no longer approves, and the
    time spent (which resolving asks for) is logged."""
    customer = TgUser(desk, CUSTOMER, "en")
    await customer.intake("New report", "We need a monthly overview.", priority="normal")
    async with desk.desk.db.read() as s:
        number = max((await s.execute(select(Ticket.number))).scalars())
    topic = await topic_of(desk, number)
    await say(desk, AGENT, "/quote 3h", topic)
    key = f"quote:yes:{number}:1"
    await desk.api.wait_for(lambda: any(key in str(m.get("reply_markup")) for m in customer.sent()), timeout=10)
    await say(desk, AGENT, "/status resolved", topic)
    await desk_settled(desk)
    card = await card_message(desk, number)
    await desk.api.wait_for(lambda: "withdrawn on" in desk.api.messages[(DESK, card)]["text"], timeout=10)
    topic_lines = [q.params["text"] for q in desk.api.requests_for("sendMessage", DESK)
                   if q.ok and q.params.get("message_thread_id") == topic]
    assert any("withdrew the quote (3 hr)" in t for t in topic_lines), topic_lines
    pressed = await customer.press(key)
    assert any("no longer awaiting an answer" in m.get("text", "") for m in pressed), pressed
    before = len(answers(desk))
    await say(desk, AGENT, "/time 25m", topic)
    assert any(f"Logged 25 min on ticket #{number}" in a["text"] for a in answers(desk)[before:])
