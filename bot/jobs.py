"""Background work of the process: the outbox relay loop, and the timers as APScheduler jobs.

Every timer is a job that sweeps the database by indexed due-time columns, so timers survive
restarts and, with several processes on PostgreSQL, each ticket's timer fires once. Another job
deletes what is past the retention (RETENTION_DAYS) and the heartbeats of workers long gone.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.bootstrap import App
from core.delivery.inbound import HEARTBEAT_EVERY
from core.delivery.relay import Relay
from core.metrics import SLA_BREACHES, SLA_WARNINGS
from core.reports.weekly import queue_weekly
from core.storage.prune import forget_workers, prune

log = logging.getLogger(__name__)
SLA_EVERY = 30.0
DRAFTS_EVERY = 60.0
RETENTION_EVERY = 3600.0
REPORTS_EVERY = 300.0  # the weekly picture is queued within this of its moment
WORKERS_FORGOTTEN_AFTER = timedelta(days=1)  # a worker silent this long is not coming back


async def deliver(relay: Relay, *, idle_wait: float = 1.0, busy_wait: float = 0.05,
                  stop: asyncio.Event | None = None) -> None:
    """Deliver the outbox as fast as the limits allow, until `stop` is set (then the pass in
    hand is finished: a send cut off half-way would be sent again by the next process)."""
    while stop is None or not stop.is_set():
        wait = idle_wait
        try:
            if await relay.flush():
                wait = 0.0  # more may be claimable right away
            elif await relay.pending():
                wait = busy_wait  # paced or backing off: look again soon
        except Exception:
            log.exception("outbox relay pass failed")
        if wait:
            await relay.sleep(wait)
        else:
            await asyncio.sleep(0)
    await relay.settle()


def scheduler(app: App) -> AsyncIOScheduler:
    """The timers: SLA warnings, breaches and escalation, reminders, auto-close, stale forms;
    the heartbeat; retention; the weekly report for the desks."""
    jobs = AsyncIOScheduler(timezone=UTC)
    inbound = app.inbound

    async def sla() -> None:
        fired = await app.timers.sweep()
        for name, count in fired.items():
            if count and name.endswith("_warning"):
                SLA_WARNINGS.labels(name.removesuffix("_warning")).inc(count)
            elif count and name.endswith("_breach"):
                SLA_BREACHES.labels(name.removesuffix("_breach")).inc(count)
        if any(fired.values()):
            log.info("timers fired: %s", {k: v for k, v in fired.items() if v})
            app.relay.wake.set()

    async def drafts() -> None:
        if await app.conversation.expire_drafts():
            app.relay.wake.set()

    async def retention() -> None:
        now = app.clock()
        days = app.settings.retention_days
        if days:
            pruned = await prune(app.db, now - timedelta(days=days))
            if pruned.outbox or pruned.events:
                log.info("retention: deleted %s sent notifications and %s handled events older than %s days",
                         pruned.outbox, pruned.events, days)
        await forget_workers(app.db, now - WORKERS_FORGOTTEN_AFTER)

    async def heartbeat() -> None:
        await inbound.beat()

    async def reports() -> None:
        # Every process looks; the outbox's key lets one row per desk and week in.
        desks = app.services.news.desks
        if desks and await queue_weekly(app.db, app.config, desks, app.clock()):
            log.info("weekly report queued for the desks")
            app.relay.wake.set()

    now = datetime.now(UTC)
    for job, every in ((sla, SLA_EVERY), (drafts, DRAFTS_EVERY), (retention, RETENTION_EVERY),
                       (heartbeat, HEARTBEAT_EVERY), (reports, REPORTS_EVERY)):
        jobs.add_job(job, IntervalTrigger(seconds=every), id=job.__name__, coalesce=True, max_instances=1,
                     misfire_grace_time=int(every), next_run_time=now)
    return jobs


def running_jobs(jobs: AsyncIOScheduler) -> set[str]:
    """The ids of the timer jobs running at any moment, kept up to date by the scheduler's events."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED

    running: set[str] = set()
    jobs.add_listener(lambda event: running.add(event.job_id), EVENT_JOB_SUBMITTED)
    jobs.add_listener(lambda event: running.discard(event.job_id),
                      EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return running


async def stop_jobs(jobs: AsyncIOScheduler, running: set[str], timeout: float = 10.0) -> None:
    """Stop the timers once the sweeps in hand are done: APScheduler cancels a job still running
    at shutdown and logs the cancellation as the job's failure, traceback and all."""
    jobs.pause()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while running and loop.time() < deadline:  # noqa: ASYNC110 - the listeners run in the loop; a poll is simplest
        await asyncio.sleep(0.05)
    jobs.shutdown(wait=False)
