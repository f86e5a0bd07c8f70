"""The fake Bot API, exercised through the real python-telegram-bot client.

Where PTB would refuse something client-side, the test talks HTTP to the fake directly; in
PTB 22.8 that never happens for the limits below (text length, callback_data size, command
names): PTB sends them and relies on the server's answer.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from .telegram_api import EntityParseError, FakeTelegramAPI, parse_html

TOKEN = "123:ABC"
USER = 4242


def says(text: str) -> str:
    """A pattern for a BadRequest message: PTB drops "Bad Request: " and applies
    str.capitalize(), so "BUTTON_DATA_INVALID" arrives as "Button_data_invalid"."""
    return "(?i)" + re.escape(text)


@pytest.fixture(autouse=True)
def _timedelta_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without this, PTB 22 warns (PTBDeprecationWarning) whenever a RetryAfter is built.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeTelegramAPI) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=api.api_base_url, base_file_url=api.file_base_url) as client:
        yield client


async def raw_call(
    api: FakeTelegramAPI, method: str, *, token: str = TOKEN, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        async with session.post(api.method_url(method, token), **kwargs) as response:
            return response.status, await response.json()


# --- wiring ---------------------------------------------------------------------------------


async def test_get_me(api: FakeTelegramAPI, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123, True, "helpdesk_test_bot")
    assert me.can_join_groups is True
    # Bot.initialize() (the fixture's async with) already called getMe once.
    assert [r.method for r in api.requests] == ["getMe", "getMe"]
    assert api.requests[0].status == 200


async def test_urls_match_what_ptb_builds(api: FakeTelegramAPI, bot: Bot) -> None:
    assert bot.base_url == f"http://127.0.0.1:{api.port}/bot{TOKEN}"
    assert bot.base_file_url == f"http://127.0.0.1:{api.port}/file/bot{TOKEN}"


async def test_wrong_token_and_unknown_method(api: FakeTelegramAPI) -> None:
    stranger = Bot("123:WRONG", base_url=api.api_base_url)
    with pytest.raises(InvalidToken, match="rejected by the server"):
        await stranger.initialize()
    await stranger.shutdown()
    status, body = await raw_call(api, "getMe", token="123:WRONG")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, body = await raw_call(api, "getMe", token="not-a-token")
    assert status == 404
    status, body = await raw_call(api, "sendCarrierPigeon")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, body = await raw_call(api, "getme")  # method names are case-insensitive
    assert status == 200 and body["ok"] is True


async def test_json_form_and_multipart_bodies(api: FakeTelegramAPI) -> None:
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    status, body = await raw_call(
        api, "sendMessage", json={"chat_id": USER, "text": "json", "reply_markup": markup})
    assert status == 200 and body["result"]["reply_markup"] == markup
    status, body = await raw_call(
        api, "sendMessage", data={"chat_id": str(USER), "text": "form"})
    assert status == 200 and body["result"]["text"] == "form"
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER))
    form.add_field("caption", "<b>multi</b>part")
    form.add_field("parse_mode", "HTML")
    form.add_field("document", b"%PDF-1.4", filename="a.pdf", content_type="application/pdf")
    status, body = await raw_call(api, "sendDocument", data=form)
    assert status == 200
    assert body["result"]["caption"] == "multipart"
    assert body["result"]["document"]["file_name"] == "a.pdf"
    assert [r.params["chat_id"] for r in api.requests] == [USER, USER, USER]
    assert api.requests[0].params["reply_markup"] == markup


# --- sendMessage ----------------------------------------------------------------------------


async def test_send_message_with_valid_html(api: FakeTelegramAPI, bot: Bot) -> None:
    message = await bot.send_message(
        USER, '<b>Ticket #7</b> &amp; <a href="https://example.com/t/7">open</a> a&b',
        parse_mode="HTML")
    assert message.text == "Ticket #7 & open a&b"
    assert message.message_id == 1
    assert message.from_user is not None and message.from_user.id == 123
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        (MessageEntity.BOLD, 0, 9), (MessageEntity.TEXT_LINK, 12, 4)]
    assert message.entities[1].url == "https://example.com/t/7"
    second = await bot.send_message(USER, "again")
    assert second.message_id == 2
    assert [m["text"] for m in api.sent(USER)] == ["Ticket #7 & open a&b", "again"]
    assert api.messages[(USER, 2)]["text"] == "again"


@pytest.mark.parametrize("markup", [
    "<b>unclosed",
    "1 < 2",
    "<b><i>crossed</b></i>",
    "<p>paragraph</p>",
    '<span class="bold">x</span>',
])
async def test_send_message_with_broken_html(
    api: FakeTelegramAPI, bot: Bot, markup: str
) -> None:
    with pytest.raises(BadRequest, match=says("can't parse entities")):
        await bot.send_message(USER, markup, parse_mode="HTML")
    assert api.requests[-1].status == 400
    assert api.requests[-1].response is not None
    assert api.requests[-1].response["description"].startswith(
        "Bad Request: can't parse entities: ")
    assert api.sent(USER) == []


async def test_html_errors_carry_telegram_reasons() -> None:
    with pytest.raises(EntityParseError, match='Unsupported start tag "p" at byte offset 4'):
        parse_html("abc <p>")
    with pytest.raises(EntityParseError, match='byte offset 8, expected "</i>", found "</b>"'):
        parse_html("<b>x<i>y</b></i>")
    with pytest.raises(EntityParseError, match="Unsupported HTML entity at byte offset 2"):
        parse_html("a & b", strict_entities=True)
    assert parse_html("a & b") == ("a & b", [])
    assert parse_html("<pre><code class=\"language-python\">x</code></pre>") == (
        "x", [{"type": "pre", "offset": 0, "length": 1, "language": "python"}])


async def test_text_length_limits(api: FakeTelegramAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=says("message is too long")):
        await bot.send_message(USER, "x" * 4097)
    # The limit applies after entity parsing: markup does not count.
    await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=says("message text is empty")):
        await bot.send_message(USER, " \n ")
    with pytest.raises(BadRequest, match=says("message text is empty")):
        await bot.send_message(USER, "<b></b>", parse_mode="HTML")


async def test_callback_data_is_limited_to_64_bytes(api: FakeTelegramAPI, bot: Bot) -> None:
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="é" * 32)]])
    await bot.send_message(USER, "fits", reply_markup=ok)
    # PTB does not check callback_data length, so the fake's own check answers.
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="é" * 32 + "x")]])
    with pytest.raises(BadRequest, match=says("BUTTON_DATA_INVALID")):
        await bot.send_message(USER, "too long", reply_markup=too_long)
    status, body = await raw_call(api, "sendMessage", json={
        "chat_id": USER, "text": "raw",
        "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "a" * 65}]]},
    })
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    status, body = await raw_call(api, "sendMessage", json={
        "chat_id": USER, "text": "raw",
        "reply_markup": {"inline_keyboard": [[{"text": "just text"}]]},
    })
    assert status == 400 and "Text buttons are not allowed" in body["description"]
    url_button = InlineKeyboardMarkup([[InlineKeyboardButton("docs", url="https://example.com")]])
    sent = await bot.send_message(USER, "link", reply_markup=url_button)
    assert sent.reply_markup == url_button


async def test_unknown_chat_and_blocked_user(api: FakeTelegramAPI, bot: Bot) -> None:
    api.delete_chat(-100500)
    api.block_bot(USER)
    with pytest.raises(BadRequest, match=says("chat not found")):
        await bot.send_message(-100500, "hello")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hello")
    with pytest.raises(BadRequest, match=says("chat not found")):
        await bot.send_message("@nobody_here", "hello")


async def test_reply_to_user_message(api: FakeTelegramAPI, bot: Bot) -> None:
    update = api.user_message(USER, "my printer is on fire")
    incoming = update["message"]["message_id"]
    reply = await bot.send_message(USER, "on it", reply_to_message_id=incoming)
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "my printer is on fire"
    assert reply.message_id == incoming + 1  # one id sequence per chat
    with pytest.raises(BadRequest, match=says("message to be replied not found")):
        await bot.send_message(USER, "?", reply_to_message_id=999)


# --- edits and buttons ----------------------------------------------------------------------


async def test_edits(api: FakeTelegramAPI, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Close", callback_data="close:1")]])
    message = await bot.send_message(USER, "Ticket open", reply_markup=keyboard)
    with pytest.raises(BadRequest, match=says("message is not modified")):
        await bot.edit_message_text(
            "Ticket open", chat_id=USER, message_id=message.message_id, reply_markup=keyboard)
    with pytest.raises(BadRequest, match=says("message to edit not found")):
        await bot.edit_message_text("x", chat_id=USER, message_id=404)
    edited = await bot.edit_message_text(
        "Ticket <i>closed</i>", chat_id=USER, message_id=message.message_id, parse_mode="HTML")
    assert isinstance(edited, type(message)) and edited.text == "Ticket closed"
    # Like Telegram: editing text without reply_markup drops the keyboard.
    assert edited.reply_markup is None
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match=says("message is not modified")):
        await bot.edit_message_reply_markup(chat_id=USER, message_id=message.message_id)
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=message.message_id, reply_markup=keyboard)
    history = api.sent(USER)
    assert [m["text"] for m in history] == ["Ticket open", "Ticket closed", "Ticket closed"]
    assert "reply_markup" in api.messages[(USER, message.message_id)]
    user_msg = api.user_message(USER, "hi")["message"]
    with pytest.raises(BadRequest, match=says("message can't be edited")):
        await bot.edit_message_text("hacked", chat_id=USER, message_id=user_msg["message_id"])


async def test_answer_callback_query(api: FakeTelegramAPI, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    message = await bot.send_message(USER, "Close ticket?", reply_markup=keyboard)
    update = api.press_button(USER, message.message_id, "yes")
    query = update["callback_query"]
    assert query["message"]["message_id"] == message.message_id and query["data"] == "yes"
    with pytest.raises(ValueError):
        api.press_button(USER, message.message_id, "no such button")
    with pytest.raises(BadRequest, match=says("MESSAGE_TOO_LONG")):
        await bot.answer_callback_query(query["id"], text="x" * 201)
    assert await bot.answer_callback_query(query["id"], text="Closed") is True
    assert api.callback_answers[query["id"]] == {"text": "Closed"}
    with pytest.raises(BadRequest, match=says("query is too old")):
        await bot.answer_callback_query(query["id"])  # already answered
    with pytest.raises(BadRequest, match=says("query is too old")):
        await bot.answer_callback_query("1234")


# --- faults and limits ----------------------------------------------------------------------


async def test_fail_next_429_becomes_retry_after(api: FakeTelegramAPI, bot: Bot) -> None:
    api.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "hello")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    assert api.requests[-1].response == {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3}}
    assert (await bot.send_message(USER, "hello")).text == "hello"


async def test_fail_next_scoped_to_a_chat_and_500(api: FakeTelegramAPI, bot: Bot) -> None:
    api.fail_next("sendMessage", status=500, count=2, chat_id=USER)
    await bot.send_message(USER + 1, "other chat is fine")
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(USER, "hello")
    await bot.send_message(USER, "recovered")
    assert [m["text"] for m in api.sent(USER)] == ["recovered"]


async def test_delay_next_times_out_after_sending(api: FakeTelegramAPI, bot: Bot) -> None:
    api.delay_next("sendMessage", 1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "slow", read_timeout=0.2)
    # The message went out although the client gave up: the duplicate-send trap.
    assert [m["text"] for m in api.sent(USER)] == ["slow"]
    api.delay_next("sendMessage", 1.0, processed=False)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "lost", read_timeout=0.2)
    await asyncio.sleep(0.05)  # let the server notice the dropped connection
    assert [m["text"] for m in api.sent(USER)] == ["slow"]


async def test_enforce_limits(bot: Bot, api: FakeTelegramAPI) -> None:
    api.enforce_limits = True
    await bot.send_message(USER, "one")
    with pytest.raises(RetryAfter):
        await bot.send_message(USER, "two")
    await bot.send_message(USER + 1, "another chat is fine")


# --- updates --------------------------------------------------------------------------------


async def test_get_updates_long_polling_and_offset(api: FakeTelegramAPI, bot: Bot) -> None:
    assert await bot.get_updates(timeout=0) == ()
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    # Queue only once the long poll is waiting, to prove it wakes up early.
    await api.wait_for(lambda: len(api.requests_for("getUpdates")) == 2)
    api.user_message(USER, "/start", language_code="de")
    updates = await poll
    assert time.monotonic() - started < 2
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "/start"
    assert message.from_user is not None and message.from_user.language_code == "de"
    assert message.entities[0].type == MessageEntity.BOT_COMMAND
    # Not confirmed yet: delivered again.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]
    # offset = last update_id + 1 confirms it.
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
    assert api.pending_updates == []
    # An empty long poll returns after its timeout.
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 2


async def test_newer_get_updates_terminates_the_waiting_one(
    api: FakeTelegramAPI, bot: Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_for(lambda: api.requests_for("getUpdates"))
    # A second Bot, as in a second bot process: PTB gives getUpdates a one-connection pool.
    async with Bot(TOKEN, base_url=api.api_base_url) as second:
        assert await second.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_group_messages(api: FakeTelegramAPI, bot: Bot) -> None:
    group = -1001234567890
    update = api.user_message(USER, "/new@helpdesk_test_bot printer", chat_id=group,
                              chat_type="supergroup")
    message = Update.de_json(update, bot).effective_message
    assert message is not None and message.chat.type == "supergroup"
    assert message.entities[0].length == len("/new@helpdesk_test_bot")
    reply = await bot.send_message(group, "Ticket created")
    assert reply.chat.id == group and reply.message_id == message.message_id + 1
    with pytest.raises(ValueError):
        api.user_message(USER, "no chat id for a group", chat_type="group")


async def test_webhook_blocks_get_updates(api: FakeTelegramAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=says("secret token contains unallowed characters")):
        await bot.set_webhook("https://helpdesk.example.com/tg", secret_token="not allowed!")
    with pytest.raises(BadRequest, match=says("HTTPS URL must be provided")):
        await bot.set_webhook("http://helpdesk.example.com/tg")
    assert await bot.set_webhook("https://helpdesk.example.com/tg", secret_token="s3cr-et_")
    assert api.webhook_headers() == {"X-Telegram-Bot-Api-Secret-Token": "s3cr-et_"}
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    update = api.user_message(USER, "via webhook")
    assert Update.de_json(update, bot).message.text == "via webhook"  # type: ignore[union-attr]
    info = await bot.get_webhook_info()
    assert info.url == "https://helpdesk.example.com/tg" and info.pending_update_count == 1
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates() == ()


async def test_application_polling_round_trip(api: FakeTelegramAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Close", callback_data="close")]])
        await update.effective_message.reply_html("<b>Welcome</b>", reply_markup=keyboard)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Done")
        await query.edit_message_text("Closed")

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(TOKEN).base_url(api.api_base_url)
        .base_file_url(api.file_base_url).build())
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]
        await app.start()
        try:
            api.user_message(USER, "/start")
            welcome = (await api.wait_for(lambda: api.sent(USER)))[0]
            assert welcome["text"] == "Welcome"
            assert welcome["entities"] == [{"type": "bold", "offset": 0, "length": 7}]
            api.user_message(USER, "hello")
            await api.wait_for(lambda: len(api.sent(USER)) >= 2)
            assert api.sent(USER)[1]["text"] == "echo: hello"
            api.press_button(USER, welcome["message_id"], "close")
            await api.wait_for(lambda: len(api.sent(USER)) >= 3)
            assert api.messages[(USER, welcome["message_id"])]["text"] == "Closed"
            assert list(api.callback_answers.values()) == [{"text": "Done"}]
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()
    assert api.pending_updates == []  # the updater confirmed everything on the way out


# --- files ----------------------------------------------------------------------------------


async def test_get_file_and_download(api: FakeTelegramAPI, bot: Bot) -> None:
    content = b"%PDF-1.7 invoice"
    update = api.user_document(
        USER, file_name="invoice.pdf", mime_type="application/pdf", content=content,
        caption="see attached")
    document = update["message"]["document"]
    assert document["file_size"] == len(content)
    assert api.downloads == []
    telegram_file = await bot.get_file(document["file_id"])
    assert telegram_file.file_path == f"{api.file_base_url}{TOKEN}/documents/file_1.pdf"
    assert bytes(await telegram_file.download_as_bytearray()) == content
    assert [d.file_id for d in api.downloads] == [document["file_id"]]


async def test_big_and_unknown_files(api: FakeTelegramAPI, bot: Bot) -> None:
    huge = api.user_document(
        USER, file_name="dump.zip", mime_type="application/zip", content=b"PK",
        declared_size=25 * 1024 * 1024)["message"]["document"]
    with pytest.raises(BadRequest, match=says("file is too big")):
        await bot.get_file(huge["file_id"])
    with pytest.raises(BadRequest, match=says("invalid file_id")):
        await bot.get_file("nope")
    async with aiohttp.ClientSession() as session:
        url = f"{api.file_base_url}{TOKEN}/documents/file_1.zip"
        async with session.get(url) as response:  # never issued by getFile
            assert response.status == 404
    assert api.downloads == []


async def test_photos_and_documents_from_the_bot(api: FakeTelegramAPI, bot: Bot) -> None:
    photo_update = api.user_photo(USER, content=b"\xff\xd8jpeg")
    sizes = photo_update["message"]["photo"]
    assert len(sizes) > 1 and sizes[-1]["width"] == max(s["width"] for s in sizes)
    resent = await bot.send_photo(USER, sizes[-1]["file_id"], caption="your photo")
    assert resent.caption == "your photo" and resent.photo
    with pytest.raises(BadRequest, match=says("caption is too long")):
        await bot.send_photo(USER, sizes[-1]["file_id"], caption="c" * 1025)
    uploaded = await bot.send_photo(USER, b"\xff\xd8 fresh", filename="chart.jpg")
    assert len(uploaded.photo) == 4
    assert api.files[uploaded.photo[-1].file_id].content == b"\xff\xd8 fresh"
    sent = await bot.send_document(USER, b"report body", filename="report.txt")
    assert sent.document is not None and sent.document.file_name == "report.txt"
    stored = api.files[sent.document.file_id]
    assert stored.content == b"report body" and stored.mime_type == "text/plain"
    with pytest.raises(BadRequest, match=says("type of file mismatch")):
        await bot.send_photo(USER, sent.document.file_id)


# --- commands and chat actions --------------------------------------------------------------


async def test_commands(api: FakeTelegramAPI, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("new", "Open a ticket")])
    await bot.set_my_commands([BotCommand("new", "Ticket eröffnen")], language_code="de")
    assert [c.description for c in await bot.get_my_commands(language_code="de")] == [
        "Ticket eröffnen"]
    assert api.commands_for() == [{"command": "new", "description": "Open a ticket"}]
    with pytest.raises(BadRequest, match=says("BOT_COMMAND_INVALID")):
        await bot.set_my_commands([BotCommand("New", "uppercase is refused")])
    with pytest.raises(BadRequest, match=says("BOT_COMMAND_DESCRIPTION_INVALID")):
        await bot.set_my_commands([BotCommand("new", "d" * 257)])
    assert await bot.delete_my_commands(language_code="de")
    assert await bot.get_my_commands(language_code="de") == ()
    assert await bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest, match=says("wrong parameter action")):
        await bot.send_chat_action(USER, "dancing")
