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
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
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
from .telegram_forum import most_in_window as forum_most_in_window

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


# --- supergroups with topics ----------------------------------------------------------------

GROUP = -1001234567891
AGENT = 5151
BOSS = 5252
STRANGER = 6161


@pytest.fixture
def desk(api: FakeTelegramAPI) -> FakeTelegramAPI:
    """A forum where the bot may manage topics, with an owner, an admin and an agent."""
    api.add_user(AGENT, first_name="Olga", language_code="ru", username="olga")
    api.add_forum(GROUP, title="Support desk", members={
        BOSS: "creator", AGENT: "member", 7070: "administrator"})
    return api


async def test_get_chat_of_a_forum_and_others(desk: FakeTelegramAPI, bot: Bot) -> None:
    chat = await bot.get_chat(GROUP)
    assert (chat.id, chat.type, chat.title, chat.is_forum) == (
        GROUP, "supergroup", "Support desk", True)
    assert chat.permissions is not None and chat.permissions.can_manage_topics is False
    desk.add_forum(-1009999999999, title="Plain", is_forum=False)
    plain = await bot.get_chat(-1009999999999)
    assert plain.type == "supergroup" and not plain.is_forum
    desk.user_message(USER, "hello", first_name="Ana")
    private = await bot.get_chat(USER)
    assert (private.type, private.first_name) == ("private", "Ana")
    with pytest.raises(BadRequest, match=says("chat not found")):
        await bot.get_chat(-1005555555555)
    desk.set_is_forum(GROUP, False)
    assert not (await bot.get_chat(GROUP)).is_forum


async def test_get_chat_member_for_every_status(desk: FakeTelegramAPI, bot: Bot) -> None:
    for user_id, status in ((8001, "restricted"), (8002, "left"), (8003, "kicked")):
        desk.set_member(GROUP, user_id, status)
    desk.user_message(STRANGER, "hi")  # met in private, never in the group
    expected = {
        BOSS: ChatMemberOwner, 7070: ChatMemberAdministrator, AGENT: ChatMemberMember,
        8001: ChatMemberRestricted, 8002: ChatMemberLeft, 8003: ChatMemberBanned,
        STRANGER: ChatMemberLeft,
    }
    for user_id, kind in expected.items():
        member = await bot.get_chat_member(GROUP, user_id)
        assert type(member) is kind, (user_id, member)
        assert member.user.id == user_id
    agent = await bot.get_chat_member(GROUP, AGENT)
    assert (agent.user.first_name, agent.user.language_code) == ("Olga", "ru")
    admin = await bot.get_chat_member(GROUP, 7070)
    assert isinstance(admin, ChatMemberAdministrator) and admin.can_manage_topics
    restricted = await bot.get_chat_member(GROUP, 8001)
    assert isinstance(restricted, ChatMemberRestricted) and not restricted.can_send_messages
    me = await bot.get_chat_member(GROUP, 123)
    assert isinstance(me, ChatMemberAdministrator)
    assert (me.user.is_bot, me.can_manage_topics, me.can_delete_messages) == (True, True, True)
    with pytest.raises(BadRequest, match=says("user not found")):
        await bot.get_chat_member(GROUP, 999_999)  # the bot never met this user
    desk.set_member(GROUP, AGENT, "left")
    assert isinstance(await bot.get_chat_member(GROUP, AGENT), ChatMemberLeft)
    desk.set_bot_rights(GROUP, can_manage_topics=False)
    me = await bot.get_chat_member(GROUP, 123)
    assert isinstance(me, ChatMemberAdministrator)
    assert (me.can_manage_topics, me.can_delete_messages) == (False, True)


async def test_get_chat_administrators(desk: FakeTelegramAPI, bot: Bot) -> None:
    admins = await bot.get_chat_administrators(GROUP)
    assert [(a.user.id, a.status) for a in admins] == [
        (BOSS, "creator"), (123, "administrator"), (7070, "administrator")]
    with pytest.raises(BadRequest, match=says("there are no administrators in the private chat")):
        await bot.get_chat_administrators(USER)


