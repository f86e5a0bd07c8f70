"""The bot process with messengers: one HTTP server, the adapters, the background jobs.

One aiohttp server per process serves /telegram/webhook, /slack/events, the probes (/livez:
the process serves; /readyz, and /healthz for older deployments: the database answers and every
platform is connected) and /metrics. The process stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select, text

from bot.bootstrap import App
from bot.jobs import deliver, running_jobs, scheduler, stop_jobs
from bot.settings import Settings
from core.delivery.contract import ServedChannel
from core.delivery.relay import outbox_stats
from core.metrics import exposition
from core.storage.models import OutboxMessage

log = logging.getLogger(__name__)


READY_TIMEOUT = 2.0  # seconds the database has to answer a readiness probe


async def _database_answers(app: App) -> None:
    async with app.db.read() as session:
        await session.execute(text("SELECT 1"))


def http_app(bot: App, channels: Mapping[str, ServedChannel]) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)

    async def livez(_: web.Request) -> web.Response:
        """The process serves HTTP: nothing else is looked at, so a restart is never asked for
        because of something a restart does not mend (the database, a platform)."""
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        """The database answers and each platform is connected; 503 naming what failed. The
        outbox backlog is not looked at: it is shared by every process, so failing on it would
        take them all out of the load balancer together (helpdesk_outbox_oldest_pending_seconds
        on /metrics is the thing to alert on)."""
        checks: dict[str, Any] = {}
        failed: list[str] = []
        try:
            await asyncio.wait_for(_database_answers(bot), READY_TIMEOUT)
            checks["database"] = "ok"
        except TimeoutError:
            checks["database"] = "error: no answer in time"
            failed.append("database")
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
            failed.append("database")
        for name, channel in channels.items():
            ok, detail = channel.health()
            checks[name] = {"status": "ok" if ok else "down", "mode": detail}
            if not ok:
                failed.append(name)
        body = {"status": "error" if failed else "ok", **({"failed": failed} if failed else {}), **checks}
        return web.json_response(body, status=503 if failed else 200)

    async def metrics(_: web.Request) -> web.Response:
        counts = await outbox_stats(bot.db)
        async with bot.db.read() as session:
            oldest = (await session.execute(
                select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending"))).scalar()
        age = (bot.clock() - oldest).total_seconds() if oldest is not None else 0.0
        return web.Response(body=exposition(counts, age), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/healthz", readyz)  # what deployments before /readyz probe
    app.router.add_get("/metrics", metrics)
    for channel in channels.values():
        app.add_routes(channel.routes())
    return app


def _settle_heap() -> None:
    """Move what start-up built (modules, mappers, translations, calendars) out of the
    collector's reach, so that a full collection, which stops every update while it runs, scans
    only what the running bot made since (figures in docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()


def _dump_tasks() -> None:
    """Log where every asyncio task waits (kill -USR1 <pid>): for a process that seems stuck."""
    for task in asyncio.all_tasks():
        chain: list[str] = []
        coro: Any = task.get_coro()
        while coro is not None:
            frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
            if frame is not None:
                chain.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
            coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        log.warning("task %s waits in: %s", task.get_name(), " -> ".join(chain) or repr(task))


async def serve(bot: App, settings: Settings, stop: asyncio.Event | None = None) -> int:
    channels = bot.served
    app = http_app(bot, channels)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info("http server on %s:%s", settings.http_host, settings.http_port)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
        loop.add_signal_handler(signal.SIGUSR1, _dump_tasks)  # what is every task waiting on?
    started: list[ServedChannel] = []
    background: asyncio.Task[None] | None = None
    relay_stop = asyncio.Event()
    jobs = scheduler(bot)
    running = running_jobs(jobs)
    try:
        await bot.inbound.beat()
        for name, channel in channels.items():
            await channel.start(app)
            started.append(channel)
            log.info("%s adapter started", name)
        # The relay runs once every channel has started: none sends through a channel not ready.
        background = asyncio.create_task(deliver(bot.relay, stop=relay_stop))
        jobs.start()
        _settle_heap()
        await stop.wait()
        log.info("stopping: finishing what is in hand")
    finally:
        # Stop taking updates first, then let the relay flush what is due, within the budget.
        if jobs.running:
            await stop_jobs(jobs, running)
        for channel in reversed(started):
            with contextlib.suppress(Exception):
                await channel.stop()
        if background is not None:
            relay_stop.set()
            bot.relay.wake.set()
            try:  # the sends in hand finish rather than being cut off
                await asyncio.wait_for(asyncio.shield(background), 4.0)
            except Exception:
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await background
            with contextlib.suppress(Exception):
                await bot.relay.drain(timeout=4.0)
        for channel in reversed(started):
            with contextlib.suppress(Exception):
                await channel.close()
        await runner.cleanup()
    return 0
