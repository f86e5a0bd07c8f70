"""Taking each platform event once, across restarts and processes.

An event is claimed before it is handled and marked done after. A redelivery of a done event,
or of one another worker is handling right now, is skipped; one whose handler died midway
(still "processing" after `stale_after`) is taken again, so a crash loses nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core.clock import Clock, utcnow
from core.storage.db import Database
from core.storage.models import InboundEvent


class InboundLog:
    def __init__(self, db: Database, clock: Clock = utcnow, stale_after: timedelta = timedelta(minutes=2)) -> None:
        self.db = db
        self.clock = clock
        self.stale_after = stale_after

    async def claim(self, platform: str, event_id: str) -> bool:
        """True when this process should handle the event now."""
        now = self.clock()
        try:
            async with self.db.write() as session:
                session.add(InboundEvent(platform=platform, event_id=event_id, state="processing", at=now))
            return True
        except IntegrityError:
            pass
        async with self.db.write() as session:
            # Take over an abandoned claim, atomically, so two redeliveries cannot both win.
            result = await session.execute(
                update(InboundEvent)
                .where(InboundEvent.platform == platform, InboundEvent.event_id == event_id,
                       InboundEvent.state == "processing", InboundEvent.at < now - self.stale_after)
                .values(at=now)
            )
            return bool(result.rowcount)

    async def done(self, platform: str, event_id: str) -> None:
        async with self.db.write() as session:
            await session.execute(
                update(InboundEvent)
                .where(InboundEvent.platform == platform, InboundEvent.event_id == event_id)
                .values(state="done")
            )

    async def state(self, platform: str, event_id: str) -> str | None:
        async with self.db.read() as session:
            return (await session.execute(
                select(InboundEvent.state).where(InboundEvent.platform == platform,
                                                 InboundEvent.event_id == event_id)
            )).scalar_one_or_none()

    async def forget_before(self, moment: datetime) -> int:
        """Drop old records (platforms stop redelivering after a day)."""
        async with self.db.write() as session:
            result = await session.execute(delete(InboundEvent).where(InboundEvent.at < moment))
            return int(result.rowcount or 0)
