"""Each platform event is handled once: its claim, its changes and its replies commit together;
a worker killed before sending the replies leaves them to the one that takes the redelivery."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event, func, insert, select

from core.chat import Choice, Reply
from core.delivery.inbound import InboundLog
from core.storage.db import Database
from core.storage.models import Customer, InboundEvent
from tests.conftest import FakeClock


def _work(calls: list[str], name: str, *, db: Database | None = None):
    """A handler that counts its runs and (given db) adds a customer, as handling would."""
    async def work() -> list[Reply]:
        calls.append(name)
        if db is not None:
            async with db.write() as session:
                session.add(Customer(platform="telegram", platform_user_id=name, chat_id=name,
                                     display_name="", reachable=True, created_at=FakeClock().now))
        return [Reply(f"answer to {name}", choices=((Choice("k", "Label"),),), locale="cs")]
    return work


async def _customers(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(select(func.count()).select_from(Customer))).scalar_one())


async def test_handled_once_then_skipped(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    await log.beat()
    calls: list[str] = []
    replies = await log.once("telegram", "1001", _work(calls, "a", db=db))
    assert replies is not None and replies[0].text == "answer to a" and replies[0].choices[0][0].key == "k"
    assert await log.state("telegram", "1001") == "replying"
    assert await log.once("telegram", "1001", _work(calls, "b")) is None  # in hand here: not again
    await log.done("telegram", "1001")
    await log.flush()
    assert await log.state("telegram", "1001") == "done"
    clock.advance(hours=1)
    assert await log.once("telegram", "1001", _work(calls, "c")) is None  # done stays done
    assert await log.once("slack", "1001", _work(calls, "d")) is not None  # another platform's ids
    assert calls == ["a", "d"] and await _customers(db) == 1
    async with db.read() as session:
        kept = (await session.execute(select(InboundEvent.replies).where(InboundEvent.state == "done"))).scalar_one()
    assert kept is None  # the replies are dropped once sent


async def test_a_redelivery_before_the_done_mark_is_written_is_skipped(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock, commit_delay=60)  # the done mark waits to be written with others
    await log.beat()
    calls: list[str] = []
    assert await log.once("telegram", "1101", _work(calls, "a"))
    await log.done("telegram", "1101")
    assert await log.once("telegram", "1101", _work(calls, "a")) is None  # not sent again
    await log.flush()
    assert await log.once("telegram", "1101", _work(calls, "a")) is None
    assert calls == ["a"] and await log.state("telegram", "1101") == "done"


async def test_a_failure_leaves_nothing_behind(db: Database, clock: FakeClock) -> None:
    log = InboundLog(db, clock)
    await log.beat()

    async def broken() -> list[Reply]:
        await _work([], "half", db=db)()
        raise RuntimeError("killed mid-way")

    with pytest.raises(RuntimeError):
        await log.once("telegram", "5", broken)
    assert await log.state("telegram", "5") is None and await _customers(db) == 0
    calls: list[str] = []
    assert await log.once("telegram", "5", _work(calls, "again", db=db)) is not None  # handled afresh
    assert calls == ["again"] and await _customers(db) == 1


async def test_a_released_event_sends_only_the_replies_not_yet_sent(db: Database, clock: FakeClock) -> None:
    """Sending failed after the first of two replies: the redelivery sends the second alone,
    and the event is not handled again."""
    log = InboundLog(db, clock)
    await log.beat()
    calls: list[str] = []

    async def two() -> list[Reply]:
        calls.append("two")
        return [Reply("first", locale="cs"), Reply("second", locale="cs")]

    assert [r.text for r in await log.once("telegram", "1201", two) or []] == ["first", "second"]
    log.release("telegram", "1201", sent=1)
    assert [r.text for r in await log.once("telegram", "1201", two) or []] == ["second"]
    assert await log.once("telegram", "1201", two) is None  # in hand again: not twice
    await log.done("telegram", "1201")
    await log.flush()
    assert calls == ["two"] and await log.state("telegram", "1201") == "done"


async def test_replies_kept_for_the_worker_that_takes_the_redelivery(db: Database, clock: FakeClock) -> None:
    """Killed after the commit, before sending: the redelivery sends the kept replies and does
    not handle the event again (a customer's message is not added twice)."""
    dead = InboundLog(db, clock)
    await dead.beat()
    calls: list[str] = []
    assert await dead.once("telegram", "7", _work(calls, "first", db=db)) is not None  # then killed
    restarted = [InboundLog(db, clock) for _ in range(5)]
    clock.advance(seconds=16)
    for log in restarted:
        await log.beat()
    results = await asyncio.gather(*(log.once("telegram", "7", _work(calls, "again", db=db), patience=0.5)
                                     for log in restarted))
    sent = [r for r in results if r is not None]
    assert len(sent) == 1 and sent[0][0].text == "answer to first"  # exactly one sends them
    assert calls == ["first"] and await _customers(db) == 1


async def test_a_live_workers_claim_is_respected(db: Database, clock: FakeClock) -> None:
    first, second = InboundLog(db, clock), InboundLog(db, clock)
    await first.beat()
    await second.beat()
    calls: list[str] = []
    assert await first.once("telegram", "5", _work(calls, "first")) is not None
    clock.advance(seconds=5)
    await first.beat()
    # A redelivery while the first still sends: waited for, then left to it.
    assert await second.once("telegram", "5", _work(calls, "second"), patience=0.5) is None
    waiting = asyncio.create_task(second.once("telegram", "5", _work(calls, "second")))
    await asyncio.sleep(0.2)
    await first.done("telegram", "5")
    await first.flush()
    assert await asyncio.wait_for(waiting, 5) is None
    assert calls == ["first"]


async def test_concurrent_deliveries_one_handler(db: Database, clock: FakeClock) -> None:
    logs = [InboundLog(db, clock) for _ in range(3)]
    for log in logs:
        await log.beat()
    calls: list[str] = []
    results = await asyncio.gather(*(logs[i % 3].once("slack", "Ev1", _work(calls, str(i)), patience=0.5)
                                     for i in range(10)))
    assert len(calls) == 1 and sum(r is not None for r in results) == 1


async def test_a_claim_of_the_previous_version_is_handled_afresh(db: Database, clock: FakeClock) -> None:
    """Before replies were kept, a claim was 'processing' with nothing to resend."""
    async with db.write() as session:
        await session.execute(insert(InboundEvent).values(platform="telegram", event_id="9", state="processing",
                                                          at=clock(), owner="gone:1:abc"))
    log = InboundLog(db, clock)
    await log.beat()
    calls: list[str] = []
    assert await log.once("telegram", "9", _work(calls, "afresh")) is not None
    assert calls == ["afresh"]


async def test_a_dead_workers_claim_is_waited_out_in_real_time(db: Database) -> None:
    from datetime import UTC, datetime

    dead = InboundLog(db, dead_after=timedelta(seconds=2))
    await dead.beat()
    assert await dead.once("telegram", "9", _work([], "first")) is not None  # then killed
    fresh = InboundLog(db, dead_after=timedelta(seconds=2))
    await fresh.beat()
    started = datetime.now(UTC)
    kept = await fresh.once("telegram", "9", _work([], "again"))
    assert kept is not None and kept[0].text == "answer to first"  # once the heartbeat was old enough
    assert (datetime.now(UTC) - started).total_seconds() >= 1.0
    await fresh.done("telegram", "9")
    await fresh.flush()
    assert await fresh.once("telegram", "9", _work([], "third")) is None  # done: not again


async def test_a_unit_of_work(db: Database, clock: FakeClock) -> None:
    """Blocks inside a unit join its transaction; a failing write block is rolled back alone;
    a task started inside does not join; a failing unit leaves nothing."""
    async def add(name: str) -> None:
        async with db.write() as session:
            session.add(Customer(platform="telegram", platform_user_id=name, chat_id=name,
                                 display_name="", reachable=True, created_at=clock()))

    async with db.unit():
        await add("kept")
        with pytest.raises(ValueError):
            async with db.write() as session:
                session.add(Customer(platform="telegram", platform_user_id="undone", chat_id="x",
                                     display_name="", reachable=True, created_at=clock()))
                await session.flush()
                raise ValueError("refused")
        async with db.read() as session:  # sees the unit's own writes
            names = set((await session.execute(select(Customer.platform_user_id))).scalars())
        assert names == {"kept"}
        if not db.is_sqlite:  # on SQLite a separate writer would wait for this unit's lock
            await asyncio.create_task(add("own transaction"))
    with pytest.raises(RuntimeError):
        async with db.unit():
            await add("lost")
            raise RuntimeError
    async with db.read() as session:
        names = set((await session.execute(select(Customer.platform_user_id))).scalars())
    assert names == ({"kept"} if db.is_sqlite else {"kept", "own transaction"})


async def test_a_block_without_a_savepoint_keeps_what_it_added(db: Database, clock: FakeClock) -> None:
    """A write block inside a unit that takes no savepoint still writes what it added last,
    unflushed: the end of the outermost block takes its objects out of the session."""
    async with db.unit():
        async with db.write(savepoint=False) as session:
            session.add(Customer(platform="telegram", platform_user_id="flushed", chat_id="1",
                                 display_name="", reachable=True, created_at=clock()))
            await session.flush()
            session.add(Customer(platform="telegram", platform_user_id="added last", chat_id="2",
                                 display_name="", reachable=True, created_at=clock()))
    async with db.read() as session:
        names = set((await session.execute(select(Customer.platform_user_id))).scalars())
    assert names == {"flushed", "added last"}


async def test_done_marks_are_written_a_batch_a_moment_under_steady_load(db: Database, clock: FakeClock) -> None:
    """Events handled back to back (each unit holding the write turn): the marks go out in a
    batch per commit_delay, not in a transaction per event or two."""
    delay = 0.3
    log = InboundLog(db, clock, commit_delay=delay)
    await log.beat()
    writes: list[int] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("UPDATE inbound_events SET state"):
            writes.append(len(params))

    loop = asyncio.get_running_loop()
    started, n = loop.time(), 0

    def windows() -> float:  # how many writes batching allows for the time taken so far
        return (loop.time() - started) / delay + 2

    # Until there are three times as many events as batching allows writes, so that a write per
    # event (or two) would show; on a busy machine that takes longer, not fewer events.
    while n < 30 or n < 3 * windows():
        assert loop.time() - started < 60, f"{n} events in a minute: too slow to tell"
        n += 1
        calls: list[str] = []
        assert await log.once("telegram", f"s{n}", _work(calls, f"s{n}", db=db)) is not None
        await log.done("telegram", f"s{n}")
    bound = windows()
    await log.flush()
    event.remove(db.engine.sync_engine, "before_cursor_execute", _count)
    assert len(writes) <= bound < n / 2, f"{len(writes)} writes for {n} marks"
    async with db.read() as session:
        done = (await session.execute(select(func.count()).select_from(InboundEvent)
                                      .where(InboundEvent.state == "done"))).scalar_one()
    assert done == n


@pytest.mark.parametrize("redelivery_first", [True, False])
async def test_a_worker_waiting_for_the_write_lock_is_not_taken_over(db: Database, redelivery_first: bool) -> None:
    """Another process holds SQLite's write lock longer than the takeover limit: the owner's
    heartbeat waits, and so does everyone's; no one takes the owner's claim meanwhile or after."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL has no database-wide write lock")
    import sqlite3

    owner = InboundLog(db, dead_after=timedelta(seconds=1))
    other = InboundLog(db, dead_after=timedelta(seconds=1))
    await owner.beat()
    await other.beat()
    calls: list[str] = []
    assert await owner.once("telegram", "12", _work(calls, "first")) is not None  # in hand, being sent
    holder = sqlite3.connect(db.url.database, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the other process

    async def beating(log: InboundLog, until: float) -> None:  # as the heartbeat job does
        loop = asyncio.get_running_loop()
        while loop.time() < until:
            await log.beat()
            await asyncio.sleep(0.2)

    loop = asyncio.get_running_loop()
    end = loop.time() + 6
    redelivery = None
    if redelivery_first:  # its look at the claim comes while the lock is held, before any beat waits
        await asyncio.sleep(1.2)
        redelivery = asyncio.create_task(other.once("telegram", "12", _work(calls, "again"), patience=4.5))
        await asyncio.sleep(0.3)
    beats = [asyncio.create_task(beating(log, end)) for log in (owner, other)]
    if redelivery is None:
        await asyncio.sleep(1.5)
        redelivery = asyncio.create_task(other.once("telegram", "12", _work(calls, "again"), patience=4.5))
    await asyncio.sleep(1.5)  # held for longer than the takeover limit
    holder.execute("COMMIT")
    holder.close()
    assert await asyncio.wait_for(redelivery, 30) is None  # left to its live owner
    await asyncio.gather(*beats)
    assert calls == ["first"]
    async with db.read() as session:
        assert (await session.execute(select(InboundEvent.owner).where(
            InboundEvent.event_id == "12"))).scalar_one() == owner.worker
