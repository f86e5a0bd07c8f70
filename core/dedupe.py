"""Taking each platform event once, across restarts and processes.

An event is claimed, by this worker, before it is handled and marked done after. A redelivery
of a done event is skipped, and so is one that a live worker is handling right now. A claim
whose worker stopped beating (killed, crashed: no heartbeat for `dead_after`) is taken over at
once, so a crash loses nothing: the platform redelivers, and the new worker handles it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from core.clock import Clock, utcnow
from core.storage.db import Database
from core.storage.models import InboundEvent, Worker

HEARTBEAT_EVERY = 3.0


class InboundLog:
    def __init__(self, db: Database, clock: Clock = utcnow, dead_after: timedelta = timedelta(seconds=10),
                 commit_delay: float = 0.01, worker: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.dead_after = dead_after
        self.commit_delay = commit_delay
        self.worker = worker or f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._done: set[tuple[str, str]] = set()
        self._flusher: asyncio.Task[None] | None = None

    async def beat(self) -> None:
        """This worker is alive (called at start and every HEARTBEAT_EVERY seconds)."""
        insert_ = sqlite_insert if self.db.is_sqlite else pg_insert
        stmt = insert_(Worker).values(id=self.worker, heartbeat_at=self.clock())
        stmt = stmt.on_conflict_do_update(index_elements=[Worker.id],
                                          set_={"heartbeat_at": stmt.excluded.heartbeat_at})
        async with self.db.write() as session:
            await session.execute(stmt)

    async def take(self, platform: str, event_id: str, *, patience: float = 300.0) -> bool:
        """Claim the event, waiting while another worker holds it: True to handle it now, False
        when it was handled already. While a claim is held, this waits (reading, not writing)
        rather than skip: skipping would confirm an update that a killed worker never finished."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        while True:
            if await self.claim(platform, event_id):
                return True
            while True:
                state, beat = await self._holder(platform, event_id)
                if state != "processing":
                    return False
                if beat is None or beat <= self.clock() - self.dead_after:
                    break  # its worker is gone: try to take it over
                if loop.time() >= deadline:  # a live worker holds it this long: leave it to them
                    return False
                await asyncio.sleep(1.0)

    async def _holder(self, platform: str, event_id: str) -> tuple[str | None, datetime | None]:
        query = (select(InboundEvent.state, Worker.heartbeat_at)
                 .outerjoin(Worker, Worker.id == InboundEvent.owner)
                 .where(InboundEvent.platform == platform, InboundEvent.event_id == event_id))
        async with self.db.read() as session:
            row = (await session.execute(query)).first()
        return (row[0], row[1]) if row else (None, None)

    async def claim(self, platform: str, event_id: str) -> bool:
        """True when this worker should handle the event now."""
        now = self.clock()
        try:
            async with self.db.write() as session:
                await session.execute(insert(InboundEvent).values(
                    platform=platform, event_id=event_id, state="processing", at=now, owner=self.worker))
            return True
        except IntegrityError:
            pass
        async with self.db.write() as session:
            # Take over a claim whose worker is gone. The row is locked first, so of two
            # redeliveries racing for it the second sees the first one's claim, alive.
            row = (await session.execute(
                select(InboundEvent).where(InboundEvent.platform == platform, InboundEvent.event_id == event_id)
                .with_for_update())).scalar_one_or_none()
            if row is None or row.state != "processing" or row.owner == self.worker:
                return False
            beat = (await session.execute(
                select(Worker.heartbeat_at).where(Worker.id == row.owner))).scalar_one_or_none()
            if beat is not None and beat > now - self.dead_after:
                return False  # its worker is alive and handling it
            row.owner, row.at = self.worker, now
            return True

    async def done(self, platform: str, event_id: str) -> None:
        """Mark an event handled. Marks are committed together a moment later (one write for
        many: profiled, this write was a third of the database time per update); a crash in
        that moment leaves the claim to be taken over, as one that died mid-way."""
        self._done.add((platform, event_id))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.commit_delay)
        await self.flush()

    async def flush(self) -> None:
        while self._done:
            batch, self._done = self._done, set()
            by_platform: dict[str, list[str]] = {}
            for platform, event_id in batch:
                by_platform.setdefault(platform, []).append(event_id)
            async with self.db.write() as session:
                for platform, ids in by_platform.items():
                    await session.execute(
                        update(InboundEvent)
                        .where(InboundEvent.platform == platform, InboundEvent.event_id.in_(ids))
                        .values(state="done")
                    )

    async def state(self, platform: str, event_id: str) -> str | None:
        async with self.db.read() as session:
            return (await session.execute(
                select(InboundEvent.state).where(InboundEvent.platform == platform,
                                                 InboundEvent.event_id == event_id)
            )).scalar_one_or_none()

    async def forget_before(self, moment: datetime) -> int:
        """Drop old records (platforms stop redelivering after a day) and long-gone workers."""
        async with self.db.write() as session:
            result = await session.execute(delete(InboundEvent).where(InboundEvent.at < moment))
            await session.execute(delete(Worker).where(Worker.heartbeat_at < moment))
            return int(result.rowcount or 0)
