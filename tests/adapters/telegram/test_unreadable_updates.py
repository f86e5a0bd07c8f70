"""An update python-telegram-bot cannot read, against the fake Bot API: it is skipped and
confirmed, polling goes on; and a poller that has ended is reported down."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import pytest
from telegram.ext import ExtBot

from tests.adapters.telegram.conftest import Running, TgUser

SECRET = "Mehrnaz-private-words"  # in the unreadable update: never in the log


async def survives_unreadable(running: Running, user: TgUser, bad: dict[str, Any],
                              caplog: pytest.LogCaptureFixture) -> None:
    """`bad` queued, then the user's /start is answered, the bad update is confirmed (a restart
    would not fetch it again), and the log names its id and error but not its content."""
    api = running.api
    caplog.set_level(logging.WARNING)
    bad_id = api.queue_update(bad)["update_id"]
    replies = await user.say("/start")
    assert replies, "polling stopped at the unreadable update"
    await api.wait_for(lambda: all(u["update_id"] != bad_id for u in api.pending_updates))
    assert any(f"update {bad_id} cannot be read (TypeError)" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if SECRET in r.getMessage()]


async def reported_down_when_polling_ends(running: Running, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The poll loop ended by a fault it does not catch: /readyz says the channel is down."""

    class Fatal(BaseException):
        pass

    real = ExtBot.get_updates
    calls = 0

    async def dies_once(self: ExtBot[Any], *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise Fatal
        return await real(self, *args, **kwargs)

    async def ready() -> tuple[int, Any]:
        async with aiohttp.ClientSession() as http, http.get(f"{running.base}/readyz") as resp:
            return resp.status, (await resp.json())[name]

    assert await ready() == (200, {"status": "ok", "mode": "polling"})
    monkeypatch.setattr(ExtBot, "get_updates", dies_once)
    running.api.user_message(960, "/help")  # ends the long poll in progress: the next call fails
    await running.api.wait_for(lambda: calls >= 1)
    for _ in range(500):
        answer = await ready()
        if answer[0] == 503:
            break
        await asyncio.sleep(0.02)
    assert answer == (503, {"status": "down", "mode": "polling"})


async def test_a_message_telegram_cannot_be_read_is_skipped_and_polling_goes_on(
        bot: Running, caplog: pytest.LogCaptureFixture) -> None:
    bad = {"message": {"message_id": 77, "date": 1, "text": SECRET, "chat": {"id": 950},  # no chat type
                       "from": {"id": 950, "is_bot": False, "first_name": "M"}}}
    await survives_unreadable(bot, TgUser(bot, 951), bad, caplog)


async def test_telegram_polling_that_ended_is_reported_down(bot: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    await reported_down_when_polling_ends(bot, "telegram", monkeypatch)
