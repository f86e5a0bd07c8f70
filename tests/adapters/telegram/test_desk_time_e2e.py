"""Time on tickets from the Telegram desk group: `/time ...` in a ticket's topic (about its
ticket) and in the General topic, through the real process; the card redrawn with the total."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.storage.models import Ticket, TimeEntry
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, start_bot
from tests.adapters.telegram.desk_helpers import DESK, card_message, desk_settled, processed, say, topic_of
from tests.fakes.telegram_api import FakeTelegramAPI

CUSTOMER, AGENT = 612, 712


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Running]:
    async with FakeTelegramAPI(token=TOKEN) as api:
        api.add_user(AGENT, first_name="Eva", language_code="en")
        api.add_forum(DESK, members={AGENT: "member"})
        async for running in start_bot(tmp_path, api, TELEGRAM_DESK_CHAT=str(DESK)):
            yield running


def answers(r: Running) -> list[dict[str, Any]]:
    return [q.params for q in r.api.requests_for("sendMessage", DESK) if q.ok and q.params.get("reply_parameters")]


async def test_time_logged_from_the_desk_group(desk: Running) -> None:
    await TgUser(desk, CUSTOMER, "cs").intake("Nelze se přihlásit", "Od rána chyba 500.", priority="normal")
    async with desk.desk.db.read() as s:
        number = max((await s.execute(select(Ticket.number))).scalars())
    topic = await topic_of(desk, number)

    async def command(text: str, thread: int | None = None) -> str:
        before = len(answers(desk))
        await say(desk, AGENT, text, thread)
        found = answers(desk)[before:]
        assert found, f"no answer to {text}"
        return "\n".join(a["text"] for a in found)

    logged = await command("/time 1h30 investigation checked the logs", topic)  # the topic's ticket
    assert f"Logged 1 hr 30 min on ticket #{number} (entry 1, Investigation)." in logged
    assert "Total: 1 hr 30 min" in await command(f"/time {number}")
    card = await card_message(desk, number)
    await desk_settled(desk)
    await desk.api.wait_for(lambda: "Time logged: 1 hr 30 min" in desk.api.messages[(DESK, card)]["text"],
                            timeout=10)


def _keys(r: Running, message: int) -> dict[str, str]:
    """The buttons a message of the desk group shows now: label → callback data."""
    markup = r.api.messages[(DESK, message)].get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


async def test_log_time_and_the_time_spent_by_pressing(desk: Running) -> None:
    await TgUser(desk, CUSTOMER, "cs").intake("Nelze se přihlásit", "Od rána chyba 500.", priority="normal")
    async with desk.desk.db.read() as s:
        number = max((await s.execute(select(Ticket.number))).scalars())
    topic = await topic_of(desk, number)
    card = await card_message(desk, number)
    await desk_settled(desk)

    async def press(message: int, label: str) -> None:
        """A press, once answered: the message it replaces is edited after the answer."""
        shown = desk.api.messages[(DESK, message)].get("text")
        await processed(desk, desk.api.press_button(AGENT, message, _keys(desk, message)[label], chat_id=DESK))
        if message != card:
            await desk.api.wait_for(lambda: desk.api.messages[(DESK, message)].get("text") != shown, timeout=10)

    before = len(answers(desk))
    assert _keys(desk, card)["Log time"] == f"ag:time:{number}"
    await press(card, "Log time")  # the choices come under the card, in the ticket's topic
    offer = answers(desk)[before:]
    assert len(offer) == 1 and offer[0]["message_thread_id"] == topic
    assert f"Log time on ticket #{number}: which activity?" in offer[0]["text"]
    asked = next(m["message_id"] for (chat, _), m in desk.api.messages.items()
                 if chat == DESK and m.get("text", "").startswith(f"Log time on ticket #{number}"))
    assert list(_keys(desk, asked)) == ["Investigation", "Communication with the customer", "Development",
                                        "No activity"]
    await press(asked, "Development")  # the same message, now with the durations
    assert "(Development): how long?" in desk.api.messages[(DESK, asked)]["text"]
    assert _keys(desk, asked)["1 hr 30 min"] == f"ag:tlog:{number}:90:development"
    key = _keys(desk, asked)["1 hr 30 min"]
    await press(asked, "1 hr 30 min")
    assert desk.api.messages[(DESK, asked)]["text"].startswith(f"Logged 1 hr 30 min on ticket #{number}")
    assert not _keys(desk, asked)
    # A second tap that left before the buttons were gone (taken here, in another process or after
    # a restart: the offer's key is kept with its entry) logs nothing more, and says so.
    async with desk.desk.db.read() as s:
        assert list((await s.execute(select(TimeEntry.offer))).scalars()) == [f"telegram:{DESK}:{asked}"]
    await processed(desk, desk.api.press_button(AGENT, asked, key, chat_id=DESK, check_button=False))
    said = [r.params for r in desk.api.requests_for("answerCallbackQuery")][-1]
    assert said.get("text") == f"That time is already logged on ticket #{number}: a second press logs nothing more."
    assert said.get("show_alert") in (True, "true")
    await desk_settled(desk)
    await desk.api.wait_for(lambda: "Time logged: 1 hr 30 min" in desk.api.messages[(DESK, card)]["text"],
                            timeout=10)

    # Resolved with a command in the topic: the time spent is asked, with what is logged so far; Skip.
    before = len(answers(desk))
    await say(desk, AGENT, "/status resolved", topic)
    said = answers(desk)[before:]
    assert said and "1 hr 30 min logged so far" in said[-1]["text"]
    asked = max(m["message_id"] for (chat, _), m in desk.api.messages.items()
                if chat == DESK and "logged so far" in m.get("text", ""))
    await press(asked, "Skip")
    assert desk.api.messages[(DESK, asked)]["text"] == f"No time logged on ticket #{number}."
    async with desk.desk.db.read() as s:
        assert [e.minutes for e in (await s.execute(select(TimeEntry))).scalars()] == [90]
