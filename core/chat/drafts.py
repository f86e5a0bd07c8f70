"""Conversation state per customer, kept in the database so it survives restarts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached

from core.delivery.outbox import notify_customer
from core.domain.clock import Clock
from core.storage.db import Database
from core.storage.fastpath.lean import Lean
from core.storage.models import Customer, Draft


@dataclass
class DraftState:
    state: str
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


class DraftStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def get(self, customer_id: int) -> DraftState | None:
        async with self.db.read() as session:
            row = await session.get(Draft, customer_id)
            if row is None:
                return None
            return DraftState(row.state, dict(row.data or {}), row.updated_at)

    async def load(self, platform: str, user_id: str) -> tuple[Customer | None, DraftState | None]:
        """A customer and their draft in one read: the start of every inbound event."""
        lean = self.db.lean()
        if lean is not None:
            return await _lean_load(lean, platform, user_id)
        async with self.db.read() as session:
            row = (await session.execute(_LOAD, {"platform": platform, "user_id": user_id})).first()
        if row is None:
            return None, None
        customer, draft = row
        return customer, (DraftState(draft.state, dict(draft.data or {}), draft.updated_at) if draft else None)

    async def put(self, customer_id: int, state: str, data: dict[str, Any]) -> None:
        # One upsert statement, built once: this runs on nearly every update (profiled).
        lean = self.db.lean()
        if lean is not None:
            await lean.execute(_UPSERT_SQL, (customer_id, state, lean.json(dict(data)), 1, lean.time(self.clock())))
            return
        async with self.db.write(savepoint=False) as session:
            await (await session.connection()).execute(_upsert(self.db.is_sqlite), {  # Core: no ORM bookkeeping
                "customer_id": customer_id, "state": state, "data": dict(data), "version": 1,
                "updated_at": self.clock()})

    async def clear(self, customer_id: int) -> None:
        async with self.db.write() as session:
            await session.execute(delete(Draft).where(Draft.customer_id == customer_id))

    async def stale(self, older_than: datetime, limit: int = 500) -> list[int]:
        query = select(Draft.customer_id).where(Draft.updated_at < older_than).limit(limit)
        async with self.db.read() as session:
            return list((await session.execute(query)).scalars())

    async def expire(self, older_than: datetime, *, notify_states: frozenset[str], hours: float) -> int:
        """Discard forms untouched since `older_than`; tell their owners in the same transaction."""
        count = 0
        for customer_id in await self.stale(older_than):
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


_LOAD = (select(Customer, Draft).outerjoin(Draft, Draft.customer_id == Customer.id)
         .where(Customer.platform == bindparam("platform"), Customer.platform_user_id == bindparam("user_id")))


@cache
def _upsert(is_sqlite: bool) -> Any:
    stmt = (sqlite_insert if is_sqlite else pg_insert)(Draft)
    return stmt.on_conflict_do_update(
        index_elements=[Draft.customer_id],
        set_={"state": stmt.excluded.state, "data": stmt.excluded.data,
              "updated_at": stmt.excluded.updated_at, "version": Draft.version + 1})


# The same two statements below SQLAlchemy, for the unit of an event (core.storage.fastpath.lean).
_CUSTOMER_COLUMNS = ("id", "platform", "platform_user_id", "chat_id", "display_name", "locale", "reachable",
                     "created_at")
_LOAD_SQL = (f"SELECT {', '.join('c.' + c for c in _CUSTOMER_COLUMNS)}, d.customer_id, d.state, d.data, "
             "d.updated_at FROM customers AS c LEFT OUTER JOIN drafts AS d ON d.customer_id = c.id "
             "WHERE c.platform = ? AND c.platform_user_id = ?")
_UPSERT_SQL = ("INSERT INTO drafts (customer_id, state, data, version, updated_at) VALUES (?, ?, ?, ?, ?) "
               "ON CONFLICT (customer_id) DO UPDATE SET state = excluded.state, data = excluded.data, "
               "updated_at = excluded.updated_at, version = drafts.version + 1")


async def _lean_load(lean: Lean, platform: str, user_id: str) -> tuple[Customer | None, DraftState | None]:
    row = await lean.one(_LOAD_SQL, (platform, user_id))
    if row is None:
        return None, None
    values = dict(zip(_CUSTOMER_COLUMNS, row[:8], strict=True))
    values["reachable"] = bool(values["reachable"])
    values["created_at"] = lean.read_time(values["created_at"])
    customer = Customer(**values)
    make_transient_to_detached(customer)  # as the ORM read leaves it: loaded, then out of the session
    if row[8] is None:
        return customer, None
    return customer, DraftState(row[9], dict(lean.read_json(row[10]) or {}), lean.read_time(row[11]))
