"""The hand-over to L3 on the Telegram desk, end to end: the card's button asks the three
questions in the ticket's topic, the agent's next messages there answer them, the L3 group and
the Czech customer are told, and another agent's answer reaches the escalating agent only."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.telegram.card import menu_key
from core.agents.handover import Questions, handover_form
from core.i18n import translator
from core.storage.models import HandoverRecord, TicketMessage
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, start_bot
from tests.adapters.telegram.desk_helpers import DESK, card_keys, card_message, desk_settled, processed, say, topic_of
from tests.fakes.telegram_api import FakeTelegramAPI

CUSTOMER, OLGA, PAVEL = 652, 752, 753
L3 = -1009876543210


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Running]:
    path = tmp_path / "l3.toml"  # beside fast.toml, which start_bot writes anew
    text, n = re.subn(r'(code = "technical"\n(?:.*\n)*?calendar = "office"\n)',
                      lambda m: m.group(1) + f'escalation = {{ l3 = "{L3}" }}\n',
                      fast_config(tmp_path).read_text(encoding="utf-8"))
    assert n == 1
    path.write_text(text, encoding="utf-8")
    async with FakeTelegramAPI(token=TOKEN, strict_html_entities=True, strict_topic_names=True) as api:
        api.add_user(OLGA, first_name="Olga", language_code="en")
        api.add_user(PAVEL, first_name="Pavel", language_code="en")
        api.add_forum(DESK, members={OLGA: "member", PAVEL: "member"})
        api.add_forum(L3, title="L3", members={PAVEL: "member"})
        async for running in start_bot(tmp_path, api, TELEGRAM_DESK_CHAT=str(DESK), HELPDESK_CONFIG=str(path)):
            yield running


async def test_hand_over_asked_in_the_topic(desk: Running) -> None:
    api = desk.api
    customer = TgUser(desk, CUSTOMER, "cs")
    await customer.intake("Nelze se přihlásit", "Od rána chyba 500.")
    thread, card = await topic_of(desk, 1001), await card_message(desk, 1001)

    def topic_texts() -> list[str]:
        return [m.get("text", "") for m in api.topic_messages(DESK, thread)]

    async def press(user: int, data: str) -> Any:
        await processed(desk, api.press_button(user, card, data, chat_id=DESK))

    async def escalate() -> None:  # the card's Escalate menu, then its confirmation
        await press(OLGA, menu_key("escalate", 1001))
        await api.wait_for(lambda: "ag:escalate:1001" in card_keys(desk, card), timeout=10)
        await press(OLGA, "ag:escalate:1001")

    await escalate()  # to L2: no hand-over
    await desk_settled(desk)
    assert (await desk.desk.services.queries.get(1001)).tier == 2
    await escalate()  # to L3: the questions, in the topic
    t = translator("en")
    asking = Questions(handover_form(t, 1001, 3, "/"))
    await api.wait_for(lambda: any(asking.question() in x for x in topic_texts()), timeout=10)
    await say(desk, OLGA, "Logs of the auth service", thread)
    await api.wait_for(lambda: any(asking.answered("x").question() in x for x in topic_texts()), timeout=10)
    await say(desk, PAVEL, "This is Pavel chatting, not an answer", thread)  # not Olga's: a reply as usual
    await say(desk, OLGA, "Log in as jana@example.cz", thread)
    await say(desk, OLGA, "That a specialist looks today", thread)
    await desk_settled(desk)
    ticket = await desk.desk.services.queries.get(1001)
    assert ticket.tier == 3
    assert any("How to reproduce: Log in as jana@example.cz" in x for x in topic_texts())
    placed = [m.get("text", "") for m in api.sent(L3)]
    assert placed and "#1001" in placed[0] and "What was checked: Logs of the auth service" in placed[0]
    cs = translator("cs")
    told = cs._("Ticket {ticket} has been passed to our specialist team (level {tier}), who will look into it in "
                "depth. The agent who has been handling it remains your contact, and we will write to you "
                "here about every step.", ticket=cs.ticket(1001), tier=cs.number(3))
    await api.wait_for(lambda: any(m.get("text", "").startswith(told) for m in api.sent(CUSTOMER)), timeout=10)

    # Pavel (not the contact) answers in the topic: Olga is mentioned, the customer hears nothing.
    heard = len(api.sent(CUSTOMER))
    await say(desk, PAVEL, "It is the session cache.", thread)
    await desk_settled(desk)
    assert len(api.sent(CUSTOMER)) == heard
    line = api.topic_messages(DESK, thread)[-1]
    assert line["text"] == "🔒 Pavel answered Olga (an internal note: the customer has not seen it):"
    assert [(e["type"], e["user"]["id"]) for e in line["entities"]] == [("text_mention", OLGA)]  # Olga is pinged


async def test_the_questions_can_be_cancelled(desk: Running) -> None:
    api = desk.api
    customer = TgUser(desk, CUSTOMER, "cs")
    await customer.intake("Nelze se přihlásit", "Od rána chyba 500.")
    thread = await topic_of(desk, 1001)
    await say(desk, OLGA, "/escalate", thread)
    await say(desk, OLGA, "/escalate", thread)
    await say(desk, OLGA, "/cancel", thread)
    t = translator("en")
    await api.wait_for(lambda: any(t._("Escalation cancelled: ticket {ticket} stays at L{tier}.",
                                       ticket=t.ticket(1001), tier=2) in m.get("text", "")
                                   for m in api.topic_messages(DESK, thread)), timeout=10)
    assert (await desk.desk.services.queries.get(1001)).tier == 2


async def test_a_command_in_the_topic_leaves_the_questions_and_runs(desk: Running) -> None:
    """Only /cancel answers the questions: `/note …` leaves them (said, with the answer given so far
    in the one-line form), is kept as a note, and is no field of a hand-over."""
    api = desk.api
    await TgUser(desk, CUSTOMER, "cs").intake("Nelze se přihlásit", "Od rána chyba 500.")
    thread = await topic_of(desk, 1001)
    await say(desk, OLGA, "/escalate", thread)
    await say(desk, OLGA, "/escalate", thread)
    t = translator("en")
    asking = Questions(handover_form(t, 1001, 3, "/"))
    await api.wait_for(lambda: any(asking.question() in m.get("text", "")
                                   for m in api.topic_messages(DESK, thread)), timeout=10)
    await say(desk, OLGA, "Logs of the auth service", thread)
    await say(desk, OLGA, "/note ask the database team first", thread)
    await say(desk, OLGA, "Log in as jana@example.cz", thread)  # a reply to the customer now
    await desk_settled(desk)
    left = t._("The hand-over was left unfinished: ticket {ticket} stays at L{tier}. To escalate it later, write: "
               "{example}", ticket=t.ticket(1001), tier=2,
               example="/escalate 1001 checked: Logs of the auth service | reproduce: … | told: …")
    assert any(left in m.get("text", "") for m in api.topic_messages(DESK, thread))
    async with desk.desk.db.read() as session:
        assert list((await session.execute(select(HandoverRecord.id))).scalars()) == []
        kinds = dict((await session.execute(select(TicketMessage.body, TicketMessage.kind))).all())
    assert kinds["ask the database team first"] == "note"
    assert kinds["Log in as jana@example.cz"] != "note"
    assert (await desk.desk.services.queries.get(1001)).tier == 2


async def test_a_refusal_after_the_last_answer_gives_the_answers_back(desk: Running) -> None:
    """Pavel escalated the ticket while Olga answered: her escalation is refused, and her three
    answers come back in the one-line form, ready to send again."""
    api = desk.api
    await TgUser(desk, CUSTOMER, "cs").intake("Nelze se přihlásit", "Od rána chyba 500.")
    thread = await topic_of(desk, 1001)
    await say(desk, OLGA, "/escalate", thread)
    await say(desk, OLGA, "/escalate", thread)
    t = translator("en")
    asking = Questions(handover_form(t, 1001, 3, "/"))
    await api.wait_for(lambda: any(asking.question() in m.get("text", "")
                                   for m in api.topic_messages(DESK, thread)), timeout=10)
    await say(desk, OLGA, "Logs", thread)
    await say(desk, OLGA, "Log in as jana", thread)
    await say(desk, PAVEL, "/escalate 1001 checked: Cache | reproduce: Log in | told: Today", thread)
    await say(desk, OLGA, "A specialist looks today", thread)
    await desk_settled(desk)
    back = t._("Your hand-over, to send again in one line: {example}",
               example="/escalate 1001 checked: Logs | reproduce: Log in as jana | told: A specialist looks today")
    assert any(back in m.get("text", "") for m in api.topic_messages(DESK, thread))
    async with desk.desk.db.read() as session:
        assert list((await session.execute(select(HandoverRecord.checked))).scalars()) == ["Cache"]


async def test_a_long_hand_over_reaches_the_l3_group_once_after_a_failed_part(desk: Running) -> None:
    """A hand-over longer than one message goes to the L3 group in parts; the second failing for
    a passing reason, the row's retry sends it alone: neither part twice, nor the topic's line."""
    api = desk.api
    await TgUser(desk, CUSTOMER, "cs").intake("Nelze se přihlásit", "Od rána chyba 500.")
    thread = await topic_of(desk, 1001)
    await say(desk, OLGA, "/escalate", thread)
    await say(desk, OLGA, "/escalate", thread)
    await desk_settled(desk)
    api.fail_next("sendMessage", status=500, chat_id=L3, after=1)
    for field in ("checked", "reproduce", "told"):
        await say(desk, OLGA, f"{field} " + "x" * 1900, thread)
    await desk_settled(desk, timeout=30)
    assert (await desk.desk.services.queries.get(1001)).tier == 3
    placed = [m.get("text", "") for m in api.sent(L3)]
    assert len(placed) == 2, placed
    assert "checked x" in placed[0] and "told x" in placed[-1]
    assert sum("How to reproduce: reproduce x" in m.get("text", "") for m in api.topic_messages(DESK, thread)) == 1
