"""The whole of issue #23's flow, through the real process against the fake Bot API: a Persian
customer in a private chat, the agents in a Telegram group with topics, no Slack anywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.chat import actions as act
from core.domain.model import MessageKind
from core.i18n import translator
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, start_bot
from tests.adapters.telegram.desk_helpers import (
    DESK,
    card_keys,
    card_message,
    desk_settled,
    messages_of,
    processed,
    say,
    topic_of,
)
from tests.fakes.telegram_api import FakeTelegramAPI

CUSTOMER, AGENT, STRANGER = 651, 751, 851


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Running]:
    async with FakeTelegramAPI(token=TOKEN, strict_html_entities=True, strict_topic_names=True) as api:
        api.add_user(AGENT, first_name="Olga", language_code="ru")
        api.add_user(STRANGER, first_name="Zé", language_code="pt")
        api.add_forum(DESK, members={AGENT: "member"})
        async for running in start_bot(tmp_path, api, TELEGRAM_DESK_CHAT=str(DESK)):
            yield running


async def test_a_ticket_from_a_private_chat_to_its_closed_topic(desk: Running) -> None:
    api, fa = desk.api, translator("fa")
    customer = TgUser(desk, CUSTOMER, "fa")

    def customer_got(text: str) -> bool:
        return any(text in m.get("text", "") for m in api.sent(CUSTOMER))

    def in_topic(thread: int, text: str) -> bool:
        return any(text in m.get("text", "") for m in api.topic_messages(DESK, thread))

    # The customer opens a ticket in a private chat, in Persian.
    await customer.intake("ورود ممکن نیست", "از صبح خطای ۵۰۰ می‌بینم.")
    number = 1001

    # A topic appears, with the card and its buttons.
    thread = await topic_of(desk, number)
    card = await card_message(desk, number)
    assert api.topic(DESK, thread).name == f"🆕 #{number} · ورود ممکن نیست"
    assert "از صبح خطای ۵۰۰ می‌بینم." in api.messages[(DESK, card)]["text"]
    assert f"ag:claim:{number}" in card_keys(desk, card)

    async def press(user: int, data: str) -> dict[str, Any]:
        update = api.press_button(user, card, data, chat_id=DESK)
        await processed(desk, update)
        return await api.wait_for(lambda: next(
            (r.params for r in api.requests_for("answerCallbackQuery")
             if r.params["callback_query_id"] == update["callback_query"]["id"]), None))

    # An agent claims it from the card; the customer is told, in Persian.
    await press(AGENT, f"ag:claim:{number}")
    await api.wait_for(lambda: customer_got(fa._(
        "Good news: a specialist has taken ticket {ticket} and is working on it.", ticket=fa.ticket(number))),
        timeout=10)
    await api.wait_for(lambda: api.topic(DESK, thread).name.startswith(f"🔧 #{number}"), timeout=10)

    # The agent replies in the topic; the customer gets it.
    await say(desk, AGENT, "لطفاً حافظهٔ مرورگر را پاک کنید و دوباره وارد شوید.", thread)
    await api.wait_for(lambda: customer_got("لطفاً حافظهٔ مرورگر را پاک کنید"), timeout=10)
    assert customer_got(fa._("Reply from the support team on ticket {ticket}:", ticket=fa.ticket(number)))

    # The customer answers; it appears in the topic.
    await customer.press(act.WriteTo(number).encode())
    await customer.say("پاک کردم، باز هم همان خطا.")
    await api.wait_for(lambda: in_topic(thread, "پاک کردم، باز هم همان خطا."), timeout=10)

    # A note stays internal.
    customer_messages = len(api.sent(CUSTOMER))
    await say(desk, AGENT, "note: the auth service restarts every hour", thread)
    assert (MessageKind.NOTE, "the auth service restarts every hour") in \
        [(m.kind, m.body) for m in await messages_of(desk, number)]

    # Someone who is no member presses the card's buttons: nothing changes.
    await desk_settled(desk)
    status = (await desk.desk.services.queries.get(number)).status
    answer = await press(STRANGER, f"tm:status:{number}")
    assert answer["text"] == translator("pt")._("Only help-desk agents can do this.")
    assert f"ag:claim:{number}" in card_keys(desk, card)  # no menu opened
    answer = await press(STRANGER, f"ag:claim:{number}")
    assert answer.get("show_alert")
    ticket = await desk.desk.services.queries.get(number)
    assert ticket.status == status
    assert len(api.sent(CUSTOMER)) == customer_messages  # the note and the presses reached no one

    # The agent resolves it from the Status menu; the customer confirms.
    await press(AGENT, f"tm:status:{number}")
    await api.wait_for(lambda: f"ag:status:{number}:resolved" in card_keys(desk, card))
    await press(AGENT, f"ag:status:{number}:resolved")
    await api.wait_for(lambda: customer_got(fa._(
        "Our team has marked ticket {ticket} as resolved. Is your problem solved?", ticket=fa.ticket(number))),
        timeout=10)
    await api.wait_for(lambda: api.topic(DESK, thread).name.startswith(f"✅ #{number}"), timeout=10)
    await customer.press(act.Settle(number, solved=True).encode())

    # The topic is renamed and closed; the card keeps no buttons.
    await api.wait_for(lambda: api.topic(DESK, thread).closed, timeout=10)
    assert api.topic(DESK, thread).name == f"🔒 #{number} · ورود ممکن نیست"
    await desk_settled(desk)
    assert card_keys(desk, card) == []
    assert (await desk.desk.services.queries.get(number)).status == "closed"
    assert len([t for t in api.topics(DESK) if not t.deleted]) == 1
    assert all(r.ok for r in api.requests_for("sendMessage", DESK)), "a message was refused by Telegram"
