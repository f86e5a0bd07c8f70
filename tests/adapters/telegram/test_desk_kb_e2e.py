"""The Telegram desk and the knowledge base: `/kb words` in a ticket's topic lists the articles
in the ticket's customer's language with a button each; the button sends the article, which the
Persian customer reads in Persian with "Was this helpful?"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.storage.models import Ticket
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, start_bot
from tests.adapters.telegram.desk_helpers import DESK, desk_settled, messages_of, processed, say, topic_of
from tests.adapters.telegram.test_desk_in_e2e import ADMIN, AGENT, STRANGER
from tests.fakes.telegram_api import FakeTelegramAPI


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Running]:
    """The Telegram desk with the bundled example articles."""
    async with FakeTelegramAPI(token=TOKEN) as api:
        api.add_user(AGENT, first_name="Olga", language_code="ru")
        api.add_user(ADMIN, first_name="Petr", language_code="cs")
        api.add_user(STRANGER, first_name="Zé", language_code="pt-BR")
        api.add_forum(DESK, members={AGENT: "member", ADMIN: "administrator"})
        config = str(fast_config(tmp_path / "kb", knowledge=True))
        async for running in start_bot(tmp_path, api, TELEGRAM_DESK_CHAT=str(DESK), HELPDESK_CONFIG=config):
            yield running

CUSTOMER_FA = 603


def kb_answers(r: Running) -> list[dict[str, Any]]:
    return [m for (chat, _), m in r.api.messages.items() if chat == DESK and "ag:kbsend:" in str(m.get("reply_markup"))]


async def test_kb_in_a_topic_sends_the_article_to_a_persian_customer(desk: Running) -> None:
    customer = TgUser(desk, CUSTOMER_FA, "fa")
    await customer.intake("Nelze se přihlásit", "Od rána chyba 500.", priority="normal")
    async with desk.desk.db.read() as s:
        number = max((await s.execute(select(Ticket.number))).scalars())
    thread = await topic_of(desk, number)
    await desk_settled(desk)
    await say(desk, AGENT, "/kb رمز عبور", thread)
    await desk.api.wait_for(lambda: kb_answers(desk), timeout=10)
    answer = kb_answers(desk)[-1]
    assert "بازیابی رمز عبور" in answer["text"] and "reset-password" in answer["text"]
    key = f"ag:kbsend:{number}:reset-password"
    assert key in str(answer["reply_markup"])
    before = len(customer.sent())
    await processed(desk, desk.api.press_button(AGENT, answer["message_id"], key, chat_id=DESK))
    await desk.api.wait_for(lambda: any("بازیابی رمز عبور" in (m.get("text") or "")
                                        for m in customer.sent()[before:]), timeout=10)
    sent = next(m for m in customer.sent()[before:] if "بازیابی رمز عبور" in (m.get("text") or ""))
    assert "تنظیمات" in sent["text"] and "kb:yes:fa:reset-password" in str(sent.get("reply_markup"))
    assert (await messages_of(desk, number))[-1].body.startswith("بازیابی رمز عبور")  # in the thread
    await customer.press("kb:yes:fa:reset-password")
    # In the General topic, with the number: the list, without buttons (they work in the topic).
    shown = len(kb_answers(desk))
    listed = [m for (chat, _), m in desk.api.messages.items() if chat == DESK and "reset-password" in m.get("text", "")]
    await say(desk, AGENT, f"/kb {number} رمز عبور")
    await desk.api.wait_for(lambda: len([m for (chat, _), m in desk.api.messages.items()
                                         if chat == DESK and "reset-password" in m.get("text", "")]) > len(listed),
                            timeout=10)
    assert len(kb_answers(desk)) == shown
