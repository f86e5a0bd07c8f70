"""The Telegram desk's inbound side through the real process against the fake Bot API: agents
writing in a ticket's topic, notes, commands in the General topic, the card's buttons and menus,
edits, someone who is no agent, and a start refused for a group that cannot be a desk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.telegram.card import unpack
from bot.bootstrap import build
from bot.server import serve
from bot.settings import Settings
from core.domain.model import MessageKind
from core.i18n import translator
from core.startup import StartupError
from core.storage.desk import post_at
from core.storage.models import Agent, Ticket
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, free_port, start_bot
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
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegramAPI

CUSTOMER, AGENT, ADMIN, STRANGER = 601, 701, 702, 801
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Running]:
    async with FakeTelegramAPI(token=TOKEN) as api:
        api.add_user(AGENT, first_name="Olga", language_code="ru")
        api.add_user(ADMIN, first_name="Petr", language_code="cs")
        api.add_user(STRANGER, first_name="Zé", language_code="pt-BR")
        api.add_forum(DESK, members={AGENT: "member", ADMIN: "administrator"})
        async for running in start_bot(tmp_path, api, TELEGRAM_DESK_CHAT=str(DESK)):
            yield running


async def open_ticket(r: Running, user_id: int = CUSTOMER, lang: str = "cs") -> int:
    await TgUser(r, user_id, lang).intake("Nelze se přihlásit", "Od rána chyba 500.", priority="normal")
    async with r.desk.db.read() as s:
        return max((await s.execute(select(Ticket.number))).scalars())


def answers_in_group(r: Running, after: int = 0) -> list[dict[str, Any]]:
    """The bot's sendMessage calls into the group that answer a message (desk answers)."""
    return [q.params for q in r.api.requests_for("sendMessage", DESK)[after:]
            if q.ok and q.params.get("reply_parameters")]


async def test_an_agents_reply_reaches_the_customer_and_a_note_stays_internal(desk: Running) -> None:
    number = await open_ticket(desk)
    thread = await topic_of(desk, number)
    before = len(desk.api.sent(CUSTOMER))
    await say(desk, AGENT, "Dobrý den, zkuste to prosím znovu.", thread)
    await desk.api.wait_for(lambda: any("zkuste to prosím znovu" in m.get("text", "")
                                        for m in desk.api.sent(CUSTOMER)[before:]), timeout=10)
    ticket = await desk.desk.services.queries.get(number)
    assert ticket.status == "waiting"
    # Notes, both ways of writing one, with a file too: nothing reaches the customer.
    await say(desk, AGENT, "note: checked the logs, 500 from the auth service", thread)
    await say(desk, AGENT, f"/note@{BOT_USERNAME} second note", thread)
    await processed(desk, desk.api.user_document(AGENT, file_name="trace.txt", mime_type="text/plain",
                                                 content=b"trace", chat_id=DESK, message_thread_id=thread,
                                                 caption="NOTE: the trace"))
    kinds = [(m.kind, m.body) for m in await messages_of(desk, number)]
    assert (MessageKind.NOTE, "checked the logs, 500 from the auth service") in kinds
    assert (MessageKind.NOTE, "second note") in kinds and (MessageKind.NOTE, "the trace") in kinds
    # A file to the customer: it arrives as a document in their chat.
    sent_before = len(desk.api.requests_for("sendDocument", CUSTOMER))
    await processed(desk, desk.api.user_photo(AGENT, content=PNG, chat_id=DESK, message_thread_id=thread,
                                              caption="Screenshot of the fix"))
    await desk.api.wait_for(lambda: len(desk.api.requests_for("sendDocument", CUSTOMER)) > sent_before, timeout=10)
    await asyncio.sleep(0.3)  # let any stray notification through before counting
    texts = " ".join(m.get("text", "") for m in desk.api.sent(CUSTOMER)[before:])
    assert "logs" not in texts and "second note" not in texts and "trace" not in texts
    assert not answers_in_group(desk), "the agent was answered as if something had failed"


