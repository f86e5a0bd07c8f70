"""Hostile updates against the real bot and the fake Bot API: a flood, misrouted chats, odd files."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.domain.clock import utcnow
from core.storage.models import Customer
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, start_bot
from tests.fakes.telegram_api import FakeTelegramAPI

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
TOO_FAST = "faster than we can take them"


async def _chat_of(bot: Running, user_id: int) -> str:
    async with bot.desk.db.read() as s:
        return (await s.execute(select(Customer.chat_id).where(
            Customer.platform == "telegram", Customer.platform_user_id == str(user_id)))).scalar_one()


async def _ready(u: TgUser) -> None:
    await u.say("/start")
    await u.press("lang:en")
    await u.press("nav:cancel")


# -- one customer's flood -------------------------------------------------------------------


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[Running]:
    """The bot with Telegram's flood limits enforced and a small per-customer message limit."""
    (tmp_path / "limited").mkdir()
    config = fast_config(tmp_path / "limited")
    config.write_text(re.sub(r"^messages_per_minute = .*$", "messages_per_minute = 6",
                             config.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8")
    async with FakeTelegramAPI(token=TOKEN) as api:
        async for running in start_bot(tmp_path, api, HELPDESK_CONFIG=str(config)):
            yield running


async def test_a_flood_never_delays_another_customer(limited: Running, caplog: pytest.LogCaptureFixture) -> None:
    bot, api = limited, limited.api
    flooder, other = TgUser(bot, 7001), TgUser(bot, 7002)
    await _ready(flooder)
    await _ready(other)
    api.enforce_limits = True  # 1 message a second per chat, as Telegram
    caplog.set_level(logging.WARNING)
    before = len(flooder.sent())
    for i in range(200):
        api.user_message(7001, f"spam {i}")
    api.user_message(7002, "/help")
    # Generous for a loaded machine; waiting on the flooder's chat took minutes.
    await api.wait_for(lambda: any("/new" in m.get("text", "") for m in other.sent()), timeout=30)
    # The flooder's answers (3 counted already: /start, and two more allowed) and one notice
    # arrive at the chat's pace; nothing for the rest of the flood.
    await api.wait_for(lambda: any(TOO_FAST in m.get("text", "") for m in flooder.sent()), timeout=60)
    await asyncio.sleep(3)
    flood_answers = [m["text"] for m in flooder.sent()[before:]]
    assert sum(TOO_FAST in t for t in flood_answers) == 1
    assert len(flood_answers) <= 6
    # The window passes (the conversation's clock moved on): the flooder is answered again.
    later = utcnow() + timedelta(seconds=61)
    bot.desk.conversation.clock = lambda: later
    api.user_message(7001, "/help")
    await api.wait_for(lambda: any("/new" in m.get("text", "") for m in flooder.sent()[before:]), timeout=30)
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]


# -- a chat that is not the user's ----------------------------------------------------------


async def test_a_press_in_another_customers_chat_changes_and_sends_nothing(bot: Running) -> None:
    a, b = TgUser(bot, 7101), TgUser(bot, 7102)
    await _ready(a)
    await _ready(b)
    await b.say("/tickets")
    listing = next(m for m in reversed(b.sent()) if "list:all" in str(m.get("reply_markup")))
    sent_a, sent_b = len(a.sent()), len(b.sent())
    for presser, chat in ((7101, 7102), (7102, 7101)):  # both ways round
        message_id = listing["message_id"] if chat == 7102 else next(
            m["message_id"] for m in reversed(a.sent()) if m.get("reply_markup"))
        update = bot.api.press_button(presser, message_id, "list:all", chat_id=chat, check_button=False)
        await a._processed(update)
    await asyncio.sleep(0.5)
    assert len(a.sent()) == sent_a and len(b.sent()) == sent_b
    assert await _chat_of(bot, 7101) == "7101" and await _chat_of(bot, 7102) == "7102"


async def test_a_message_whose_private_chat_is_not_the_senders_changes_nothing(bot: Running) -> None:
    a, b = TgUser(bot, 7201), TgUser(bot, 7202)
    await _ready(a)
    await _ready(b)
    sent_a, sent_b = len(a.sent()), len(b.sent())
    message = {"message_id": 900, "from": {"id": 7201, "is_bot": False, "first_name": "A", "language_code": "en"},
               "chat": {"id": 7202, "type": "private", "first_name": "B"}, "date": 1_700_000_000,
               "text": "/tickets", "entities": [{"type": "bot_command", "offset": 0, "length": 8}]}
    await a._processed(bot.api.queue_update({"message": message}))
    await asyncio.sleep(0.5)
    assert len(a.sent()) == sent_a and len(b.sent()) == sent_b
    assert await _chat_of(bot, 7201) == "7201" and await _chat_of(bot, 7202) == "7202"


# -- generated file names -----------------------------------------------------------------


@pytest.mark.parametrize(("content", "extension"), [(PNG, ".png"), (JPEG, ".jpg")])
async def test_a_photo_gets_one_extension_of_its_type(bot: Running, content: bytes, extension: str) -> None:
    u = TgUser(bot, 7301)
    await u.say("/start")
    await u.press("lang:en")
    await u.press("dep:technical")
    await u.press("rt:bug")
    await u.say("Chart broken")
    await u.press("pri:low")
    await u.say("See the picture")
    before = len(u.sent())
    await u._processed(bot.api.user_photo(7301, content=content))
    received = u.sent()[before]["text"]
    name = re.search(r"“([^”]+)”", received)
    assert name is not None and re.fullmatch(r"photo_[\w-]+" + re.escape(extension), name.group(1)), received
