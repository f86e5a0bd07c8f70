"""The process's HTTP probes and metrics: /livez, /readyz (and /healthz), /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

import bot.server
from bot.bootstrap import App, build
from bot.server import http_app
from bot.settings import Settings
from core.storage.models import OutboxMessage
from tests.conftest import FakeClock


class FakeAdapter:
    """An adapter as the server sees it: routes and a connection state."""

    def __init__(self, connected: bool = True) -> None:
        self.connected = connected

    def routes(self) -> list[web.RouteDef]:
        return []

    def health(self) -> tuple[bool, str]:
        return self.connected, "polling"


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[App]:
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    desk = await build(settings, clock=FakeClock())
    yield desk
    await desk.close()


async def _client(desk: App, adapters: dict[str, Any]) -> TestClient[Any, Any]:
    client = TestClient(TestServer(http_app(desk, adapters)))
    await client.start_server()
    return client


async def _pending(desk: App, platform: str, n: int, age: timedelta) -> None:
    now = desk.clock()
    async with desk.db.write() as session:
        for i in range(n):
            session.add(OutboxMessage(idempotency_key=f"{platform}:{i}", platform=platform, chat_id=str(i),
                                      event="e", params={}, status="pending", attempts=0,
                                      next_attempt_at=now, created_at=now - age))


async def test_live_and_ready(desk: App) -> None:
    client = await _client(desk, {"telegram": FakeAdapter()})
    try:
        for path in ("/livez", "/readyz", "/healthz"):
            resp = await client.get(path)
            assert resp.status == 200, path
        body = await (await client.get("/readyz")).json()
        assert body == {"status": "ok", "database": "ok", "telegram": {"status": "ok", "mode": "polling"}}
    finally:
        await client.close()


async def test_a_platform_down_is_not_ready_but_live(desk: App) -> None:
    client = await _client(desk, {"telegram": FakeAdapter(connected=False), "slack": FakeAdapter()})
    try:
        for path in ("/readyz", "/healthz"):
            resp = await client.get(path)
            assert resp.status == 503
            body = await resp.json()
            assert body["failed"] == ["telegram"] and body["telegram"]["status"] == "down"
        assert (await client.get("/livez")).status == 200
    finally:
        await client.close()


async def test_a_database_that_fails_or_hangs_is_not_ready(desk: App, monkeypatch: pytest.MonkeyPatch) -> None:
    async def hangs(_: App) -> None:
        await asyncio.sleep(3600)

    async def fails(_: App) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(bot.server, "READY_TIMEOUT", 0.2)
    client = await _client(desk, {})
    try:
        for broken, detail in ((hangs, "error: no answer in time"), (fails, "error: OSError")):
            monkeypatch.setattr(bot.server, "_database_answers", broken)
            resp = await client.get("/readyz")
            assert resp.status == 503
            assert await resp.json() == {"status": "error", "failed": ["database"], "database": detail}
            assert (await client.get("/livez")).status == 200
    finally:
        await client.close()


async def test_an_old_backlog_fails_no_probe_and_is_a_metric(desk: App) -> None:
    await _pending(desk, "telegram", 5, timedelta(hours=2))
    await _pending(desk, "slack", 3, timedelta(minutes=1))
    client = await _client(desk, {"telegram": FakeAdapter()})
    try:
        for path in ("/livez", "/readyz", "/healthz"):
            assert (await client.get(path)).status == 200, path
        resp = await client.get("/metrics")
        assert resp.status == 200
        families = {f.name: f for f in text_string_to_metric_families(await resp.text())}
    finally:
        await client.close()
    outbox = {(s.labels["platform"], s.labels["status"]): s.value
              for s in families["helpdesk_outbox_messages"].samples}
    assert outbox[("telegram", "pending")] == 5 and outbox[("slack", "pending")] == 3
    assert outbox[("telegram", "dead")] == 0
    assert sum(v for (_, status), v in outbox.items() if status == "pending") == 8
    assert families["helpdesk_outbox_oldest_pending_seconds"].samples[0].value == 7200


async def test_metric_names_follow_the_conventions(desk: App) -> None:
    client = await _client(desk, {})
    try:
        text = await (await client.get("/metrics")).text()
    finally:
        await client.close()
    families = list(text_string_to_metric_families(text))
    names = {f.name for f in families}
    # The process and platform collectors, and the build.
    assert {"process_cpu_seconds", "process_resident_memory_bytes", "python_info"} <= names
    build_info = next(s for f in families for s in f.samples if s.name == "helpdesk_build_info")
    assert build_info.value == 1
    assert build_info.labels["version"] and build_info.labels["python"].count(".") == 2
    units = ("_seconds", "_bytes", "_messages")
    for family in families:
        if not family.name.startswith("helpdesk_") or family.name.endswith("_created"):
            continue  # a counter's creation time, which the text parser reads as a gauge of its own
        for sample in family.samples:
            if family.type == "counter":
                assert sample.name.endswith(("_total", "_created")), sample.name
            else:
                assert not sample.name.endswith("_total"), sample.name
        if family.type == "histogram":
            assert family.name.endswith(units), family.name
        if family.type == "gauge":
            assert family.name.endswith((*units, "_info")), family.name
