"""`helpdesk-bot run` as a real process in polling mode: answers, keeps the token out of logs,
and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from tests.adapters.telegram.conftest import TOKEN, free_port
from tests.fakes.telegram_api import FakeTelegramAPI


async def test_polling_process_and_clean_stop(tmp_path: Path) -> None:
    async with FakeTelegramAPI(token=TOKEN) as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
        env.update(
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=api.server_url, HTTP_PORT=str(free_port()), LOG_LEVEL="DEBUG",
            ATTACHMENTS_DIR=str(tmp_path / "files"),
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        assert proc.stdout is not None
        # Read as it comes: a full pipe would block the bot's logging, and the bot with it.
        reader = asyncio.create_task(proc.stdout.read())
        try:
            await api.wait_for(lambda: api.requests_for("getUpdates"), timeout=30)
            api.user_message(900, "/start", language_code="ru")
            await api.wait_for(lambda: any("Русский" in str(m.get("reply_markup")) for m in api.sent(900)),
                               timeout=15)
        finally:
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 20)
            output = await reader
        assert proc.returncode == 0, output.decode()[-2000:]
        assert time.monotonic() - started < 10
        log = output.decode()
        assert "telegram adapter started" in log and "DEBUG" in log
        assert TOKEN not in log and TOKEN.replace(":", "%3A") not in log


async def test_sigterm_lets_a_notification_in_flight_finish(tmp_path: Path) -> None:
    """A notification whose send is under way when SIGTERM comes is finished and marked sent,
    not cut off (the next process would send it a second time)."""
    from sqlalchemy import select

    from core.domain.config import load_config
    from core.services import Services
    from core.storage.db import Database
    from core.storage.models import OutboxMessage

    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    async with FakeTelegramAPI(token=TOKEN) as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
        env.update(DATABASE_URL=url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.server_url,
                   HTTP_PORT=str(free_port()), ATTACHMENTS_DIR=str(tmp_path / "files"))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        db = Database(url)
        try:
            await api.wait_for(lambda: api.requests_for("getUpdates"), timeout=30)
            service = Services.build(db, load_config(None))
            customer = await service.customers.customer("telegram", "902", "902", "Eva")
            ticket = await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                               subject="Login", description="Error 500")
            agent = await service.desk.agent("console", "a1", "Agent")
            api.delay_next("sendMessage", 1.5, chat_id=902)  # sent at once, answered late
            await service.desk.add_agent_message(agent.id, ticket.number, "Looking at it")
            await api.wait_for(lambda: api.requests_for("sendMessage", chat_id=902), timeout=15)
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 20)
            assert proc.returncode == 0 and time.monotonic() - started < 10
            async with db.read() as s:
                rows = list((await s.execute(select(OutboxMessage).where(OutboxMessage.event == "agent_reply")))
                            .scalars())
            assert [r.status for r in rows] == ["sent"]
        finally:
            if proc.returncode is None:
                proc.kill()
            await db.dispose()
