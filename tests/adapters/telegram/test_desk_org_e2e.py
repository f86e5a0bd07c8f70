"""Organisations from the Telegram desk group: `/org ...` in the General topic, through the real
process, and the ticket's card showing the requester's organisation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.i18n import translator
from core.storage.models import Ticket
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, start_bot
from tests.adapters.telegram.desk_helpers import DESK, card_message, desk_settled, say, topic_of
from tests.fakes.telegram_api import BOT_USERNAME, FakeTelegramAPI

CUSTOMER, AGENT, STRANGER = 611, 711, 811


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Running]:
    async with FakeTelegramAPI(token=TOKEN) as api:
        api.add_user(AGENT, first_name="Eva", language_code="en")
        api.add_user(STRANGER, first_name="Zé", language_code="pt-BR")
        api.add_forum(DESK, members={AGENT: "member"})
        async for running in start_bot(tmp_path, api, TELEGRAM_DESK_CHAT=str(DESK)):
            yield running


def answers(r: Running) -> list[dict[str, Any]]:
    return [q.params for q in r.api.requests_for("sendMessage", DESK) if q.ok and q.params.get("reply_parameters")]


async def test_an_organisation_made_and_a_requester_added_from_the_desk_group(desk: Running) -> None:
    await TgUser(desk, CUSTOMER, "cs").intake("Nelze se přihlásit", "Od rána chyba 500.", priority="normal")
    async with desk.desk.db.read() as s:
        number = max((await s.execute(select(Ticket.number))).scalars())
    await topic_of(desk, number)

    async def command(text: str, user: int = AGENT) -> str:
        before = len(answers(desk))
        await say(desk, user, text)
        found = answers(desk)[before:]
        assert found, f"no answer to {text}"
        return "\n".join(a["text"] for a in found)

    assert "Organisation Acme &amp; Co created" in await command(f"/org@{BOT_USERNAME} new Acme & Co everybody")
    assert await command("/org new Beta", STRANGER) == translator("pt")._("Only help-desk agents can do this.")
    added = await command(f"/org «Acme & Co» member add #{number} primary")
    assert f"The requester of ticket #{number} now belongs to Acme &amp; Co (role: primary contact)" in added
    shown = await command('/org "Acme & Co"')
    assert shown.startswith("Acme &amp; Co\nSharing: everybody") and "Tickets: 1" in shown
    assert "Not understood: “frobnicate”." in await command('/org "Acme & Co" frobnicate')
    [view] = await desk.desk.services.organisations.all()
    assert (view.name, view.customers, view.tickets) == ("Acme & Co", 1, 1)

    # A change to the ticket draws its card again: the organisation is on it.
    await say(desk, AGENT, f"/claim {number}")
    card = await card_message(desk, number)
    await desk_settled(desk)
    await desk.api.wait_for(lambda: "Organisation: Acme & Co · primary contact" in
                            desk.api.messages[(DESK, card)]["text"], timeout=10)
