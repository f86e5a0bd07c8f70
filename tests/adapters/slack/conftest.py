"""The whole process with Telegram and Slack both faked: customers in Telegram, agents in Slack."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import App, build
from bot.server import serve
from bot.settings import Settings
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, free_port
from tests.fakes.slack_api import FakeSlackAPI, SlackEventSender
from tests.fakes.telegram_api import FakeTelegramAPI

SIGNING_SECRET = "test-signing-secret-0123456789"
DESK = "CDESK0001"
AGENT, AGENT_CS, OUTSIDER, SLACK_CUSTOMER = "UAGENT001", "UAGENT002", "UOUTSIDE1", "UCUSTOM01"


@dataclass
class Desk:
    tg: FakeTelegramAPI
    slack: FakeSlackAPI
    events: SlackEventSender
    desk: App

    @property
    def running(self) -> Running:
        """The same process as the Telegram tests see it (their helpers take this)."""
        return Running(self.tg, self.desk, self.desk.settings)

    def card(self, number: int) -> dict[str, Any] | None:
        for m in self.slack.messages_in(DESK):
            if m.get("thread_ts") in (None, m.get("ts")) and (m.get("text") or "").startswith(f"#{number} "):
                return m
        return None

    def thread(self, number: int) -> list[dict[str, Any]]:
        card = self.card(number)
        assert card is not None
        return self.slack.messages_in(DESK, thread_ts=card["ts"])[1:]

    async def settle(self) -> None:
        """Let the Slack handlers finish (they run after the ack) and the relay deliver all that is due."""
        await asyncio.sleep(0)
        await self.desk.served["slack"].drained()
        self.desk.relay.wake.set()
        for _ in range(300):
            await asyncio.sleep(0.02)
            if await self.pending() == 0:
                await self.desk.served["slack"].drained()
                return
        raise TimeoutError("outbox not drained")

    async def pending(self) -> int:
        from sqlalchemy import func, select

        from core.storage.models import OutboxMessage

        async with self.desk.db.read() as s:
            return int((await s.execute(select(func.count()).select_from(OutboxMessage)
                                        .where(OutboxMessage.status.in_(("pending", "sending"))))).scalar_one())

    async def processed(self, response: Any) -> None:
        """Wait until the event behind a SentResponse was handled by the bot."""
        from core.delivery.inbound import InboundLog

        assert response.status == 200, response.body
        event_id = response.payload["event_id"]
        log = InboundLog(self.desk.db)
        for _ in range(500):
            if await log.state("slack", event_id) == "done":
                return await self.settle()
            await asyncio.sleep(0.01)
        raise TimeoutError(f"event {event_id} not handled")

    async def click(self, user: str, action_id: str, number: int, **kw: Any) -> Any:
        card = self.card(number)
        assert card is not None
        response = await self.events.block_action(
            user, action_id, kw.pop("value", str(number)), block_id=f"desk:{number}", channel=DESK,
            message_ts=card["ts"], message=card, **kw)
        assert response.status == 200, response.body
        await self.settle()
        return response


async def start_world(tmp_path: Path, tg: FakeTelegramAPI, slack: FakeSlackAPI, **extra: Any) -> AsyncIterator[Desk]:
    """The bot process with Slack's desk channel and agents set up, customers in Telegram;
    `extra` adds settings (another desk)."""
    slack.add_user(AGENT, "eva", real_name="Eva Agent", locale="en-US")
    slack.add_user(AGENT_CS, "jana", real_name="Jana Novak", locale="cs-CZ")
    slack.add_user(OUTSIDER, "olaf", real_name="Olaf Outsider")
    slack.add_user(SLACK_CUSTOMER, "carla", real_name="Carla Customer", locale="pt-BR")
    # Olaf reads the desk channel but is not an agent: SLACK_AGENT_USERS says who is.
    slack.add_channel(DESK, "helpdesk", members=[AGENT, AGENT_CS, OUTSIDER])
    slack.add_channel("CGENERAL1", "general", members=[AGENT, AGENT_CS, OUTSIDER, SLACK_CUSTOMER])
    port = free_port()
    settings = Settings(
        _env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}",
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=tg.server_url,
        SLACK_BOT_TOKEN=slack.bot_token, SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack.base_url, SLACK_AGENT_CHANNEL=DESK, SLACK_AGENT_USERS=f"{AGENT},{AGENT_CS}",
        HTTP_PORT=port, ATTACHMENTS_DIR=str(tmp_path / "files"),
        **{"HELPDESK_CONFIG": str(fast_config(tmp_path)), **extra},
    )
    desk = await build(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(desk, settings, stop))
    events = SlackEventSender(SIGNING_SECRET, f"http://127.0.0.1:{port}/slack/events", fake=slack)
    try:
        await tg.wait_for(lambda: tg.requests_for("getUpdates"), timeout=10)
        yield Desk(tg, slack, events, desk)
    finally:
        await events.close()
        stop.set()
        await asyncio.wait_for(task, 15)
        await desk.close()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Desk]:
    async with FakeTelegramAPI(token=TOKEN) as tg, FakeSlackAPI() as slack:
        async for started in start_world(tmp_path, tg, slack):
            yield started


async def telegram_ticket(world: Desk, user_id: int = 700, lang: str = "cs", description: str = "Chyba 500") -> TgUser:
    """A Telegram customer opens ticket after ticket through the whole form."""
    u = TgUser(world.running, user_id, lang)
    if not u.sent():
        await u.say("/start")
        await u.press(f"lang:{lang}")
    else:
        await u.say("/new")
    await u.press("dep:technical")
    await u.press("rt:bug")
    await u.say("Nelze se přihlásit <!channel>")
    await u.go_past_articles()
    await u.press("pri:high")
    await u.say(description)
    await u.go_past_articles()
    await u.press("att:done")
    await u.press("rev:submit")
    await world.settle()
    return u
