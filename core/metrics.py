"""Process metrics in the Prometheus format (served on /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()

UPDATES = Counter("helpdesk_updates_total", "Platform events handled", ["platform"], registry=REGISTRY)
ANSWER_SECONDS = Histogram(
    "helpdesk_answer_seconds", "Time from an event's arrival to its answer being sent", ["platform"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0), registry=REGISTRY)
TICKETS_OPENED = Counter("helpdesk_tickets_opened_total", "Tickets opened", registry=REGISTRY)
OUTBOX = Gauge("helpdesk_outbox", "Outbox rows by status", ["status"], registry=REGISTRY)
SLA_WARNINGS = Counter("helpdesk_sla_warnings_total", "SLA warnings raised", ["kind"], registry=REGISTRY)
SLA_BREACHES = Counter("helpdesk_sla_breaches_total", "SLA breaches", ["kind"], registry=REGISTRY)
LIMITED = Counter("helpdesk_abuse_limited_total", "Events refused by a per-customer limit", ["limit"],
                  registry=REGISTRY)


def exposition(outbox_counts: dict[str, int]) -> bytes:
    for status in ("pending", "sending", "sent", "dead"):
        OUTBOX.labels(status).set(outbox_counts.get(status, 0))
    return generate_latest(REGISTRY)
