"""The real bot process wiring (bot.server.serve) against the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import App, build
from bot.server import serve
from bot.settings import Settings
from core.delivery.inbound import InboundLog
from tests.adapters.fast_config import fast_config
from tests.fakes.telegram_api import FakeTelegramAPI

TOKEN = "123456:TEST-token-never-real"


@pytest.fixture(autouse=True)
def _timedelta_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the bootstrap does when it builds the channel (adapters.telegram.startup), for the
    # tests that build its parts alone: PTB 22 warns whenever a RetryAfter is built otherwise.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    api: FakeTelegramAPI
    desk: App
    settings: Settings

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.settings.http_port}"


async def start_bot(tmp_path: Path, api: FakeTelegramAPI, **extra: Any) -> AsyncIterator[Running]:
    settings = Settings(
        _env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api.server_url,
        HTTP_PORT=free_port(),
        ATTACHMENTS_DIR=str(tmp_path / "files"),
        **{"HELPDESK_CONFIG": str(fast_config(tmp_path)), **extra},
    )
    desk = await build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(desk, settings, stop))
    try:
        # Started: the commands are registered and updates are being taken.
        ready = "setWebhook" if "TELEGRAM_WEBHOOK_URL" in extra else "getUpdates"
        menus = len(desk.config.languages) + 1  # one per offered language, and the default
        await api.wait_for(lambda: len(api.requests_for("setMyCommands")) >= menus
                           and api.requests_for(ready), timeout=10)
        yield Running(api, desk, settings)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await desk.close()


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Running]:
    async with FakeTelegramAPI(token=TOKEN) as api:
        async for running in start_bot(tmp_path, api):
            yield running


class TgUser:
    """A Telegram user typing and tapping in a private chat with the bot (or, given another
    Bot API's fake and its platform, a user of that messenger: Bale)."""

    platform = "telegram"

    def __init__(self, running: Running, user_id: int, language_code: str = "en",
                 api: FakeTelegramAPI | None = None) -> None:
        self.r = running
        self.api = api or running.api
        self.user_id = user_id
        self.language_code = language_code  # the language they choose
        self.app_language: str | None = language_code  # what their app says in each update
        self.log = InboundLog(running.desk.db)

    async def _processed(self, update: dict[str, Any]) -> None:
        key = str(update["update_id"])
        for _ in range(500):
            if await self.log.state(self.platform, key) == "done":
                return
            await asyncio.sleep(0.01)
        raise TimeoutError(f"update {key} not processed")

    def sent(self) -> list[dict[str, Any]]:
        return self.api.sent(self.user_id)

    async def say(self, text: str) -> list[dict[str, Any]]:
        before = len(self.sent())
        await self._processed(self.api.user_message(self.user_id, text, language_code=self.app_language))
        return self.sent()[before:]

    async def press(self, key: str) -> list[dict[str, Any]]:
        message_id = next(
            m["message_id"] for m in reversed(self.sent())
            if any(b.get("callback_data") == key
                   for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row)
        )
        before = len(self.sent())
        await self._processed(self.api.press_button(self.user_id, message_id, key,
                                                    language_code=self.app_language))
        return self.sent()[before:]

    async def send_document(self, name: str, content: bytes, mime: str = "application/octet-stream",
                            declared_size: int | None = None) -> list[dict[str, Any]]:
        before = len(self.sent())
        await self._processed(self.api.user_document(
            self.user_id, file_name=name, mime_type=mime, content=content, declared_size=declared_size,
            language_code=self.app_language))
        return self.sent()[before:]

    async def intake(self, subject: str, description: str, priority: str = "high") -> list[dict[str, Any]]:
        """The whole form, from /start to the submitted ticket; what the last press brought."""
        await self.say("/start")
        await self.press(f"lang:{self.language_code[:2]}")
        await self.press("dep:technical")
        await self.press("rt:bug")
        await self.say(subject)
        await self.go_past_articles()
        await self.press(f"pri:{priority}")
        await self.say(description)
        await self.go_past_articles()
        await self.press("att:done")
        return await self.press("rev:submit")

    async def go_past_articles(self) -> None:
        """Where the knowledge base offered articles, go on with the ticket."""
        if "kb:continue" in self.buttons():
            await self.press("kb:continue")

    def buttons(self) -> list[str]:
        for m in reversed(self.sent()):
            markup = m.get("reply_markup") or {}
            if markup.get("inline_keyboard"):
                return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
        return []
