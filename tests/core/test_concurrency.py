"""Concurrency: many writers on SQLite (several processes at once) and numbers unique on both."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.storage.db import Database
from core.storage.migrate import upgrade
from tests.conftest import _admin_async

WRITER = textwrap.dedent("""
    import asyncio, sys
    from core.domain.config import load_config
    from core.storage.db import Database
    from core.services import Services

    async def main(url, tag):
        db = Database(url)
        service = Services.build(db, load_config())
        async def one(i):
            c = await service.customers.customer("telegram", f"{tag}-{i}", f"{tag}-{i}", "w", "en")
            await service.tickets.open_ticket(c.id, department="billing", request_type="consultation",
                                      subject=f"s {tag} {i}", description="d")
            t = await service.queries.list_for_customer(c.id)
            await service.tickets.add_customer_message(c.id, t[0].number, "more")
        await asyncio.gather(*(one(i) for i in range(50)))
        await db.dispose()

    asyncio.run(main(sys.argv[1], sys.argv[2]))
""")


async def test_fifty_writers_in_three_processes_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}"
    db = Database(url)
    await upgrade(db)
    await db.dispose()
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, url, tag], stderr=subprocess.PIPE, text=True)
             for tag in ("a", "b", "c")]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    assert not any("database is locked" in e for e in errors)
    with sqlite3.connect(tmp_path / "busy.db") as conn:
        numbers = [r[0] for r in conn.execute("select number from tickets")]
        assert len(numbers) == 150 and len(set(numbers)) == 150
        assert conn.execute("select count(*) from ticket_messages").fetchone()[0] == 150


async def test_concurrent_numbers_unique(service) -> None:  # type: ignore[no-untyped-def]
    customers = [await service.customers.customer("slack", str(i), str(i), "x", "en") for i in range(50)]
    opened = await asyncio.gather(*(service.tickets.open_ticket(c.id, department="sales", request_type="consultation",
                                                        subject="s", description="d") for c in customers))
    assert len({t.number for t in opened}) == 50


async def _units_at_once(database: Database, n: int) -> None:
    """`n` units of work open side by side, each with a connection of its own, then all ended."""
    held = asyncio.Event()

    async def unit() -> None:
        async with database.unit() as session:
            await session.execute(text("SELECT 1"))
            await held.wait()

    tasks = [asyncio.create_task(unit()) for _ in range(n)]
    while database.engine.pool.checkedout() < n:
        await asyncio.sleep(0.01)
    held.set()
    await asyncio.gather(*tasks)


async def test_postgresql_connections_stay_open_for_the_next_updates(pg_database: str) -> None:
    """Under load every connection in use is kept once returned: one closed and opened again per
    unit cost a new server process each time (measured: 377-394 new sessions in 2,200 updates,
    61 when kept)."""
    database = Database(pg_database, pool_size=30)
    try:
        await _units_at_once(database, 30)
        assert database.engine.pool.checkedin() == 30
    finally:
        await database.dispose()


async def test_postgresql_connections_the_server_dropped_are_replaced(pg_database: str) -> None:
    """Connections are not pinged before each unit; when the server drops them all (a restart, a
    failover), the one unit that meets a dead one fails, and the next units get new ones."""
    database = Database(pg_database, pool_size=5)
    try:
        await _units_at_once(database, 5)
        assert database.engine.pool.checkedin() == 5
        await _admin_async(pg_database, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        failures = 0
        for _ in range(8):
            try:
                async with database.unit() as session:
                    assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
            except DBAPIError as exc:
                assert exc.connection_invalidated  # seen as a dropped connection, not a bug
                failures += 1
        assert failures <= 1, failures
    finally:
        await database.dispose()
