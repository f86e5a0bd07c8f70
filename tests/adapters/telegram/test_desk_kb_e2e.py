"""The Telegram desk and the knowledge base: `/kb words` in a ticket's topic lists the articles
in the ticket's customer's language with a button each; the button sends the article, which the
Persian customer reads in Persian with "Was this helpful?"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.knowledge import KnowledgeBase
from core.storage.models import Ticket
from tests.adapters.telegram.conftest import Running, TgUser
from tests.adapters.telegram.desk_helpers import DESK, desk_settled, messages_of, processed, say, topic_of
from tests.adapters.telegram.test_desk_in_e2e import AGENT, desk  # noqa: F401 - the fixture
from tests.core.kb_samples import ARTICLES

CUSTOMER_FA = 603


def kb_answers(r: Running) -> list[dict[str, Any]]:
    return [m for (chat, _), m in r.api.messages.items() if chat == DESK and "ag:kbsend:" in str(m.get("reply_markup"))]


async def test_kb_in_a_topic_sends_the_article_to_a_persian_customer(desk: Running) -> None:  # noqa: F811
    customer = TgUser(desk, CUSTOMER_FA, "fa")
    await customer.intake("Nelze se přihlásit", "Od rána chyba 500.", priority="normal")
    async with desk.desk.db.read() as s:
        number = max((await s.execute(select(Ticket.number))).scalars())
    kb: KnowledgeBase = desk.desk.services.knowledge  # given its articles here until the config names a folder
    kb.items[:] = ARTICLES
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