async def test_create_forum_topic(desk: FakeTelegramAPI, bot: Bot) -> None:
    topic = await bot.create_forum_topic(GROUP, "🆕 #1042 · Cannot log in")
    assert topic.name == "🆕 #1042 · Cannot log in" and topic.message_thread_id > 1
    assert topic.icon_color in (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
    [created] = desk.topic_messages(GROUP, topic.message_thread_id)
    assert created["message_id"] == created["message_thread_id"] == topic.message_thread_id
    assert created["forum_topic_created"] == {"name": topic.name, "icon_color": topic.icon_color}
    assert created["from"]["id"] == 123 and created["is_topic_message"] is True
    [record] = desk.topics(GROUP)
    assert (record.thread_id, record.name, record.closed, record.deleted, record.names) == (
        topic.message_thread_id, topic.name, False, False, [topic.name])
    assert record.creator_id == 123
    blue = await bot.create_forum_topic(GROUP, "blue", icon_color=0x6FB9F0, icon_custom_emoji_id="5312")
    assert (blue.icon_color, blue.icon_custom_emoji_id) == (0x6FB9F0, "5312")
    assert blue.message_thread_id > topic.message_thread_id
    assert desk.sent(GROUP) == []  # service messages are not the bot's sends


async def test_topic_names_are_cleaned_like_telegram(desk: FakeTelegramAPI, bot: Bot) -> None:
    # Telegram does not refuse a long name: it cuts it to 128 characters, then collapses runs of
    # spaces and newlines, so what is kept may be shorter than 128.
    long = await bot.create_forum_topic(GROUP, "  #7 ·\n\n Printer   " + "é" * 200)
    assert long.name == "#7 · Printer " + "é" * (128 - len("#7 ·\n\n Printer   "))
    assert len(long.name) == 124
    assert desk.requests_for("createForumTopic")[-1].params["name"].startswith("  #7")
    for empty in ("", "   ", "\u200b\n"):
        with pytest.raises(BadRequest, match=says("title must be non-empty")):
            await bot.create_forum_topic(GROUP, empty)
    assert len(desk.topics(GROUP)) == 1
    desk.strict_topic_names = True
    with pytest.raises(BadRequest, match="longer than 128"):
        await bot.create_forum_topic(GROUP, "x" * 129)
    assert (await bot.create_forum_topic(GROUP, "x" * 128)).name == "x" * 128


async def test_create_forum_topic_refusals(desk: FakeTelegramAPI, bot: Bot) -> None:
    desk.add_forum(-1008888888888, is_forum=False)
    for chat_id in (-1008888888888, USER):
        with pytest.raises(BadRequest, match=says("the chat is not a forum")):
            await bot.create_forum_topic(chat_id, "ticket")
    desk.set_bot_rights(GROUP, can_manage_topics=False)
    with pytest.raises(BadRequest, match=says("not enough rights to create a topic")):
        await bot.create_forum_topic(GROUP, "ticket")
    desk.set_bot_rights(GROUP, status="member")
    with pytest.raises(BadRequest, match=says("not enough rights to create a topic")):
        await bot.create_forum_topic(GROUP, "ticket")
    desk.add_forum(-1007777777777, bot_status="member", members_can_create_topics=True)
    assert (await bot.create_forum_topic(-1007777777777, "members may")).name == "members may"
    desk.set_bot_rights(GROUP, status="kicked")
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.create_forum_topic(GROUP, "ticket")
    desk.set_bot_rights(GROUP, status="left")
    with pytest.raises(Forbidden, match="bot is not a member of the supergroup chat"):
        await bot.send_message(GROUP, "hello")
    assert desk.topics(GROUP) == []


async def test_sending_into_a_topic(desk: FakeTelegramAPI, bot: Bot) -> None:
    topic = await bot.create_forum_topic(GROUP, "#1 · Printer")
    thread = topic.message_thread_id
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Claim", callback_data="ag:claim:1")]])
    card = await bot.send_message(GROUP, "Ticket #1", message_thread_id=thread, reply_markup=keyboard)
    assert (card.message_thread_id, card.is_topic_message) == (thread, True)
    assert card.reply_to_message is not None
    assert card.reply_to_message.forum_topic_created is not None
    assert card.reply_to_message.message_id == thread
    document = await bot.send_document(GROUP, b"log", filename="log.txt", message_thread_id=thread)
    photo = await bot.send_photo(GROUP, b"\xff\xd8jpeg", message_thread_id=thread, caption="screen")
    assert document.message_thread_id == photo.message_thread_id == thread
    # A reply to a topic message lands in that topic without message_thread_id.
    reply = await bot.send_message(GROUP, "see above", reply_to_message_id=card.message_id)
    assert reply.message_thread_id == thread and reply.reply_to_message.message_id == card.message_id
    general = await bot.send_message(GROUP, "/queue is empty")
    assert general.message_thread_id is None and not general.is_topic_message
    ids = [m["message_id"] for m in desk.topic_messages(GROUP, thread)]
    assert ids == [thread, card.message_id, document.message_id, photo.message_id, reply.message_id]
    assert [m["message_id"] for m in desk.sent(GROUP)] == ids[1:] + [general.message_id]
    assert await bot.send_chat_action(GROUP, "typing", message_thread_id=thread)
    for unknown in (thread + 100, general.message_id):
        with pytest.raises(BadRequest, match=says("message thread not found")):
            await bot.send_message(GROUP, "lost", message_thread_id=unknown)
    with pytest.raises(BadRequest, match=says("message thread not found")):
        await bot.send_message(USER, "no topics here", message_thread_id=thread)


async def test_deleted_topic(desk: FakeTelegramAPI, bot: Bot) -> None:
    first = (await bot.create_forum_topic(GROUP, "first")).message_thread_id
    second = (await bot.create_forum_topic(GROUP, "second")).message_thread_id
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Claim", callback_data="claim")]])
    card = await bot.send_message(GROUP, "card", message_thread_id=first, reply_markup=keyboard)
    other = await bot.send_message(GROUP, "other card", message_thread_id=second)
    desk.user_message(AGENT, "on it", chat_id=GROUP, message_thread_id=first)
    desk.delete_topic(GROUP, first)  # by hand, in a client
    assert desk.topic_messages(GROUP, first) == []
    assert [m["message_id"] for m in desk.topic_messages(GROUP, second)] == [second, other.message_id]
    assert [(t.thread_id, t.deleted) for t in desk.topics(GROUP)] == [(first, True), (second, False)]
    for send in (
        bot.send_message(GROUP, "reply", message_thread_id=first),
        bot.send_document(GROUP, b"x", filename="x.txt", message_thread_id=first),
        bot.send_photo(GROUP, b"\xff\xd8", message_thread_id=first),
    ):
        with pytest.raises(BadRequest, match=says("message thread not found")):
            await send
    with pytest.raises(BadRequest, match=says("message to edit not found")):
        await bot.edit_message_text("card v2", chat_id=GROUP, message_id=card.message_id)
    with pytest.raises(BadRequest, match=says("message to edit not found")):
        await bot.edit_message_reply_markup(chat_id=GROUP, message_id=card.message_id)
    for manage in (
        bot.edit_forum_topic(GROUP, first, name="renamed"),
        bot.close_forum_topic(GROUP, first),
        bot.reopen_forum_topic(GROUP, first),
        bot.delete_forum_topic(GROUP, first),
    ):
        with pytest.raises(BadRequest, match=says("TOPIC_ID_INVALID")):
            await manage
    with pytest.raises(ValueError):
        desk.press_button(AGENT, card.message_id, "claim", chat_id=GROUP)
    with pytest.raises(ValueError):
        desk.user_message(AGENT, "too late", chat_id=GROUP, message_thread_id=first)
    with pytest.raises(ValueError):
        desk.delete_topic(GROUP, first)
    # The bot deletes the other one itself, messages and all.
    assert await bot.delete_forum_topic(GROUP, second)
    assert desk.topic_messages(GROUP, second) == [] and desk.topic(GROUP, second).deleted
    with pytest.raises(BadRequest, match=says("message thread not found")):
        await bot.send_message(GROUP, "gone", message_thread_id=second)
    # A recreated topic gets a new id; the old one stays gone.
    again = await bot.create_forum_topic(GROUP, "first")
    assert again.message_thread_id not in (first, second)


async def test_close_and_reopen_topic(desk: FakeTelegramAPI, bot: Bot) -> None:
    thread = (await bot.create_forum_topic(GROUP, "#3")).message_thread_id
    assert await bot.close_forum_topic(GROUP, thread)
    assert desk.topic(GROUP, thread).closed
    with pytest.raises(BadRequest, match=says("TOPIC_NOT_MODIFIED")):
        await bot.close_forum_topic(GROUP, thread)
    # An administrator that may manage topics still writes in a closed topic.
    assert (await bot.send_message(GROUP, "closed note", message_thread_id=thread)).message_thread_id
    with pytest.raises(ValueError, match="closed"):
        desk.user_message(AGENT, "can I?", chat_id=GROUP, message_thread_id=thread)
    desk.user_message(7070, "admins can", chat_id=GROUP, message_thread_id=thread)
    desk.set_bot_rights(GROUP, can_manage_topics=False)
    with pytest.raises(BadRequest, match=says("TOPIC_CLOSED")):
        await bot.send_message(GROUP, "now refused", message_thread_id=thread)
    with pytest.raises(BadRequest, match=says("TOPIC_CLOSED")):
        await bot.send_document(GROUP, b"x", filename="x.txt", message_thread_id=thread)
    # The bot created the topic, so it may still reopen it without the right.
    assert await bot.reopen_forum_topic(GROUP, thread)
    with pytest.raises(BadRequest, match=says("TOPIC_NOT_MODIFIED")):
        await bot.reopen_forum_topic(GROUP, thread)
    assert (await bot.send_message(GROUP, "open again", message_thread_id=thread)).message_id
    service = [next(k for k in m if k.startswith("forum_topic_"))
               for m in desk.topic_messages(GROUP, thread) if "text" not in m]
    assert service == ["forum_topic_created", "forum_topic_closed", "forum_topic_reopened"]


async def test_edit_forum_topic(desk: FakeTelegramAPI, bot: Bot) -> None:
    thread = (await bot.create_forum_topic(GROUP, "🆕 #4 · VPN")).message_thread_id
    assert await bot.edit_forum_topic(GROUP, thread, name="🔧 #4 · VPN")
    with pytest.raises(BadRequest, match=says("TOPIC_NOT_MODIFIED")):
        await bot.edit_forum_topic(GROUP, thread, name="🔧 #4 · VPN")
    with pytest.raises(BadRequest, match=says("TOPIC_NOT_MODIFIED")):
        await bot.edit_forum_topic(GROUP, thread, name="  🔧 #4 ·   VPN ")  # the same, cleaned
    with pytest.raises(BadRequest, match=says("title must be non-empty")):
        await bot.edit_forum_topic(GROUP, thread, name="   ")
    assert await bot.edit_forum_topic(GROUP, thread)  # nothing asked, nothing done
    assert await bot.edit_forum_topic(GROUP, thread, icon_custom_emoji_id="5434")
    await bot.close_forum_topic(GROUP, thread)
    assert await bot.edit_forum_topic(GROUP, thread, name="✅ #4 · VPN")  # closed topics too
    record = desk.topic(GROUP, thread)
    assert record.names == ["🆕 #4 · VPN", "🔧 #4 · VPN", "✅ #4 · VPN"]
    assert (record.name, record.icon_custom_emoji_id) == ("✅ #4 · VPN", "5434")
    edits = [m["forum_topic_edited"] for m in desk.topic_messages(GROUP, thread)
             if "forum_topic_edited" in m]
    assert edits == [{"name": "🔧 #4 · VPN"}, {"icon_custom_emoji_id": "5434"}, {"name": "✅ #4 · VPN"}]
    with pytest.raises(BadRequest, match=says("invalid message thread identifier specified")):
        await bot.edit_forum_topic(GROUP, 0, name="x")
    with pytest.raises(BadRequest, match=says("TOPIC_ID_INVALID")):
        await bot.edit_forum_topic(GROUP, thread + 50, name="x")


async def test_managing_topics_needs_rights(desk: FakeTelegramAPI, bot: Bot) -> None:
    own = (await bot.create_forum_topic(GROUP, "the bot's")).message_thread_id
    theirs = desk.create_topic(GROUP, "a person's", user_id=BOSS).thread_id
    desk.set_bot_rights(GROUP, can_manage_topics=False, can_delete_messages=False)
    with pytest.raises(BadRequest, match=says("not enough rights to edit the topic")):
        await bot.edit_forum_topic(GROUP, theirs, name="mine now")
    with pytest.raises(BadRequest, match=says("not enough rights to close or open the topic")):
        await bot.close_forum_topic(GROUP, theirs)
    with pytest.raises(BadRequest, match=says("not enough rights to delete the topic")):
        await bot.delete_forum_topic(GROUP, theirs)
    with pytest.raises(BadRequest, match=says("CHAT_ADMIN_REQUIRED")):
        await bot.delete_forum_topic(GROUP, own)
    # The creator of a topic may edit, close and reopen it without the right.
    assert await bot.edit_forum_topic(GROUP, own, name="still the bot's")
    assert await bot.close_forum_topic(GROUP, own)
    assert await bot.reopen_forum_topic(GROUP, own)
    desk.close_topic(GROUP, theirs, user_id=BOSS)
    with pytest.raises(BadRequest, match=says("not enough rights to close or open the topic")):
        await bot.reopen_forum_topic(GROUP, theirs)
    desk.set_bot_rights(GROUP, can_manage_topics=True, can_delete_messages=True)
    assert await bot.reopen_forum_topic(GROUP, theirs)
    assert await bot.delete_forum_topic(GROUP, theirs)
    desk.add_forum(-1008888888888, is_forum=False)
    for manage in (
        bot.edit_forum_topic(-1008888888888, own, name="x"),
        bot.close_forum_topic(-1008888888888, own),
        bot.reopen_forum_topic(-1008888888888, own),
        bot.delete_forum_topic(-1008888888888, own),
    ):
        with pytest.raises(BadRequest, match=says("the chat is not a forum")):
            await manage


async def test_people_act_on_topics(desk: FakeTelegramAPI, bot: Bot) -> None:
    created = desk.create_topic(GROUP, "asked by hand", user_id=BOSS)
    update = Update.de_json(desk.pending_updates[-1], bot)
    assert update.message is not None and update.message.forum_topic_created is not None
    assert update.message.message_thread_id == created.thread_id
    assert update.message.from_user is not None and update.message.from_user.id == BOSS
    closed = Update.de_json(desk.close_topic(GROUP, created.thread_id, user_id=BOSS), bot)
    assert closed.message is not None and closed.message.forum_topic_closed is not None
    assert desk.topic(GROUP, created.thread_id).closed
    with pytest.raises(ValueError):
        desk.close_topic(GROUP, created.thread_id, user_id=BOSS)
    reopened = Update.de_json(desk.reopen_topic(GROUP, created.thread_id, user_id=BOSS), bot)
    assert reopened.message is not None and reopened.message.forum_topic_reopened is not None
    with pytest.raises(ValueError):
        desk.create_topic(-1005555555555, "no such forum", user_id=BOSS)


async def test_group_messages_from_members(desk: FakeTelegramAPI, bot: Bot) -> None:
    thread = (await bot.create_forum_topic(GROUP, "#5")).message_thread_id
    card = await bot.send_message(GROUP, "card", message_thread_id=thread)
    said = Update.de_json(
        desk.user_message(AGENT, "/note checked the logs", chat_id=GROUP, message_thread_id=thread), bot)
    message = said.message
    assert message is not None and message.chat.is_forum and message.chat.type == "supergroup"
    assert (message.message_thread_id, message.is_topic_message) == (thread, True)
    assert message.reply_to_message is not None and message.reply_to_message.forum_topic_created
    assert message.from_user is not None and message.from_user.language_code == "ru"  # as added
    assert message.entities[0].type == MessageEntity.BOT_COMMAND
    answer = Update.de_json(desk.user_message(
        AGENT, "replying to the card", chat_id=GROUP, reply_to_message_id=card.message_id), bot)
    assert answer.message is not None and answer.message.message_thread_id == thread
    assert answer.message.reply_to_message is not None
    assert answer.message.reply_to_message.message_id == card.message_id
    doc = desk.user_document(AGENT, chat_id=GROUP, message_thread_id=thread, file_name="a.pdf",
                             mime_type="application/pdf", content=b"%PDF")["message"]
    pic = desk.user_photo(AGENT, chat_id=GROUP, message_thread_id=thread, content=b"\xff\xd8")["message"]
    for sent in (doc, pic):
        assert (sent["message_thread_id"], sent["is_topic_message"]) == (thread, True)
        assert sent["reply_to_message"]["message_id"] == thread
    general = desk.user_message(AGENT, "/queue", chat_id=GROUP)["message"]
    assert "message_thread_id" not in general and "is_topic_message" not in general
    assert "reply_to_message" not in general
    in_topic = [m["message_id"] for m in desk.topic_messages(GROUP, thread)]
    assert in_topic[-4:] == [message.message_id, answer.message.message_id, doc["message_id"],
                             pic["message_id"]]
    with pytest.raises(ValueError):
        desk.user_message(AGENT, "nowhere", chat_id=GROUP, message_thread_id=thread + 100)


async def test_member_edits_their_message(desk: FakeTelegramAPI, bot: Bot) -> None:
    thread = (await bot.create_forum_topic(GROUP, "#6")).message_thread_id
    original = desk.user_message(AGENT, "helo", chat_id=GROUP, message_thread_id=thread)["message"]
    edit = desk.user_edit(AGENT, original["message_id"], chat_id=GROUP, text="hello")
    edited = Update.de_json(edit, bot).edited_message
    assert edited is not None and edited.text == "hello" and edited.edit_date is not None
    assert edited.message_id == original["message_id"] and edited.message_thread_id == thread
    assert desk.messages[(GROUP, original["message_id"])]["text"] == "hello"
    with pytest.raises(ValueError):
        desk.user_edit(BOSS, original["message_id"], chat_id=GROUP, text="not theirs")
    photo = desk.user_photo(AGENT, chat_id=GROUP, content=b"\xff\xd8", caption="old")["message"]
    recaptioned = desk.user_edit(AGENT, photo["message_id"], chat_id=GROUP, caption="new")
    assert recaptioned["edited_message"]["caption"] == "new"
    # allowed_updates decides whether edits are delivered.
    delivered = await bot.get_updates(timeout=0, allowed_updates=["message", "edited_message"])
    assert [bool(u.edited_message) for u in delivered] == [False, True, False, True]
    desk.user_edit(AGENT, original["message_id"], chat_id=GROUP, text="hello again")
    last = delivered[-1].update_id
    assert [u.message.text for u in await bot.get_updates(  # type: ignore[union-attr]
        offset=last + 1, timeout=0, allowed_updates=["message"])] == []
    assert desk.pending_updates == []


async def test_anyone_presses_a_button_in_the_group(desk: FakeTelegramAPI, bot: Bot) -> None:
    thread = (await bot.create_forum_topic(GROUP, "#8")).message_thread_id
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Claim", callback_data="ag:claim:8")]])
    card = await bot.send_message(GROUP, "card", message_thread_id=thread, reply_markup=keyboard)
    for presser in (AGENT, STRANGER):
        query = Update.de_json(
            desk.press_button(presser, card.message_id, "ag:claim:8", chat_id=GROUP), bot).callback_query
        assert query is not None and query.from_user.id == presser
        assert query.message is not None and query.message.chat.id == GROUP
        assert query.message.message_thread_id == thread  # type: ignore[union-attr]
        assert await bot.answer_callback_query(query.id, text="Not an agent", show_alert=True)
    assert (await bot.get_chat_member(GROUP, STRANGER)).status == "left"


async def test_group_limit_counts_every_write(bot: Bot, api: FakeTelegramAPI) -> None:
    api.add_forum(GROUP)
    api.enforce_limits = True
    api.group_limit = (4, 30.0)
    thread = (await bot.create_forum_topic(GROUP, "#9")).message_thread_id
    card = await bot.send_message(GROUP, "card", message_thread_id=thread)
    await bot.edit_message_text("card v2", chat_id=GROUP, message_id=card.message_id)
    await bot.edit_forum_topic(GROUP, thread, name="#9 claimed")
    with pytest.raises(RetryAfter) as caught:
        await bot.close_forum_topic(GROUP, thread)
    retry_after = caught.value.retry_after
    assert isinstance(retry_after, dtm.timedelta) and 1 <= retry_after.total_seconds() <= 30
    seconds = int(retry_after.total_seconds())
    assert api.requests[-1].status == 429 and api.requests[-1].response == {
        "ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {seconds}",
        "parameters": {"retry_after": seconds}}
    assert not api.topic(GROUP, thread).closed  # refused, so not done
    await bot.send_message(USER, "private chats keep their own limit")
    assert [method for _, method in api.group_writes(GROUP)] == [
        "createForumTopic", "sendMessage", "editMessageText", "editForumTopic"]
    assert api.most_in_window(GROUP, 30.0) == 4
    # Scaled down, the window passes quickly; the refused call then goes through.
    api.group_limit = (4, 0.3)
    await asyncio.sleep(0.35)
    assert await bot.close_forum_topic(GROUP, thread)
    await bot.send_chat_action(GROUP, "typing")  # not a message: not counted
    await bot.get_chat_member(GROUP, 123)
    assert len(api.group_writes(GROUP)) == 5


async def test_group_writes_are_kept_without_limits(api: FakeTelegramAPI, bot: Bot) -> None:
    api.add_forum(GROUP)
    for i in range(25):
        await bot.send_message(GROUP, f"burst {i}")
    message = await bot.send_message(GROUP, "last")
    await bot.delete_message(GROUP, message.message_id)
    writes = api.group_writes(GROUP)
    assert len(writes) == 27 and writes[-1][1] == "deleteMessage"
    assert [t for t, _ in writes] == sorted(t for t, _ in writes)
    assert api.most_in_window(GROUP, 3600.0) == 27
    assert api.group_writes(-1005555555555) == [] and api.most_in_window(-1005555555555, 60) == 0


def test_most_in_window_counts_a_sliding_window() -> None:
    times = [0.0, 0.5, 1.0, 1.25, 5.0, 5.25, 5.5, 5.75, 6.0]
    assert forum_most_in_window(times, 1.0) == 4  # 5.0 to 5.75 (6.0 is outside [5, 6))
    assert forum_most_in_window(times, 0.25) == 1
    assert forum_most_in_window(times, 0.5) == 2
    assert forum_most_in_window(times, 100.0) == len(times)
    assert forum_most_in_window([], 1.0) == 0


async def test_application_replies_in_the_topic(desk: FakeTelegramAPI) -> None:
    """PTB's reply helpers keep a topic message's thread, so the fake must accept them."""
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(TOKEN).base_url(desk.api_base_url)
        .base_file_url(desk.file_base_url).build())
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    async with app:
        thread = (await app.bot.create_forum_topic(GROUP, "#10")).message_thread_id
        await app.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]
        await app.start()
        try:
            desk.user_message(AGENT, "ping", chat_id=GROUP, message_thread_id=thread)
            reply = (await desk.wait_for(lambda: desk.sent(GROUP)))[0]
            assert (reply["text"], reply["message_thread_id"]) == ("echo: ping", thread)
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()
