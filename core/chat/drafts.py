"""Conversation state per customer, kept in the database so it survives restarts.

The statements are core.storage.repositories.drafts's (which chooses the fast path or
SQLAlchemy); this is the chat layer's view of them, with the periodic expiry, which tells the
owners of discarded forms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.delivery.outbox import notify_customer
from core.domain.clock import Clock
from core.storage.db import Database
from core.storage.models import Customer, Draft
from core.storage.repositories import drafts as repo
from core.storage.repositories.drafts import DraftState

__all__ = ["DraftState", "DraftStore"]


class DraftStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def get(self, customer_id: int) -> DraftState | None:
        return await repo.get(self.db, customer_id)

    async def load(self, platform: str, user_id: str) -> tuple[Customer | None, DraftState | None]:
        """A customer and their draft in one read: the start of every inbound event."""
        return await repo.load(self.db, platform, user_id)

    async def put(self, customer_id: int, state: str, data: dict[str, Any]) -> None:
        await repo.put(self.db, customer_id, state, data, self.clock())

    async def clear(self, customer_id: int) -> None:
        await repo.clear(self.db, customer_id)

    async def stale(self, older_than: datetime, limit: int = 500, *,
                    keep: frozenset[str] = frozenset()) -> list[int]:
        return await repo.stale(self.db, older_than, limit, keep=keep)

    async def expire(self, older_than: datetime, *, notify_states: frozenset[str], hours: float,
                     keep: frozenset[str] = frozenset()) -> int:
        """Discard forms untouched since `older_than` (but those in a state of `keep`); tell
        their owners in the same transaction."""
        count = 0
        for customer_id in await self.stale(older_than, keep=keep):
            async with self.db.write() as session:
                row = await session.get(Draft, customer_id)
                if row is None or row.updated_at >= older_than:
                    continue  # touched meanwhile
                if row.state in notify_states:
                    customer = await session.get_one(Customer, customer_id)
                    notify_customer(session, customer, "draft_expired", self.clock(), hours=hours)
                await session.delete(row)
                count += 1
        return count