async def test_someone_who_is_no_agent_changes_nothing(desk: Running) -> None:
    number = await open_ticket(desk)
    thread = await topic_of(desk, number)
    card = await card_message(desk, number)
    thread_before = await messages_of(desk, number)
    customer_before = len(desk.api.sent(CUSTOMER))
    update = await say(desk, STRANGER, "I am not an agent", thread)
    [answer] = answers_in_group(desk)
    pt = translator("pt")
    assert answer["text"] == pt._("Only help-desk agents can answer customers; your message was not sent.")
    assert answer["message_thread_id"] == thread
    assert answer["reply_parameters"]["message_id"] == update["message"]["message_id"]
    # A press on the card's Claim button: refused in the answer, nothing changes.
    press = desk.api.press_button(STRANGER, card, f"ag:claim:{number}", chat_id=DESK)
    await processed(desk, press)
    query = await desk.api.wait_for(lambda: next(
        (r.params for r in desk.api.requests_for("answerCallbackQuery")
         if r.params["callback_query_id"] == press["callback_query"]["id"]), None))
    assert query["text"] == pt._("Only help-desk agents can do this.") and query.get("show_alert")
    # And a menu: the card keeps its buttons.
    edits = len(desk.api.requests_for("editMessageReplyMarkup", DESK))
    await processed(desk, desk.api.press_button(STRANGER, card, f"tm:status:{number}", chat_id=DESK))
    assert len(desk.api.requests_for("editMessageReplyMarkup", DESK)) == edits
    await asyncio.sleep(0.3)
    ticket = await desk.desk.services.queries.get(number)
    assert ticket.assignee_id is None and ticket.status == "new"
    assert [m.id for m in await messages_of(desk, number)] == [m.id for m in thread_before]
    assert len(desk.api.sent(CUSTOMER)) == customer_before
    # A command in General: refused in their language too.
    await say(desk, STRANGER, "/queue")
    assert answers_in_group(desk)[-1]["text"] == pt._("Only help-desk agents can do this.")


async def test_commands_in_the_general_topic(desk: Running) -> None:
    number = await open_ticket(desk)
    await topic_of(desk, number)
    ru = translator("ru")

    async def command(text: str, user: int = AGENT) -> str:
        before = len(answers_in_group(desk))
        update = await say(desk, user, text)
        found = answers_in_group(desk)[before:]
        assert found, f"no answer to {text}"
        assert all("message_thread_id" not in a for a in found)  # in General
        assert found[0]["reply_parameters"]["message_id"] == update["message"]["message_id"]
        return "\n".join(a["text"] for a in found)

    queue = await command("/queue")
    assert ru._("Open tickets, longest-waiting first:") in queue and f"#{number}" in queue
    assert f"#{number}" in await command(f"/queue@{BOT_USERNAME} technical")
    assert ru._("No open tickets.") in await command("/queue billing")
    assert ru._("No open tickets.") in await command("/mine")
    await command(f"/claim {number}")
    assert f"#{number}" in await command("/mine")
    shown = await command(f"/show {number}")
    assert "Nelze se přihlásit" in shown and "Od rána chyba 500." in shown
    stats = await command("/stats")
    assert stats.startswith("<pre>") and stats.endswith("</pre>")
    assert "/queue [department]" in await command(f"/help@{BOT_USERNAME}")
    cs = translator("cs")
    assert cs._("Give a ticket number, for example: {example}", example="/show 1042") in \
        await command("/show", user=ADMIN)
    # Not for this bot, or no command at all: nothing is said.
    before = len(answers_in_group(desk))
    await say(desk, AGENT, "/queue@SomeOtherBot")
    await say(desk, AGENT, "good morning, everyone")
    assert len(answers_in_group(desk)) == before


