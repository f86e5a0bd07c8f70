"""The real python-telegram-bot stack against the fake Bale Bot API: a Persian customer on Bale
from the first /start to the rating, with an agent answering from the console desk; Bale beside
Telegram in one process, each customer answered on their own messenger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.console.agent import AgentConsole
from core.domain.model import Status
from core.i18n import translator
from core.storage.models import Customer, Rating
from tests.adapters.bale.conftest import BaleUser, start_bale
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser
from tests.fakes.bale_api import FakeBaleAPI
from tests.fakes.telegram_api import FakeTelegramAPI

FA = translator("fa")


def keys(messages: list[dict[str, Any]]) -> list[str]:
    return [b["callback_data"] for m in messages
            for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def said(api: FakeTelegramAPI, chat: int, text: str) -> bool:
    return any(text in (m.get("text") or "") for m in api.sent(chat))


async def test_a_persian_customer_on_bale_from_start_to_rating(bale_bot: Running) -> None:
    bale, desk = bale_bot.api, bale_bot.desk
    u = BaleUser(bale_bot, 801)
    greeting = await u.say("/start")
    # Bale sends no language_code: Persian is offered first, and the greeting is in it.
    assert u.buttons()[0] == "lang:fa"
    assert greeting and "language_code" not in bale.requests_for("sendMessage", 801)[0].params
    done = await u.intake("خطای ورود", "صفحهٔ ورود خطای ۵۰۰ می‌دهد.")
    text = done[-1]["text"]
    assert "#1001" in text and "تیکت" in text and "۱۴۰۵" in text  # Solar Hijri year
    ticket = await desk.services.queries.get(1001)
    assert ticket.subject == "خطای ورود"
    async with desk.db.read() as s:
        customer = (await s.execute(select(Customer).where(Customer.id == ticket.customer_id))).scalar_one()
    assert (customer.platform, customer.platform_user_id, customer.locale) == ("bale", "801", "fa")

    # An agent answers from the console desk; the customer reads it on Bale.
    console = AgentConsole(desk.services)
    await console.handle("claim 1001", "fa")
    await console.handle("reply 1001 لطفاً مرورگر را به‌روز نمایید.", "fa")
    await bale.wait_for(lambda: said(bale, 801, "لطفاً مرورگر را به‌روز نمایید."), timeout=10)
    await console.handle("status 1001 resolved", "fa")
    await bale.wait_for(lambda: "confirm:1001" in keys(bale.sent(801)), timeout=10)

    # The customer confirms, then rates.
    await u.press("confirm:1001")
    assert (await desk.services.queries.get(1001)).status == Status.CLOSED
    await bale.wait_for(lambda: any(k.startswith("rate:1001:") for k in keys(bale.sent(801))), timeout=10)
    thanks = await u.press("rate:1001:5")
    assert FA._("Thank you for your rating! If you like, write a comment in one message.") in thanks[-1]["text"]
    async with desk.db.read() as s:
        assert (await s.execute(select(Rating.score).where(Rating.ticket_id == ticket.id))).scalar_one() == 5

    # What Bale lacks was never asked of it: no command menu, no webhook, no HTML, no filter.
    lacking = {"setMyCommands", "setWebhook"}
    assert not [r.method for r in bale.requests if r.method in lacking or r.status == 404]
    writes = bale.requests_for("sendMessage") + bale.requests_for("editMessageText")
    assert writes and not [r for r in writes if "parse_mode" in r.params]
    assert not [r for r in bale.requests_for("getUpdates") if "allowed_updates" in r.params]
    assert all(r.ok for r in writes + bale.requests_for("answerCallbackQuery"))


async def test_what_a_bale_customer_types_reaches_them_as_typed(bale_bot: Running) -> None:
    """Bale shows text as sent: nothing is escaped for a parser it does not have."""
    u = BaleUser(bale_bot, 802, "en")
    nasty = "<b>bold</b> & </pre> &amp; 2*3*4"
    await u.say("/start")
    await u.press("lang:en")
    await u.press("dep:technical")
    await u.press("rt:bug")
    await u.say("Tags <b> & </pre>")
    await u.press("pri:low")
    await u.say(nasty)
    await u.press("att:done")
    review = u.sent()[-1]["text"]
    assert nasty in review and "Tags <b> & </pre>" in review and "&lt;" not in review
    # The pressed button's prompt is retired showing the choice, as plain text too.
    edits = bale_bot.api.requests_for("editMessageText", 802)
    assert edits and "✓ English" in edits[0].params["text"] and "parse_mode" not in edits[0].params


async def test_a_file_from_a_bale_customer_is_kept(bale_bot: Running) -> None:
    u = BaleUser(bale_bot, 803)
    await u.say("/start")
    await u.press("lang:fa")
    await u.press("dep:technical")
    await u.press("rt:bug")
    await u.say("خطای نمودار")
    await u.press("pri:low")
    await u.say("تصویر صفحه پیوست است.")
    got = await u.send_document("shot.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "image/png")
    assert "shot.png" in got[0]["text"]
    assert bale_bot.api.downloads and bale_bot.api.downloads[0].file_path in bale_bot.api.requests_for(
        "getFile")[0].response["result"]["file_path"]


@pytest.fixture
async def both(tmp_path: Path) -> AsyncIterator[tuple[Running, FakeBaleAPI]]:
    async with FakeTelegramAPI(token=TOKEN) as tg, FakeBaleAPI() as bale:
        async for running in start_bale(tmp_path, bale, tg):
            yield running, bale


async def test_bale_and_telegram_in_one_process_each_customer_on_their_own(
        both: tuple[Running, FakeBaleAPI]) -> None:
    running, bale = both
    tg, desk = running.api, running.desk
    # The same number on both messengers: two people, two customers.
    on_bale = BaleUser(running, 900, api=bale)
    on_telegram = TgUser(running, 900, "cs")
    await on_bale.intake("خطای ورود", "صفحهٔ ورود باز نمی‌شود.")
    await on_telegram.intake("Nelze se přihlásit", "Od rána chyba 500.")
    first, second = await desk.services.queries.get(1001), await desk.services.queries.get(1002)
    assert first.subject == "خطای ورود" and second.subject == "Nelze se přihlásit"
    async with desk.db.read() as s:
        people = {(c.platform, c.platform_user_id) for c in (await s.execute(select(Customer))).scalars()}
    assert people == {("bale", "900"), ("telegram", "900")}

    console = AgentConsole(desk.services)
    await console.handle("reply 1001 پاسخ ما در بله", "fa")
    await console.handle("reply 1002 Odpověď v Telegramu", "fa")
    await bale.wait_for(lambda: said(bale, 900, "پاسخ ما در بله"), timeout=10)
    await tg.wait_for(lambda: said(tg, 900, "Odpověď v Telegramu"), timeout=10)
    assert not said(bale, 900, "Odpověď v Telegramu") and not said(tg, 900, "پاسخ ما در بله")

    # Telegram keeps what Bale lacks: its command menu and HTML.
    assert tg.requests_for("setMyCommands") and not bale.requests_for("setMyCommands")
    assert any(r.params.get("parse_mode") == "HTML" for r in tg.requests_for("sendMessage", 900))
    assert all(r.ok for r in bale.requests_for("sendMessage") + tg.requests_for("sendMessage"))
