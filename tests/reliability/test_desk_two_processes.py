"""Two bot processes on one PostgreSQL database share one Telegram desk group: customers open
tickets through both (webhook mode, this test playing the load balancer), an agent works them
from a third process, and both relays deliver the desk's news. Each ticket gets exactly one
topic with one card, every desk row is delivered, and both processes stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from core.domain.config import load_config
from core.domain.model import Status, Who
from core.services import Services
from core.storage.db import Database
from core.storage.models import OutboxMessage, Ticket
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import TOKEN, free_port
from tests.reliability.test_two_processes import TaggedTelegramAPI

CUSTOMERS = 16
DESK = -1001555000111
PUBLIC_URL = "https://helpdesk.example.com/telegram/webhook"
# (what the customer does, the value, what the answer must hold: a button's key or a text)
INTAKE = [("text", "/start", "key:lang:en"), ("press", "lang:en", "key:dep:technical"),
          ("press", "dep:technical", "key:rt:bug"), ("press", "rt:bug", "text:short subject"),
          ("text", "Two processes, one desk {i}", "key:pri:high"), ("press", "pri:high", "text:Describe"),
          ("text", "Customer {i} opens a ticket.", "key:att:done"), ("press", "att:done", "key:rev:submit"),
          ("press", "rev:submit", "text:has been created")]


class Bot:
    def __init__(self, name: str, proc: asyncio.subprocess.Process, port: int) -> None:
        self.name, self.proc, self.port = name, proc, port
        assert proc.stdout is not None
        self.output = asyncio.create_task(proc.stdout.read())  # read as it comes: a full pipe blocks the bot

    @property
    def log(self) -> str:
        return self.output.result().decode(errors="replace") if self.output.done() else ""

    async def ready(self, http: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                await self.output
                raise AssertionError(f"bot {self.name} exited early:\n{self.log[-3000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{self.port}/readyz") as resp:
                    if resp.status == 200 and (await resp.json()).get("telegram", {}).get("mode") == "webhook":
                        return
            await asyncio.sleep(0.1)
        raise AssertionError(f"bot {self.name} not ready within 30 s")


async def start(name: str, api: TaggedTelegramAPI, host: str, env: dict[str, str], cwd: Path) -> Bot:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**env, "HTTP_PORT": str(port), "TELEGRAM_API_URL": f"http://{host}:{api.port}"})
    return Bot(name, proc, port)


def buttons(message: dict[str, Any]) -> list[str]:
    return [b.get("callback_data") for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row]


async def customer(i: int, api: TaggedTelegramAPI, bots: list[Bot], http: aiohttp.ClientSession,
                   rng: random.Random, used: Counter[str]) -> int:
    """Goes through the form, each update posted to one process or the other; the ticket's number."""
    user = 930_000 + i
    await asyncio.sleep(rng.uniform(0, 0.5))
    answer: dict[str, Any] = {}
    for kind, value, want in INTAKE:
        before = api.sent_count(user)
        if kind == "text":
            update = api.user_message(user, value.format(i=i), language_code="en")
        else:
            message = next(m for m in reversed(api.sent(user)) if value in buttons(m))
            update = api.press_button(user, message["message_id"], value, check_button=False)
        bot = rng.choice(bots)
        used[bot.name] += 1
        async with http.post(f"http://127.0.0.1:{bot.port}/telegram/webhook", json=update,
                             headers=api.webhook_headers()) as resp:
            assert resp.status == 200, await resp.text()
        what, _, expected = want.partition(":")

        def found(since: int = before, what: str = what, expected: str = expected) -> dict[str, Any] | None:
            return next((m for m in api.sent(user, since) if (expected in buttons(m) if what == "key"
                                                              else expected in (m.get("text") or ""))), None)
        answer = await api.wait_for(found, timeout=15)
    number = re.search(r"#(\d+)", answer["text"])
    assert number is not None
    return int(number.group(1))


