"""A customer's draft (their conversation state) and the customer read with it.

`load` and `put` run for nearly every platform event: inside the event's unit, where the unit
attached a lean connection (core.storage.fastpath.lean), they go straight to the driver; elsewhere
they are the SQLAlchemy statements saying the same. The column lists below mirror
core.storage.models; tests/core/storage/test_drafts_repository.py runs both paths side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached

from core.storage.db import Database
from core.storage.fastpath.lean import Lean
from core.storage.models import Customer, Draft


@dataclass
class DraftState:
    state: str
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


async def load(db: Database, platform: str, user_id: str) -> tuple[Customer | None, DraftState | None]:
    """A customer and their draft in one read: the start of every inbound event."""
    lean = db.lean()
    if lean is not None:
        return await _lean_load(lean, platform, user_id)
    async with db.read() as session:
        row = (await session.execute(_LOAD, {"platform": platform, "user_id": user_id})).first()
    if row is None:
        return None, None
    customer, draft = row
    return customer, (DraftState(draft.state, dict(draft.data or {}), draft.updated_at) if draft else None)


async def get(db: Database, customer_id: int) -> DraftState | None:
    async with db.read() as session:
        row = await session.get(Draft, customer_id)
        if row is None:
            return None
        return DraftState(row.state, dict(row.data or {}), row.updated_at)


async def put(db: Database, customer_id: int, state: str, data: dict[str, Any], now: datetime) -> None:
    """Create or replace the draft: one upsert statement, built once (it runs on nearly every event)."""
    lean = db.lean()
    if lean is not None:
        await lean.execute(_UPSERT_SQL, (customer_id, state, lean.json(dict(data)), 1, lean.time(now)))
        return
    async with db.write(savepoint=False) as session:
        await (await session.connection()).execute(_upsert(db.is_sqlite), {  # Core: no ORM bookkeeping
            "customer_id": customer_id, "state": state, "data": dict(data), "version": 1, "updated_at": now})


async def clear(db: Database, customer_id: int) -> None:
    async with db.write() as session:
        await session.execute(delete(Draft).where(Draft.customer_id == customer_id))


async def stale(db: Database, older_than: datetime, limit: int = 500, *,
                keep: frozenset[str] = frozenset()) -> list[int]:
    """Customers whose draft was last touched before `older_than`, but for drafts in a state of
    `keep` (a letter waiting for an answer holds the customer's words: it never expires)."""
    query = select(Draft.customer_id).where(Draft.updated_at < older_than, Draft.state.not_in(keep)).limit(limit)
    async with db.read() as session:
        return list((await session.execute(query)).scalars())


_LOAD = (select(Customer, Draft).outerjoin(Draft, Draft.customer_id == Customer.id)
         .where(Customer.platform == bindparam("platform"), Customer.platform_user_id == bindparam("user_id")))


@cache
def _upsert(is_sqlite: bool) -> Any:
    stmt = (sqlite_insert if is_sqlite else pg_insert)(Draft)
    return stmt.on_conflict_do_update(
        index_elements=[Draft.customer_id],
        set_={"state": stmt.excluded.state, "data": stmt.excluded.data,
              "updated_at": stmt.excluded.updated_at, "version": Draft.version + 1})


# The same two statements below SQLAlchemy, for the unit of an event.
_CUSTOMER_COLUMNS = ("id", "platform", "platform_user_id", "chat_id", "display_name", "locale", "timezone",
                     "reachable", "created_at", "address", "organisation_id", "organisation_role",
                     "address_proven")
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
    width = len(_CUSTOMER_COLUMNS)
    values = dict(zip(_CUSTOMER_COLUMNS, row[:width], strict=True))
    values["reachable"] = bool(values["reachable"])
    values["address_proven"] = bool(values["address_proven"])
    values["created_at"] = lean.read_time(values["created_at"])
    customer = Customer(**values)
    make_transient_to_detached(customer)  # as the ORM read leaves it: loaded, then out of the session
    if row[width] is None:
        return customer, None
    state, data, updated = row[width + 1:]
    return customer, DraftState(state, dict(lean.read_json(data) or {}), lean.read_time(updated))
