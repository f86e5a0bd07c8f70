"""Storage at scale: generated tickets on SQLite and PostgreSQL; a customer's "my tickets", an
agent's queue page and one SLA sweep, and how each grows from 10,000 to 1,000,000 tickets."""

from __future__ import annotations

import random
import socket
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from core.domain.config import load_config
from core.domain.model import Status, TicketFilter
from core.services import Services
from core.services.timers import Timers
from core.storage.db import Database
from core.storage.migrate import upgrade
from core.storage.models import ANSWERED, Customer, Ticket
from tests.bench.pg import temporary_database

CUSTOMERS_PER_TICKET = 5  # 1,000,000 tickets -> 200,000 customers
STATUS_MIX = [(Status.CLOSED, 0.85), (Status.RESOLVED, 0.03), (Status.WAITING, 0.04),
              (Status.ACCEPTED, 0.05), (Status.NEW, 0.03)]
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def _grow(db: Database, have: int, want: int, config: Any, rng: random.Random) -> None:
    """Add tickets (and customers) until there are `want`."""
    departments = [d.code for d in config.departments]
    statuses, weights = zip(*STATUS_MIX, strict=True)
    batch = 5000
    customers_have = have // CUSTOMERS_PER_TICKET
    customers_want = want // CUSTOMERS_PER_TICKET
    async with db.write() as s:
        for start in range(customers_have, customers_want, batch):
            await s.execute(insert(Customer), [
                {"platform": "telegram", "platform_user_id": str(i), "chat_id": str(i), "display_name": f"c{i}",
                 "locale": "en", "reachable": True, "created_at": NOW}
                for i in range(start, min(start + batch, customers_want))])
    for start in range(have, want, batch):
        rows = []
        for n in range(start, min(start + batch, want)):
            status = rng.choices(statuses, weights)[0]
            created = NOW - timedelta(minutes=rng.randint(1, 60 * 24 * 365))
            due = created + timedelta(hours=16)
            rows.append({
                "number": 1001 + n, "customer_id": 1 + rng.randrange(customers_want),
                "department": rng.choice(departments), "request_type": "bug", "priority": "normal",
                "subject": f"Subject {n}", "description": "Generated for the storage benchmark.",
                "status": status.value, "tier": 1, "created_at": created, "updated_at": created,
                "first_response_due": due, "resolution_due": created + timedelta(hours=40),
                "first_response_warn_at": created + timedelta(hours=12),
                "resolution_warn_at": created + timedelta(hours=30),
                # The sweeps' markers, as they stand on a live system: what is past was handled.
                "first_response_warned_at": created, "first_response_breached_at": created,
                "resolution_warned_at": created, "resolution_breached_at": created,
                "first_response_at": None if status == Status.NEW else created + timedelta(hours=1),
                "waiting_since": created if status in (Status.NEW, Status.ACCEPTED) else None,
                "queue_rank": created if status in (Status.NEW, Status.ACCEPTED) else ANSWERED,
                "reminded_at": created, "queue_hint_sent": False,
            })
        async with db.write() as s:
            await s.execute(insert(Ticket), rows)
    async with db.write() as s:
        await s.execute(text("UPDATE counters SET value = :v WHERE name = 'ticket'"), {"v": 1000 + want})
        if not db.is_sqlite:
            await s.execute(text("SELECT setval('ticket_numbers', :v)"), {"v": 1000 + want})


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98] if len(samples) > 1 else samples[0]


async def _measure(db: Database, service: Services, size: int, rng: random.Random) -> dict[str, float]:
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    else:
        async with db.write() as s:
            await s.execute(text("ANALYZE"))
    customers = size // CUSTOMERS_PER_TICKET
    mine, queue = [], []
    departments = [d.code for d in service.config.departments]
    for _ in range(300):
        t = time.perf_counter()
        await service.queries.list_for_customer(1 + rng.randrange(customers), TicketFilter.ALL, limit=20)
        mine.append(time.perf_counter() - t)
    for i in range(300):
        t = time.perf_counter()
        await service.queries.queue(department=departments[i % len(departments)], limit=50)
        queue.append(time.perf_counter() - t)
    sweeps = []
    for _ in range(5):
        t = time.perf_counter()
        await Timers(service).sweep()
        sweeps.append(time.perf_counter() - t)
    return {"tickets": size, "my_tickets_p99_ms": round(_p99(mine) * 1000, 3),
            "queue_page_p99_ms": round(_p99(queue) * 1000, 3), "sla_sweep_ms": round(max(sweeps) * 1000, 2)}


async def _backend(name: str, url: str, sizes: list[int]) -> list[dict[str, float]]:
    db = Database(url)
    await upgrade(db)
    config = load_config()
    service = Services.build(db, config, clock=lambda: NOW)
    rng = random.Random(42)
    have, out = 0, []
    for size in sizes:
        started = time.perf_counter()
        await _grow(db, have, size, config, rng)
        have = size
        figures = await _measure(db, service, size, rng)
        figures["generate_s"] = round(time.perf_counter() - started, 1)
        print(f"  {name:<10} {size:>9,} tickets: my tickets p99 {figures['my_tickets_p99_ms']:7.3f} ms, "
              f"queue page p99 {figures['queue_page_p99_ms']:7.3f} ms, SLA sweep {figures['sla_sweep_ms']:7.2f} ms",
              flush=True)
        out.append(figures)
    await db.dispose()
    return out


async def run(workdir: Path, *, quick: bool = False) -> dict[str, Any]:
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    workdir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"targets_ms": {"my_tickets_p99": 5, "queue_page_p99": 20, "sla_sweep": 200}}
    out["sqlite"] = await _backend("sqlite", f"sqlite+aiosqlite:///{workdir / 'storage.db'}", sizes)
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return out
    async with temporary_database() as url:
        out["postgresql"] = await _backend("postgresql", url, sizes)
    return out