async def test_two_processes_make_one_topic_per_ticket(tmp_path: Path, pg_url: str) -> None:
    config_path = fast_config(tmp_path, group=0.05)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_", "LOG_"))}
    env.update(DATABASE_URL=pg_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_URL=PUBLIC_URL,
               TELEGRAM_DESK_CHAT=str(DESK), HELPDESK_CONFIG=str(config_path),
               ATTACHMENTS_DIR=str(tmp_path / "files"), LOG_LEVEL="INFO", LOG_FORMAT="text", DATABASE_POOL_SIZE="10")
    async with TaggedTelegramAPI(token=TOKEN) as api, \
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        api.add_forum(DESK, members={4242: "member"})
        bots = list(await asyncio.gather(start("A", api, "127.0.0.1", env, tmp_path),
                                         start("B", api, "localhost", env, tmp_path)))
        db = Database(pg_url)
        try:
            await asyncio.gather(*(b.ready(http) for b in bots))
            used: Counter[str] = Counter()
            rng = random.Random(20261205)
            numbers = await asyncio.gather(*(customer(i, api, bots, http, random.Random(rng.random()), used)
                                             for i in range(CUSTOMERS)))
            # An agent in a third process works every ticket: more desk news, for both relays.
            service = Services.build(db, load_config(config_path), desks={"telegram": str(DESK)})
            agent = await service.desk.agent("telegram", "4242", "Eva")
            for n in numbers:
                await service.desk.assign(n, agent.id, Who.agent(agent.id))
                await service.desk.change_status(n, Status.WAITING, Who.agent(agent.id))

            async def undelivered() -> list[tuple[str, str]]:
                async with db.read() as s:
                    return [(r.event, r.status) for r in (await s.execute(select(OutboxMessage).where(
                        OutboxMessage.platform == "desk:telegram", OutboxMessage.status != "sent"))).scalars()]
            deadline = time.monotonic() + 40
            while await undelivered() and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert await undelivered() == []
            async with db.read() as s:
                tickets = list((await s.execute(select(Ticket))).scalars())
        finally:
            for b in bots:
                if b.proc.returncode is None:
                    b.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(asyncio.gather(*(b.proc.wait() for b in bots)), 20)
            finally:
                for b in bots:
                    if b.proc.returncode is None:
                        b.proc.kill()
                        await b.proc.wait()
                await asyncio.gather(*(b.output for b in bots))
                for b in bots:
                    (tmp_path / f"bot-{b.name}.log").write_text(b.log, encoding="utf-8")
                await db.dispose()

        topics = api.topics(DESK)
        created = [r for r in api.requests_for("createForumTopic", DESK) if r.ok]
        writers = Counter(api.via.get(id(r), "") for r in api.requests if r.chat_id == DESK and r.ok
                          and r.method != "getChat" and r.method != "getChatMember")

    for b in bots:
        assert b.proc.returncode == 0, f"bot {b.name} exited {b.proc.returncode}:\n{b.log[-3000:]}"
        assert "Traceback" not in b.log and " ERROR " not in b.log, b.log[-3000:]
    assert used["A"] and used["B"]  # tickets opened through both
    assert sorted(numbers) == sorted(t.number for t in tickets) and len(set(numbers)) == CUSTOMERS
    per_ticket = Counter(re.search(r"#(\d+)", t.name).group(1) for t in topics)  # type: ignore[union-attr]
    assert per_ticket == Counter({str(n): 1 for n in numbers})  # exactly one topic per ticket
    assert len(created) == CUSTOMERS and not any(t.deleted for t in topics)
    for t in topics:
        cards = [m for m in api.topic_messages(DESK, t.thread_id) if "ag:claim" in str(m.get("reply_markup"))
                 or "tm:status" in str(m.get("reply_markup"))]
        assert len(cards) == 1, t.name
        assert t.name.startswith("⏳"), t.name  # renamed to the last status, whichever process sent it
    print(f"\nTelegram desk, two processes: {CUSTOMERS} tickets, {len(topics)} topics, group writes by process "
          f"{dict(sorted(writers.items()))}")
