"""The real python-telegram-bot stack against the fake Bot API: intake, files, webhook, HTML."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select

from core.storage.models import Attachment, Ticket
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, start_bot
from tests.core.test_offered_languages import only
from tests.fakes.telegram_api import FakeTelegramAPI

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


async def test_full_intake_in_persian(bot: Running) -> None:
    u = TgUser(bot, 501, "fa")
    await u.say("/start")
    assert u.buttons()[0] == "lang:fa"  # preselected from language_code
    done = await u.intake("خطای ورود", "صفحهٔ ورود خطای ۵۰۰ می‌دهد.")
    text = done[-1]["text"]
    assert "#1001" in text and "تیکت" in text and "۱۴۰۵" in text  # Solar Hijri year
    ticket = await bot.desk.services.queries.get(1001)
    assert ticket.subject == "خطای ورود"


async def test_full_intake_in_czech_with_typed_text(bot: Running) -> None:
    u = TgUser(bot, 502, "cs")
    await u.say("/start")
    await u.press("lang:cs")
    await u.say("Technická podpora")  # typing the label works like the button
    await u.say("3")  # and so does its number
    await u.say("Nelze se přihlásit")
    await u.press("pri:normal")
    await u.say("Od rána chyba 500.")
    await u.press("att:done")
    out = await u.press("rev:submit")
    assert "Váš tiket #1001 byl založen" in out[-1]["text"]
    assert (await bot.desk.services.queries.get(1001)).request_type == "bug"


async def test_buttons_are_retired_after_a_press(bot: Running) -> None:
    u = TgUser(bot, 503)
    await u.say("/start")
    await u.press("lang:en")
    edits = bot.api.requests_for("editMessageText", 503)
    assert edits and "✓ English" in edits[-1].params["text"]
    assert "reply_markup" not in edits[-1].params
    answers = bot.api.requests_for("answerCallbackQuery")
    assert answers and all(r.ok for r in answers)
    # The same old button again (a double tap or an old message) is answered politely.
    prompt = next(m for m in u.sent() if any(b.get("callback_data") == "lang:en"
                  for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row))
    before = len(u.sent())
    await u._processed(bot.api.press_button(503, prompt["message_id"], "lang:en", check_button=False))
    assert all(r.ok for r in bot.api.requests_for("answerCallbackQuery"))
    assert len(u.sent()) > before


async def test_attachment_accepted_and_one_refused_unfetched(bot: Running) -> None:
    u = TgUser(bot, 504)
    await u.say("/start")
    await u.press("lang:en")
    await u.press("dep:technical")
    await u.press("rt:bug")
    await u.say("Chart broken")
    await u.press("pri:low")
    await u.say("See the screenshot")
    ok = await u.send_document("shot.png", PNG, "image/png")
    assert "Received “shot.png”" in ok[0]["text"]
    downloads_before = len(bot.api.downloads)
    big = await u.send_document("dump.zip", b"PK\x03\x04", "application/zip", declared_size=10 * 1024 * 1024 + 1)
    assert "at most 10 MB" in big[0]["text"]
    assert len(bot.api.downloads) == downloads_before  # refused before downloading
    assert not [r for r in bot.api.requests_for("getFile") if r.params.get("file_id") and
                "dump" in str(r.response)]
    await u.press("att:done")
    await u.press("rev:submit")
    async with bot.desk.db.read() as s:
        rows = (await s.execute(select(Attachment))).scalars().all()
    assert [(a.filename, a.mime_type, a.size) for a in rows] == [("shot.png", "image/png", len(PNG))]
    assert Path(rows[0].stored_path).read_bytes() == PNG


async def test_user_html_reaches_telegram_as_visible_text(bot: Running) -> None:
    u = TgUser(bot, 505)
    nasty = "<b>bold</b> & </pre> <a href='x'>link</a> &amp;"
    await u.say("/start")
    await u.press("lang:en")
    await u.press("dep:technical")
    await u.press("rt:bug")
    await u.say("Tags <b> & </pre>")
    await u.press("pri:low")
    await u.say(nasty)
    await u.press("att:done")
    review = u.sent()[-1]["text"]
    assert nasty in review and "Tags <b> & </pre>" in review
    assert all(r.ok for r in bot.api.requests_for("sendMessage")), "a parse error reached Telegram"


async def test_group_chats_get_a_hint(bot: Running) -> None:
    update = bot.api.user_message(506, "/new", chat_id=-100777, chat_type="supergroup")
    await TgUser(bot, 506)._processed(update)
    hint = bot.api.sent(-100777)[-1]["text"]
    assert "private chat" in hint
    async with bot.desk.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(Ticket))).scalar_one() == 0


async def test_commands_registered_per_language(bot: Running) -> None:
    for lang, word in (("fa", "تیکت"), ("cs", "tiket"), ("ru", "тикет"), ("pt", "chamado"), ("en", "ticket")):
        commands = bot.api.commands_for(lang)
        assert [c["command"] for c in commands][:4] == ["new", "tickets", "ticket", "reply"]
        assert any(word in c["description"].lower() for c in commands), lang
    assert bot.api.commands_for("")  # the default menu too


async def test_only_the_offered_languages_are_offered(tmp_path: Path) -> None:
    config = tmp_path / "offered.toml"
    config.write_text(only(["fa", "cs"], fast_config(tmp_path).read_text(encoding="utf-8")), encoding="utf-8")
    async with FakeTelegramAPI(token=TOKEN) as api:
        # A menu left from an earlier deployment that offered Russian.
        api.commands[('{"type": "default"}', "ru")] = [{"command": "new", "description": "Новый тикет"}]
        async for bot in start_bot(tmp_path, api, HELPDESK_CONFIG=str(config)):
            assert [bool(api.commands_for(lang)) for lang in ("", "fa", "cs", "ru", "en", "pt")] == [
                True, True, True, False, False, False]
            assert "language" in [c["command"] for c in api.commands_for("")]
            assert any("تیکت" in c["description"] for c in api.commands_for(""))  # the default: Persian
            u = TgUser(bot, 520, "cs")
            greeting = await u.say("/start")
            assert "podpora" in greeting[0]["text"].lower() and u.buttons() == ["lang:cs", "lang:fa"]
            chosen = await u.press("lang:fa")
            assert any("پشتیبانی" in m["text"] for m in chosen)  # greeted in the chosen language
            assert all(b.startswith("dep:") or b == "nav:cancel" for b in u.buttons())
            english = TgUser(bot, 521, "en")
            await english.say("/start")
            assert english.buttons() == ["lang:fa", "lang:cs"]


async def test_redelivered_update_is_handled_once(bot: Running) -> None:
    u = TgUser(bot, 507)
    await u.say("/start")
    await u.press("lang:en")
    await u.say("/help")
    count = len(u.sent())
    update = bot.api.user_message(507, "/help", update_id=bot.api._next_update_id + 1000)
    await u._processed(update)
    assert len(u.sent()) == count + 1
    bot.api.queue_update(dict(update))  # Telegram delivers the same update again
    bot.api.user_message(507, "/help")  # and then a new one, to know the first was consumed
    await asyncio.sleep(0)
    await bot.api.wait_for(lambda: len(u.sent()) >= count + 2, timeout=5)
    await asyncio.sleep(0.3)
    assert len(u.sent()) == count + 2


async def test_an_update_in_hand_is_not_fetched_again_while_it_is_handled(bot: Running) -> None:
    # Telegram sends an unconfirmed update again on every call: asking again straight after
    # fetching it would only bring it back (a getUpdates per update at a steady trickle).
    u = TgUser(bot, 508)
    await u.say("/start")
    update = bot.api.user_message(508, "/help")
    await u._processed(update)
    await bot.api.wait_for(lambda: _fetched(bot, update["update_id"]) and not bot.api.pending_updates)
    assert len(_fetched(bot, update["update_id"])) == 1


async def test_users_are_handled_side_by_side_and_each_in_order(bot: Running) -> None:
    """The concurrency is our poller's (a task per update; PTB's update queue is not used): a
    user whose reply hangs holds up nobody else, and their own next update waits its turn."""
    slow, quick = TgUser(bot, 801), TgUser(bot, 802)
    bot.api.delay_next("sendMessage", 3.0, chat_id=801)  # sent at once, answered late (not timed out)
    first = str(bot.api.user_message(801, "/start")["update_id"])
    second = str(bot.api.user_message(801, "/help")["update_id"])
    await quick.say("/start")
    assert quick.sent()
    assert await slow.log.state("telegram", first) != "done"  # still waiting for its answer
    # Read the second before the first: the first may finish between two reads (and the second
    # right after it), but a second seen done with the first not yet done is out of order.
    while True:
        second_done = await slow.log.state("telegram", second) == "done"
        first_done = await slow.log.state("telegram", first) == "done"
        assert first_done or not second_done
        if first_done:
            break
        await asyncio.sleep(0.01)
    await slow._processed({"update_id": int(second)})


def _fetched(bot: Running, update_id: int) -> list[Any]:
    """The getUpdates answers that held the update."""
    return [r for r in bot.api.requests_for("getUpdates")
            if any(u["update_id"] == update_id for u in (r.response or {}).get("result", []))]


async def test_webhook_mode(tmp_path: Path) -> None:
    async with FakeTelegramAPI(token=TOKEN) as api:
        async for running in start_bot(tmp_path, api, TELEGRAM_WEBHOOK_URL="https://bot.example.com/telegram/webhook"):
            assert api.webhook is not None and api.webhook.url == "https://bot.example.com/telegram/webhook"
            assert TOKEN not in api.webhook.url and api.webhook.secret_token
            assert not api.requests_for("getUpdates")
            url = running.base + "/telegram/webhook"
            update = api.user_message(601, "/start", update_id=9001)
            async with aiohttp.ClientSession() as http:
                for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                    async with http.post(url, json=update, headers=headers) as resp:
                        assert resp.status == 401
                assert not api.sent(601)
                async with running.desk.db.read() as s:
                    from core.storage.models import Customer, InboundEvent
                    assert (await s.execute(select(func.count()).select_from(Customer))).scalar_one() == 0
                    assert (await s.execute(select(func.count()).select_from(InboundEvent))).scalar_one() == 0
                for _ in range(2):  # the same update twice: processed once
                    async with http.post(url, json=update, headers=api.webhook_headers()) as resp:
                        assert resp.status == 200
            greetings = [m for m in api.sent(601) if "Please choose your language" in m["text"]]
            assert len(greetings) == 1
            # A failure while handling answers 500, so Telegram sends the update again; nothing
            # of the failed attempt stays, and the second attempt is handled in full.
            conversation = running.desk.conversation
            failures = _fail_once(conversation)
            pressed = api.press_button(601, greetings[0]["message_id"], "lang:cs")
            async with aiohttp.ClientSession() as http:
                async with http.post(url, json=pressed, headers=api.webhook_headers()) as resp:
                    assert resp.status == 500
                async with running.desk.db.read() as s:
                    from core.storage.models import InboundEvent
                    assert (await s.execute(select(func.count()).select_from(InboundEvent).where(
                        InboundEvent.event_id == str(pressed["update_id"])))).scalar_one() == 0
                async with http.post(url, json=pressed, headers=api.webhook_headers()) as resp:
                    assert resp.status == 200
            assert failures and any("Kterému oddělení" in m["text"] or "oddělení" in m["text"] for m in api.sent(601))


async def test_a_polled_update_that_fails_is_tried_again_not_lost(bot: Running) -> None:
    u = TgUser(bot, 508)
    await u.say("/start")
    conversation = bot.desk.conversation
    failures = _fail_once(conversation)
    greeting = next(m for m in bot.api.sent(508) if "Please choose your language" in m["text"])
    bot.api.press_button(508, greeting["message_id"], "lang:en")
    # Not confirmed after the failure: fetched again a moment later and handled in full, once.
    await bot.api.wait_for(lambda: any("department" in m.get("text", "") for m in bot.api.sent(508)), timeout=10)
    await asyncio.sleep(1.5)
    assert failures and sum("department" in m.get("text", "") for m in bot.api.sent(508)) == 1


async def test_a_reply_that_meets_server_errors_is_retried_and_arrives_once(bot: Running) -> None:
    u = TgUser(bot, 509)
    bot.api.fail_next("sendMessage", status=500, count=2, chat_id=509)  # passes within the retries
    await u.say("/start")
    texts = [m["text"] for m in u.sent()]
    assert sum("Please choose your language" in t for t in texts) == 1 and len(texts) == 2


async def test_a_reply_that_telegram_keeps_refusing_is_sent_by_the_redelivery(bot: Running) -> None:
    u = TgUser(bot, 510)
    await u.say("/start")
    greeting = next(m for m in u.sent() if "Please choose your language" in m["text"])
    # More 500s than the retries of one reply: the update stays unconfirmed, and when Telegram
    # delivers it again its kept replies are sent; the press is not handled a second time.
    bot.api.fail_next("sendMessage", status=500, count=4, chat_id=510)
    bot.api.press_button(510, greeting["message_id"], "lang:cs")
    await bot.api.wait_for(lambda: any("oddělení" in m.get("text", "") for m in u.sent()), timeout=20)
    await asyncio.sleep(1.0)
    assert sum("oddělení" in m.get("text", "") for m in u.sent()) == 1
    async with bot.desk.db.read() as s:
        from core.storage.models import Customer
        assert (await s.execute(select(Customer.locale).where(Customer.platform_user_id == "510"))).scalar_one() == "cs"


def _fail_once(conversation) -> list[object]:  # type: ignore[no-untyped-def]
    """Make the next event's handling fail (as a lost database would); the events that failed."""
    real, failures = conversation.handle, []

    async def failing_once(event):  # type: ignore[no-untyped-def]
        if not failures:
            failures.append(event)
            raise RuntimeError("database went away")
        return await real(event)

    conversation.handle = failing_once
    return failures
