"""The benchmark driver's pacing (the benchmarks themselves run with `python -m tests.bench`)."""

from __future__ import annotations

import pytest

from tests.bench import driver
from tests.bench.driver import Schedule, run_bot


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(driver.time, "monotonic", fake.monotonic)
    monkeypatch.setattr(driver.asyncio, "sleep", fake.sleep)
    return fake


async def test_a_customer_arriving_later_waits_for_their_start_then_thinks_over_each_step(clock: Clock) -> None:
    pace = Schedule(start=10.0, think=0.5, seed=1)
    starts = []
    for _ in range(20):
        await pace.acquire()
        starts.append(clock.now)
        clock.now += 0.02  # answered in 20 ms
    assert starts[0] == 10.0
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(0.25 <= gap <= 0.75 for gap in gaps)
    assert len({round(gap, 3) for gap in gaps}) > 10  # they vary: no two customers keep in step
    assert 0.4 <= sum(gaps) / len(gaps) <= 0.6


async def test_think_times_are_the_same_for_the_same_seed(clock: Clock) -> None:
    async def plan(seed: int) -> list[float]:
        pace = Schedule(start=0.0, think=0.5, seed=seed)
        out = []
        for _ in range(5):
            await pace.acquire()
            out.append(pace.next)
        return out

    assert await plan(3) == await plan(3) != await plan(4)


async def test_a_step_answered_late_is_followed_at_once_keeping_to_the_plan(clock: Clock) -> None:
    pace = Schedule(start=0.0, think=0.5)
    await pace.acquire()
    clock.now = 5.0  # the answer took 5 s: the steps planned since are due
    await pace.acquire()
    await pace.acquire()
    assert clock.now == 5.0 and clock.slept == []


async def test_an_unknown_arrival_pattern_is_refused_before_anything_starts(tmp_path) -> None:
    with pytest.raises(ValueError, match="together"):
        await run_bot("helpdesk", 1, rate=10.0, arrivals="sometimes", workdir=tmp_path / "w")
    assert not (tmp_path / "w").exists()


async def test_a_bench_database_can_be_told_not_to_wait_for_the_disk_and_is_dropped() -> None:
    from tests.conftest import _pg_server_url

    if _pg_server_url() is None:
        pytest.skip("PostgreSQL not available: set TEST_DATABASE_URL or run a server on 127.0.0.1:5432")
    import asyncpg
    from sqlalchemy.engine import make_url

    from tests.bench.pg import temporary_database

    server = make_url(_pg_server_url())
    admin = await asyncpg.connect(host=server.host, port=server.port or 5432, user=server.username,
                                  password=server.password, database=server.database or "postgres")
    try:
        default = await admin.fetchval("SHOW synchronous_commit")
        for wait, expected in ((True, default), (False, "off")):
            async with temporary_database(wait_for_flush=wait) as url:
                u = make_url(url)
                conn = await asyncpg.connect(host=u.host, port=u.port or 5432, user=u.username,
                                             password=u.password, database=u.database)
                try:
                    assert await conn.fetchval("SHOW synchronous_commit") == expected
                finally:
                    await conn.close()
            assert not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", u.database)
    finally:
        await admin.close()


def test_answers_over_50ms_are_set_against_the_disk_probes_slow_flushes() -> None:
    run = driver.Run(updates=4, seconds=1.0)
    run.trace = [(10.00, "a", 0.080),  # under way while the flush at 10.05 stalled
                 (10.20, "b", 0.060),  # slow, but the disk was quick by then
                 (10.06, "c", 0.010),  # quick: not counted whatever the disk did
                 (9.90, "d", 0.120)]   # ends at 10.02, before the stall began
    run.flushes = [(10.05, 0.040), (10.15, 0.001), (10.25, 0.002)]
    disk = run.summary()["disk_flush"]
    assert disk == {"count": 3, "p50_ms": 2.0, "max_ms": 40.0, "stalled": 1, "stall_ms": 20.0,
                    "answers_over_50ms_during_one": 1}
    assert "disk_flush" not in driver.Run(updates=1, seconds=1.0, trace=[(0.0, "a", 0.01)]).summary()
