"""Process metrics in the Prometheus format (served on /metrics).

Names follow Prometheus conventions: counters end in `_total`, measured quantities carry their
base unit as a suffix (`_seconds`), and the build is an info metric (`helpdesk_build_info` = 1).
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import (
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)

REGISTRY = CollectorRegistry()
# The same collectors prometheus_client registers on its default registry, on this one: memory,
# CPU, open files and start time of the process; the Python version and implementation.
REGISTRY.register(PROCESS_COLLECTOR)
REGISTRY.register(PLATFORM_COLLECTOR)

UPDATES = Counter("helpdesk_updates_total", "Platform events handled", ["platform"], registry=REGISTRY)
ANSWER_SECONDS = Histogram(
    "helpdesk_answer_seconds", "Time from an event's arrival to its answer being sent", ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0), registry=REGISTRY)
TICKETS_OPENED = Counter("helpdesk_tickets_opened_total", "Tickets opened", registry=REGISTRY)
OUTBOX = Gauge("helpdesk_outbox_messages", "Outbox rows by platform and status", ["platform", "status"],
               registry=REGISTRY)
OUTBOX_OLDEST_PENDING = Gauge(
    "helpdesk_outbox_oldest_pending_seconds",
    "Age of the oldest notification waiting to be sent (0 when none waits): the backlog to alert on",
    registry=REGISTRY)
DESK_THREADS_REMADE = Counter("helpdesk_desk_threads_remade_total",
                              "Tickets' desk threads made anew after they were deleted", ["desk"],
                              registry=REGISTRY)
SLA_WARNINGS = Counter("helpdesk_sla_warnings_total", "SLA warnings raised", ["kind"], registry=REGISTRY)
SLA_BREACHES = Counter("helpdesk_sla_breaches_total", "SLA breaches", ["kind"], registry=REGISTRY)
LIMITED = Counter("helpdesk_abuse_limited_total", "Events refused by a per-customer limit", ["limit"],
                  registry=REGISTRY)
IGNORED = Counter("helpdesk_inbound_ignored_total", "Inbound messages recorded but not acted on: a "
                  "channel's automatic messages about a ticket, its own messages come back", ["channel", "reason"],
                  registry=REGISTRY)
BUILD = Info("helpdesk_build", "The running helpdesk-bot version and Python", registry=REGISTRY)

OUTBOX_STATUSES = ("pending", "sending", "sent", "dead")


def _version() -> str:
    try:
        return version("helpdesk-bot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


BUILD.info({"version": _version(), "python": platform.python_version()})


def exposition(outbox_counts: dict[tuple[str, str], int], oldest_pending_seconds: float) -> bytes:
    """The registry as Prometheus text, with the outbox figures read just now: rows counted by
    (platform, status), each platform's every status present (0 when it has none)."""
    OUTBOX.clear()  # a platform no longer in the outbox leaves no stale figure behind
    for platform_ in sorted({p for p, _ in outbox_counts}):
        for status in OUTBOX_STATUSES:
            OUTBOX.labels(platform_, status).set(outbox_counts.get((platform_, status), 0))
    for (platform_, status), n in outbox_counts.items():
        if status not in OUTBOX_STATUSES:
            OUTBOX.labels(platform_, status).set(n)
    OUTBOX_OLDEST_PENDING.set(max(0.0, oldest_pending_seconds))
    return generate_latest(REGISTRY)