async def test_the_cards_buttons_and_menus(desk: Running) -> None:
    number = await open_ticket(desk)
    thread = await topic_of(desk, number)
    card = await card_message(desk, number)
    ru = translator("ru")

    async def press(data: str, user: int = AGENT) -> dict[str, Any]:
        update = desk.api.press_button(user, card, data, chat_id=DESK, check_button=False)
        await processed(desk, update)
        # Answered just after the press is recorded as handled.
        return await desk.api.wait_for(lambda: next(
            (r.params for r in desk.api.requests_for("answerCallbackQuery")
             if r.params["callback_query_id"] == update["callback_query"]["id"]), None))

    answer = await press(f"ag:claim:{number}")
    assert answer["text"] == ru._("You now handle ticket {ticket}.", ticket=ru.ticket(number))
    assert not answer.get("show_alert")
    ticket = await desk.desk.services.queries.get(number)
    assert ticket.assignee_id is not None and ticket.status == "accepted"

    # The Status menu replaces the card's buttons in place; the card is drawn afresh next time.
    await desk_settled(desk)  # the claim's news shown first: a new card would close the menu
    await press(f"tm:status:{number}")
    await desk.api.wait_for(lambda: f"tm:back:{number}" in card_keys(desk, card))
    assert f"ag:status:{number}:resolved" in card_keys(desk, card)
    post = await post_at(desk.desk.db, "telegram", str(DESK), str(thread))
    assert post is not None and unpack(post.card_digest)[0] is None  # the card part forgotten
    await press(f"tm:back:{number}")
    await desk.api.wait_for(lambda: f"ag:claim:{number}" in card_keys(desk, card))

    # Assign: the group's administrators are offered; choosing one assigns the ticket.
    await press(f"tm:assign:{number}")
    await desk.api.wait_for(lambda: f"ag:assign:{number}:{ADMIN}" in card_keys(desk, card))
    markup = desk.api.messages[(DESK, card)]["reply_markup"]
    offered = {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
    assert offered.get("Petr") == f"ag:assign:{number}:{ADMIN}"
    await press(f"ag:assign:{number}:{ADMIN}")
    async with desk.desk.db.read() as s:
        assignee = await s.get(Agent, (await desk.desk.services.queries.get(number)).assignee_id)
    assert assignee is not None and assignee.platform_user_id == str(ADMIN) and assignee.display_name == "Petr"
    # The assignment's news draws the card again, with its own buttons.
    await desk.api.wait_for(lambda: f"ag:claim:{number}" in card_keys(desk, card))

    # A refusal comes as an alert: a transition the lifecycle does not allow.
    answer = await press(f"ag:status:{number}:new")
    assert answer.get("show_alert") and answer["text"]
    # Forged or stale data: "no longer active", nothing changes.
    for data in (f"ag:claim:{number + 50}", "ag:claim", "tm:nothing:1", "whatever", f"tm:status:{number + 1}"):
        answer = await press(data)
        assert answer["text"] == ru._("This button is no longer active."), data
    assert (await desk.desk.services.queries.get(number)).status == "accepted"


async def test_an_edit_is_answered_and_not_relayed(desk: Running) -> None:
    number = await open_ticket(desk)
    thread = await topic_of(desk, number)
    update = await say(desk, AGENT, "Zkuste to znovu zítra.", thread)
    await desk.api.wait_for(lambda: any("zítra" in m.get("text", "") for m in desk.api.sent(CUSTOMER)), timeout=10)
    customer_before = len(desk.api.sent(CUSTOMER))
    edit = desk.api.user_edit(AGENT, update["message"]["message_id"], chat_id=DESK, text="Zkuste to znovu dnes.")
    await processed(desk, edit)
    [answer] = answers_in_group(desk)
    assert answer["message_thread_id"] == thread
    assert answer["text"] == translator("ru")._(
        "Your edit was not passed on to the customer: they keep the message as it was first sent. "
        "To correct it, send a new message.")
    note = await say(desk, AGENT, "note: first", thread)
    await processed(desk, desk.api.user_edit(AGENT, note["message"]["message_id"], chat_id=DESK, text="note: second"))
    assert answers_in_group(desk)[-1]["text"] == translator("ru")._(
        "Edits are not kept: the note stays as it was first written.")
    await asyncio.sleep(0.3)
    assert len(desk.api.sent(CUSTOMER)) == customer_before
    assert "dnes" not in " ".join(m.body for m in await messages_of(desk, number))


@pytest.mark.parametrize(("setup", "said"), [
    ({"is_forum": False}, "has no topics"),
    ({"bot_can_manage_topics": False}, "may not manage topics"),
    ({"bot_status": "member"}, "may not manage topics"),
])
async def test_start_is_refused_for_a_group_that_cannot_be_a_desk(tmp_path: Path, setup: dict[str, Any],
                                                                   said: str) -> None:
    async with FakeTelegramAPI(token=TOKEN) as api:
        api.add_forum(DESK, **setup)
        settings = Settings(_env_file=None, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
                            TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.server_url, HTTP_PORT=free_port(),
                            ATTACHMENTS_DIR=str(tmp_path / "files"), HELPDESK_CONFIG=str(fast_config(tmp_path)),
                            TELEGRAM_DESK_CHAT=str(DESK))
        app = await build(settings)
        try:
            with pytest.raises(StartupError) as raised:
                await asyncio.wait_for(serve(app, settings, asyncio.Event()), 20)
        finally:
            await app.close()
        message = str(raised.value)
        assert said in message and str(DESK) in message and "TELEGRAM_DESK_CHAT" in message
        assert TOKEN not in message
        assert not api.requests_for("getUpdates")  # it never began to take updates


async def test_the_desk_group_gets_the_agents_commands(desk: Running) -> None:
    scoped = [r.params for r in desk.api.requests_for("setMyCommands") if r.params.get("scope")]
    assert scoped and all(p["scope"] == {"type": "chat", "chat_id": DESK} for p in scoped)
    names = {c["command"] for c in scoped[0]["commands"]}
    assert {"queue", "mine", "show", "stats", "note"} <= names
    assert "edited_message" in desk.api.requests_for("getUpdates")[-1].params["allowed_updates"]

