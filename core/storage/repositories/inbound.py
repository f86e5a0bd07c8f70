"""The inbound events' claims and the workers' heartbeats (core.delivery.inbound's statements).

The claim and the kept replies run for every event: on SQLite they go straight to the driver on
the unit's own connection (core.storage.fastpath.lean), which the claim then attaches to the
unit for the event's other statements (the customer and draft: repositories.drafts); elsewhere
they are the SQLAlchemy statements saying the same. The column lists below mirror
core.storage.models; tests/core/storage/test_inbound_repository.py runs both paths side by side.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.fastpath.lean import LEAN_KEY, Lean
from core.storage.models import InboundEvent, Worker


async def claim(session: AsyncSession, platform: str, event_id: str, state: str, at: datetime, owner: str) -> bool:
    """Claim the event for `owner`, first statement of the event's unit; False when it is
    claimed already. A claim attaches the fast path (if any) to the unit."""
    connection = await session.connection()  # Core statements: no ORM bookkeeping
    lean = Lean.of(connection)
    if lean is not None:
        claimed = await lean.execute(_CLAIM_SQL, (platform, event_id, state, lean.time(at), owner))
    else:
        claimed = (await connection.execute(_claim(connection.dialect.name == "sqlite"), {
            "platform": platform, "event_id": event_id, "state": state, "at": at, "owner": owner})).rowcount
        lean = Lean.of(connection)
    if claimed == 1:
        session.info[LEAN_KEY] = lean
        return True
    return False


async def keep(session: AsyncSession, platform: str, event_id: str, replies: list[Any]) -> None:
    """Keep the event's replies (as JSON) with its claim, in the claim's unit."""
    lean: Lean | None = session.info.get(LEAN_KEY)
    if lean is not None:
        await lean.execute(_KEEP_SQL, (lean.json(replies), platform, event_id))
    else:
        await (await session.connection()).execute(_KEEP, {"p": platform, "e": event_id, "replies": replies})


async def mark_done(session: AsyncSession, platform: str, event_ids: list[str]) -> None:
    await (await session.connection()).execute(_DONE, {"p": platform, "ids": event_ids})


async def beat(session: AsyncSession, worker: str, at: datetime) -> None:
    """The worker's heartbeat, written (or created) at `at`."""
    insert_ = sqlite_insert if (await session.connection()).dialect.name == "sqlite" else pg_insert
    stmt = insert_(Worker).values(id=worker, heartbeat_at=at)
    await session.execute(stmt.on_conflict_do_update(index_elements=[Worker.id],
                                                     set_={"heartbeat_at": stmt.excluded.heartbeat_at}))


async def holder(session: AsyncSession, platform: str, event_id: str
                 ) -> tuple[str | None, str | None, datetime | None]:
    """The event's state, its owner and the owner's last heartbeat (all None: no such claim)."""
    query = (select(InboundEvent.state, InboundEvent.owner, Worker.heartbeat_at)
             .outerjoin(Worker, Worker.id == InboundEvent.owner).where(*_event(platform, event_id)))
    row = (await session.execute(query)).first()
    return (row[0], row[1], row[2]) if row else (None, None, None)


async def locked(session: AsyncSession, platform: str, event_id: str) -> InboundEvent | None:
    """The event's claim, locked for the rest of the transaction."""
    query = select(InboundEvent).where(*_event(platform, event_id)).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def heartbeat(session: AsyncSession, worker: str | None) -> datetime | None:
    return (await session.execute(select(Worker.heartbeat_at).where(Worker.id == worker))).scalar()


async def state(session: AsyncSession, platform: str, event_id: str) -> str | None:
    query = select(InboundEvent.state).where(*_event(platform, event_id))
    return (await session.execute(query)).scalar_one_or_none()


def _event(platform: str, event_id: str) -> tuple[Any, ...]:
    return InboundEvent.platform == platform, InboundEvent.event_id == event_id


# The statements run for every event, built once: building them cost more than running them.
@cache
def _claim(is_sqlite: bool) -> Any:
    return (sqlite_insert if is_sqlite else pg_insert)(InboundEvent).on_conflict_do_nothing()


_KEEP = (update(InboundEvent).where(InboundEvent.platform == bindparam("p"), InboundEvent.event_id == bindparam("e"))
         .values(replies=bindparam("replies")))
_CLAIM_SQL = ("INSERT INTO inbound_events (platform, event_id, state, at, owner) VALUES (?, ?, ?, ?, ?) "
              "ON CONFLICT DO NOTHING")  # _claim, below SQLAlchemy
_KEEP_SQL = "UPDATE inbound_events SET replies = ? WHERE platform = ? AND event_id = ?"  # _KEEP, below SQLAlchemy
_DONE = (update(InboundEvent)
         .where(InboundEvent.platform == bindparam("p"), InboundEvent.event_id.in_(bindparam("ids", expanding=True)))
         .values(state="done", replies=None))
