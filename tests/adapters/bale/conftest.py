"""The real bot process wiring (bot.server.serve) with the Bale channel against the fake Bale
Bot API on 127.0.0.1, alone or beside the Telegram channel and its fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import build
from bot.server import serve
from bot.settings import Settings
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, free_port
from tests.fakes.bale_api import BALE_TOKEN, FakeBaleAPI
from tests.fakes.telegram_api import FakeTelegramAPI


class BaleUser(TgUser):
    """A Bale user in a private chat with the bot: their app sends no language_code."""

    platform = "bale"

    def __init__(self, running: Running, user_id: int, language_code: str = "fa",
                 api: FakeTelegramAPI | None = None) -> None:
        super().__init__(running, user_id, language_code, api)
        self.app_language = None


async def start_bale(tmp_path: Path, bale: FakeBaleAPI, tg: FakeTelegramAPI | None = None,
                     **extra: Any) -> AsyncIterator[Running]:
    """The bot with the Bale channel (and the Telegram one when `tg` is given); Running.api is
    Telegram's fake when both run, else Bale's."""
    tokens: dict[str, Any] = {"BALE_BOT_TOKEN": BALE_TOKEN, "BALE_API_URL": bale.server_url}
    if tg is not None:
        tokens |= {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": tg.server_url}
    settings = Settings(
        _env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        HTTP_PORT=free_port(),
        ATTACHMENTS_DIR=str(tmp_path / "files"),
        **{"HELPDESK_CONFIG": str(fast_config(tmp_path)), **tokens, **extra},
    )
    desk = await build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(desk, settings, stop))
    try:
        await bale.wait_for(lambda: bale.requests_for("getUpdates"), timeout=10)
        if tg is not None:
            await tg.wait_for(lambda: tg.requests_for("getUpdates"), timeout=10)
        yield Running(tg or bale, desk, settings)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await desk.close()


@pytest.fixture
async def bale_bot(tmp_path: Path) -> AsyncIterator[Running]:
    async with FakeBaleAPI() as bale:
        async for running in start_bale(tmp_path, bale):
            yield running
