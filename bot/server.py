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
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import func, select, text

from bot.app import HelpDesk
from bot.jobs import deliver, running_jobs, scheduler, stop_jobs
from bot.settings import Settings
from core.delivery.attachments import AttachmentStore
from core.delivery.relay import Sender, outbox_stats
from core.domain.config import ConfigError
from core.metrics import exposition
from core.storage.models import OutboxMessage

log = logging.getLogger(__name__)


class Adapter(Protocol):
    @property
    def sender(self) -> Sender: ...

    def routes(self) -> list[web.RouteDef]: ...
    def health(self) -> tuple[bool, str]: ...
    async def start(self, http: web.Application | None = None) -> None: ...
    async def stop(self) -> None: ...


def build_adapters(desk: HelpDesk, settings: Settings) -> dict[str, Adapter]:
    adapters: dict[str, Adapter] = {}
    inbound_log = desk.inbound
    if settings.telegram_bot_token is not None:
        from adapters.telegram.adapter import TelegramAdapter

        secret = settings.telegram_webhook_secret
        adapters["telegram"] = TelegramAdapter(
            desk.conversation, inbound_log,
            token=settings.telegram_bot_token.get_secret_value(),
            api_url=settings.telegram_api_url,
            webhook_url=settings.telegram_webhook_url,
            webhook_secret=secret.get_secret_value() if secret else None,
            default_locale=settings.default_locale,
            delivery=desk.config.delivery,
        )
    if settings.slack_bot_token is not None:
        from adapters.slack.adapter import SlackAdapter

        if settings.slack_signing_secret is None and settings.slack_app_token is None:
            raise ConfigError("SLACK_BOT_TOKEN is set: set SLACK_SIGNING_SECRET too (or SLACK_APP_TOKEN "
                              "for Socket Mode)")
        slack = SlackAdapter(
            desk.conversation, desk.services, desk.config, inbound_log,
            AttachmentStore(settings.attachments_dir),
            token=settings.slack_bot_token.get_secret_value(),
            signing_secret=(settings.slack_signing_secret.get_secret_value()
                            if settings.slack_signing_secret else "socket-mode-unsigned"),
            api_url=settings.slack_api_url,
            app_token=settings.slack_app_token.get_secret_value() if settings.slack_app_token else None,
            agent_channel=settings.slack_agent_channel,
            agent_users=settings.slack_agent_users,
            agent_group=settings.slack_agent_group,
        )
        desk.relay.desk = slack.desk
        adapters["slack"] = slack
    return adapters


READY_TIMEOUT = 2.0  # seconds the database has to answer a readiness probe


async def _database_answers(desk: HelpDesk) -> None:
    async with desk.db.read() as session:
        await session.execute(text("SELECT 1"))


def http_app(desk: HelpDesk, adapters: dict[str, Adapter]) -> web.Application:
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
            await asyncio.wait_for(_database_answers(desk), READY_TIMEOUT)
            checks["database"] = "ok"
        except TimeoutError:
            checks["database"] = "error: no answer in time"
            failed.append("database")
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
            failed.append("database")
        for name, adapter in adapters.items():
            ok, detail = adapter.health()
            checks[name] = {"status": "ok" if ok else "down", "mode": detail}
            if not ok:
                failed.append(name)
        body = {"status": "error" if failed else "ok", **({"failed": failed} if failed else {}), **checks}
        return web.json_response(body, status=503 if failed else 200)

    async def metrics(_: web.Request) -> web.Response:
        counts = await outbox_stats(desk.db)
        async with desk.db.read() as session:
            oldest = (await session.execute(
                select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending"))).scalar()
        age = (desk.clock() - oldest).total_seconds() if oldest is not None else 0.0
        return web.Response(body=exposition(counts, age), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/healthz", readyz)  # what deployments before /readyz probe
    app.router.add_get("/metrics", metrics)
    for adapter in adapters.values():
        app.add_routes(adapter.routes())
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


async def serve(desk: HelpDesk, settings: Settings, stop: asyncio.Event | None = None) -> int:
    adapters = build_adapters(desk, settings)
    desk.adapters = dict(adapters)
    app = http_app(desk, adapters)
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
    started: list[Any] = []
    background: asyncio.Task[None] | None = None
    relay_stop = asyncio.Event()
    jobs = scheduler(desk)
    running = running_jobs(jobs)
    try:
        await desk.inbound.beat()
        for name, adapter in adapters.items():
            await adapter.start(app)
            started.append(adapter)
            log.info("%s adapter started", name)
        for name, adapter in adapters.items():
            desk.relay.senders[name] = adapter.sender
        background = asyncio.create_task(deliver(desk.relay, stop=relay_stop))
        jobs.start()
        _settle_heap()
        await stop.wait()
        log.info("stopping: finishing what is in hand")
    finally:
        # Stop taking updates first, then let the relay flush what is due, within the budget.
        if jobs.running:
            await stop_jobs(jobs, running)
        for adapter in reversed(started):
            with contextlib.suppress(Exception):
                await adapter.stop()
        if background is not None:
            relay_stop.set()
            desk.relay.wake.set()
            try:  # the sends in hand finish rather than being cut off
                await asyncio.wait_for(asyncio.shield(background), 4.0)
            except Exception:
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await background
        with contextlib.suppress(Exception):
            await desk.relay.drain(timeout=4.0)
        for adapter in reversed(started):
            if hasattr(adapter, "close"):
                with contextlib.suppress(Exception):
                    await adapter.close()
        await runner.cleanup()
    return 0
