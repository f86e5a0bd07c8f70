"""Time on tickets from the Telegram desk group: `/time ...` in a ticket's topic (about its
ticket) and in the General topic, through the real process; the card redrawn with the total."""

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
