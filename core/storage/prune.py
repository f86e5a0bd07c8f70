"""Deleting what has served its purpose: sent notifications, handled platform events, and the
heartbeats of workers long gone.

Rows go in small batches, one short transaction each, so pruning a long backlog never holds a
lock that the bot's own writes would wait behind. Only finished rows are touched: outbox rows
still pending, being sent or dead-lettered, and events not marked done, stay whatever their age.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, delete, select, tuple_

from core.storage.db import Database
from core.storage.models import InboundEvent, OutboxMessage, Worker

BATCH = 500


@dataclass(frozen=True, slots=True)
class Pruned:
    outbox: int = 0
    events: int = 0


async def prune(db: Database, before: datetime, *, batch: int = BATCH) -> Pruned:
    """Delete sent outbox rows sent before `before`, and done events taken before it."""
    sent = select(OutboxMessage.id).where(OutboxMessage.status == "sent", OutboxMessage.sent_at < before)
    outbox = await _in_batches(db, lambda: delete(OutboxMessage).where(
        OutboxMessage.id.in_(sent.order_by(OutboxMessage.id).limit(batch).scalar_subquery())), batch)
    key = tuple_(InboundEvent.platform, InboundEvent.event_id)
    done = select(InboundEvent.platform, InboundEvent.event_id).where(
        InboundEvent.state == "done", InboundEvent.at < before)
    events = await _in_batches(db, lambda: delete(InboundEvent).where(key.in_(done.limit(batch))), batch)
    return Pruned(outbox=outbox, events=events)


async def forget_workers(db: Database, before: datetime) -> int:
    """Delete the heartbeats of workers silent since `before` (every start adds one)."""
    async with db.write() as session:
        result = cast(CursorResult[Any], await session.execute(delete(Worker).where(Worker.heartbeat_at < before)))
        return int(result.rowcount or 0)


async def _in_batches(db: Database, statement: Callable[[], Delete], batch: int) -> int:
    total = 0
    while True:
        async with db.write() as session:
            result = cast(CursorResult[Any], await session.execute(statement()))
            n = int(result.rowcount or 0)
        total += n
        if n < batch:
            return total
        await asyncio.sleep(0)  # let waiting writers in between two batches
