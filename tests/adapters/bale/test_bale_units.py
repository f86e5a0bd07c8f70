"""Bale's differences, one by one: its pace keys, the callback queries made readable for
python-telegram-bot, and the fake refusing what Bale lacks as Bale does."""

from __future__ import annotations

import json

import pytest
from telegram import Bot, BotCommand, Update
from telegram.error import InvalidToken

from adapters.bale.options import BALE, completed, pacing
from core.domain.config import ConfigError, Delivery
from tests.fakes.bale_api import BALE_TOKEN, FakeBaleAPI


def test_bale_declares_its_own_pace_and_keys() -> None:
    assert pacing(Delivery()).global_per_second == 20.0
    assert pacing(Delivery(bale_chat_interval_seconds=2)).chat_interval == 2
    with pytest.raises(ConfigError, match="bale_global_per_second"):
        pacing(Delivery(bale_global_per_second=0))
    with pytest.raises(ConfigError, match="bale_burst: unknown key"):
        pacing(Delivery(bale_burst=3))


def test_a_callback_query_without_chat_instance_is_made_readable() -> None:
    query = {"id": "5", "from": {"id": 7, "is_bot": False, "first_name": "Ali"}, "data": "lang:fa",
             "message": {"message_id": 3, "date": 1, "chat": {"id": 7, "type": "private"}}}
    body = json.dumps({"ok": True, "result": [{"update_id": 1, "callback_query": query}]}).encode()
    with pytest.raises(TypeError):  # as Bale sends it, python-telegram-bot cannot read it
        Update.de_json(json.loads(body)["result"][0], None)
    update = Update.de_json(json.loads(completed(body))["result"][0], None)
    assert update.callback_query is not None and update.callback_query.data == "lang:fa"
    plain = b'{"ok":true,"result":[{"update_id":2,"message":{"text":"x"}}]}'
    assert completed(plain) is plain  # nothing to fill: not even parsed


async def test_the_fake_answers_what_bale_lacks_as_an_unknown_method() -> None:
    async with FakeBaleAPI() as bale:
        bot = Bot(BALE_TOKEN, base_url=bale.api_base_url, base_file_url=bale.file_base_url)
        async with bot:
            assert (await bot.get_me()).username == "helpdesk_test_bale_bot"
            # A 404, which python-telegram-bot reads as a rejected token: never call it on Bale.
            with pytest.raises(InvalidToken):
                await bot.set_my_commands([BotCommand("new", "New ticket")])
            sent = await bot.send_message(7, "<b>as typed</b> &amp;", parse_mode="HTML")
        assert sent.text == "<b>as typed</b> &amp;" and not sent.entities
        assert "language_code" not in bale.user_message(7, "hi")["message"]["from"]
    assert not BALE.command_menu and not BALE.html and not BALE.webhook
