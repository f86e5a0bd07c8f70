"""Delivering the outbox: nothing lost, nothing sent twice but after a crash, every limit kept.

Rows are claimed with a lease (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's single
writer does the same), so several relays share one outbox without sending a row twice. A row
is claimable only when it is the oldest unsent row of its chat and that chat's last message is
older than its platform's interval: one chat's notifications arrive in order, at most one per
interval, whatever the number of relays. A failed send waits (the platform's retry_after, or
exponential backoff with jitter) and delays only its own chat. Permanent failures become dead
letters; the customer is marked unreachable and the agents are told in the ticket's thread.

Each row is sent once per delivery: a row is held by the worker that claimed it (its lease
owner) until that worker records the outcome, and no relay sends a row that it or a live worker
holds. The holder's own relay never claims it again while the send or its record is in hand (a
record that failed to be written is written later, not sent again). Another relay takes a row
over only from a worker that is gone: its heartbeat stopped, or, for a holder that never beat,
its lease ran out. A lease running out while its holder beats is no proof of a crash (a send
still in flight on a busy machine). The heartbeat is the only evidence of life, as in
core.delivery.inbound: a host name and pid say nothing across containers that share a host name.
So a second send needs a crash: the holder killed after its send started and before the send
was recorded. Such a row goes out again (a platform may offer no way to ask whether it has a
message): at most the sends in flight at that moment, once each. (A send whose answer never
came, a time-out, is the other case that can repeat a message: it is retried, since the
platform may not have it.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from core.chat.notices import render
from core.delivery.contract import Channel, DeliveryError, DeskSender, Pacing
from core.delivery.inbound import WORKER_DEAD_AFTER, worker_id
from core.delivery.ordering import LockWaits
from core.delivery.outbox import DESK_PREFIX, SECRET_REPLY, DeskRoutes, desk_platform, notify_desk, wake_on_commit
from core.domain.clock import Clock, utcnow
from core.domain.config import LANGUAGES, Delivery
from core.i18n import pick_language, translator
from core.storage.db import Database
from core.storage.models import Customer, OutboxMessage, Ticket, Worker

log = logging.getLogger(__name__)


class Relay:
    """Sends the outbox through the channels, each row at its channel's declared pace; the
    agents' news through the desks of the channels that serve one, each at its desk's pace.

    A desk's rows are sent beside the customers' rather than with them: a desk is slow by its
    platform's nature (a group takes a few messages a minute), and no customer waits for it."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        *,
        desks: DeskRoutes | None = None,
        delivery: Delivery | None = None,
        languages: tuple[str, ...] = LANGUAGES,
        clock: Clock = utcnow,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.channels = dict(channels)
        self.desks: dict[str, DeskSender] = {
            desk_platform(name): c.desk for name, c in self.channels.items() if c.desk is not None}
        self.routes = desks  # where desk news goes (a failure to reach a customer is news too)
        self.delivery = delivery or Delivery()
        self.languages = languages  # a customer's own when offered, else the first
        self.clock = clock
        self.owner = owner or worker_id()
        # Each outbox platform's pacing: a channel's, and each desk at its own pace.
        self._pacing = {name: c.pacing for name, c in self.channels.items()}
        for platform, desk in self.desks.items():
            self._pacing[platform] = Pacing(desk.interval, desk.interval)
        self._in_hand: set[int] = set()  # claimed here: the send or its record not yet done
        self._desk_sends: set[asyncio.Task[bool]] = set()  # desk rows in flight beside the flushes
        self._unrecorded: dict[int, dict[str, Any]] = {}  # sent here, the sent-mark still to write
        self._waits = LockWaits(WORKER_DEAD_AFTER.total_seconds())
        self.wake = asyncio.Event()  # set when news was queued here, so it goes out at once
        wake_on_commit(self.wake)

    # -- claiming -------------------------------------------------------------------------

    def _platforms(self) -> list[str]:
        return list(self._pacing)

    def _paced_late(self, row: OutboxMessage, last_sent: Any, now: Any) -> bool:
        """Whether a row the query let through must still wait: its chat's kind, asked of its
        channel, has the longer of the channel's two intervals (the query applied the shorter)."""
        channel = self.channels.get(row.platform)
        if last_sent is None or channel is None:
            return False
        pacing = channel.pacing
        interval = pacing.group_interval if channel.is_group(row.chat_id) else pacing.chat_interval
        return interval > min(pacing.chat_interval, pacing.group_interval) and \
            last_sent > now - timedelta(seconds=interval)

    async def claim(self, limit: int) -> list[tuple[OutboxMessage, str | None, bool]]:
        """Lease up to `limit` rows that may be sent now, each the next of its chat."""
        platforms = self._platforms()
        if not platforms:
            return []
        now = self.clock()
        o, earlier, recent = OutboxMessage, aliased(OutboxMessage), aliased(OutboxMessage)
        # A held row is taken over only from a worker that is gone: its heartbeat stopped, or it
        # never beat and its lease ran out. A lease running out while its worker beats proves
        # nothing (a send still in flight on a busy machine). This relay's own rows whose lease
        # ran out are looked at too: those not in hand here were left by a write that failed.
        stale = exists().where(Worker.id == o.lease_owner, Worker.heartbeat_at <= now - WORKER_DEAD_AFTER)
        never_beat = ~exists().where(Worker.id == o.lease_owner)
        mine = o.lease_owner == self.owner
        held_by_another = or_(o.lease_owner.is_(None), o.lease_owner != self.owner)
        waiting = and_(o.status == "pending", o.next_attempt_at <= now)
        taken_over = and_(o.status == "sending", or_(
            and_(held_by_another, or_(stale, and_(never_beat, o.lease_until < now))),
            and_(mine, o.lease_until < now)))
        blocked = exists().where(earlier.platform == o.platform, earlier.chat_id == o.chat_id,
                                 earlier.id < o.id, earlier.status.in_(("pending", "sending")))
        paced, longest = [], 0.0
        for platform, pacing in self._pacing.items():
            # The shorter interval here, the longer one in _paced_late: only the channel can tell
            # a group chat from a private one.
            interval = min(pacing.chat_interval, pacing.group_interval)
            if pacing.group_interval != pacing.chat_interval:
                longest = max(longest, pacing.chat_interval, pacing.group_interval)
            condition = [o.platform == platform]
            if interval > 0:
                condition.append(~exists().where(
                    recent.platform == o.platform, recent.chat_id == o.chat_id,
                    recent.sent_at > now - timedelta(seconds=interval)))
            paced.append(and_(*condition))
        last_sent = (select(func.max(recent.sent_at)).where(
            recent.platform == o.platform, recent.chat_id == o.chat_id,
            recent.sent_at > now - timedelta(seconds=longest)).scalar_subquery() if longest else None)
        asked = time.monotonic()
        async with self.db.write() as session:
            # A long wait for the database (SQLite's one writer) held the holders' heartbeats up
            # too: their age proves nothing until they had time to beat again, so for that long
            # this relay takes over nothing (as core.delivery.inbound does for inbound claims).
            self._waits.waited(asked)
            due = or_(waiting, taken_over) if self._waits.may_judge() else waiting
            if last_sent is None:
                query = (select(o).where(o.platform.in_(platforms), due, ~blocked, or_(*paced))
                         .order_by(o.id).limit(limit).with_for_update(skip_locked=True))
                rows = [row for row in (await session.execute(query)).scalars() if self._may_take(row)]
            else:
                with_last = (select(o, last_sent).where(o.platform.in_(platforms), due, ~blocked, or_(*paced))
                             .order_by(o.id).limit(limit).with_for_update(of=o, skip_locked=True))
                rows = [row for row, last in (await session.execute(with_last)).all()
                        if self._may_take(row) and not self._paced_late(row, last, now)]
            for row in rows:
                row.status = "sending"
                row.lease_until = now + timedelta(seconds=self.delivery.lease_seconds)
                row.lease_owner = self.owner
                self._in_hand.add(row.id)
            ids = [r.customer_id for r in rows if r.customer_id is not None]
            people = {c.id: (c.locale, c.reachable) for c in (await session.execute(
                select(Customer).where(Customer.id.in_(ids)))).scalars()} if ids else {}
        return [(r, *people.get(r.customer_id or 0, (None, True))) for r in rows]

    def _may_take(self, row: OutboxMessage) -> bool:
        """Whether a row the query found due is this relay's to send: not one in hand here."""
        return row.id not in self._in_hand and row.id not in self._unrecorded

    # -- sending --------------------------------------------------------------------------

    async def flush(self, limit: int | None = None) -> int:
        """Send what may be sent now; returns how many were delivered."""
        await self._record_unrecorded()
        rows = await self.claim(limit or self.delivery.concurrency * 4)
        if not rows:
            return 0
        gate = asyncio.Semaphore(self.delivery.concurrency)

        async def one(row: OutboxMessage, locale: str | None, reachable: bool) -> bool:
            async with gate:
                return await self._send(row, locale, reachable)

        customers = []
        for row, locale, reachable in rows:
            if row.platform.startswith(DESK_PREFIX):
                # At most one row per desk chat is claimed at a time (the next waits for it), so
                # these tasks are as many as the desk chats.
                task = asyncio.ensure_future(self._send(row, locale, reachable))
                self._desk_sends.add(task)
                task.add_done_callback(self._desk_sends.discard)
            else:
                customers.append(one(row, locale, reachable))
        results = await asyncio.gather(*customers)
        return sum(results) + (len(rows) - len(customers))

    async def settle(self) -> None:
        """Wait for the desk rows in flight (a send cut off half-way would be sent again)."""
        while self._desk_sends:
            await asyncio.gather(*list(self._desk_sends), return_exceptions=True)

    async def _send(self, row: OutboxMessage, locale: str | None, reachable: bool) -> bool:
        try:
            return await self._deliver(row, locale, reachable)
        finally:
            self._in_hand.discard(row.id)

    async def _deliver(self, row: OutboxMessage, locale: str | None, reachable: bool) -> bool:
        try:
            if row.platform.startswith(DESK_PREFIX):
                await self.desks[row.platform].deliver(row.event, row.params, row.ticket_id)
            else:
                if not reachable:
                    raise DeliveryError("the customer cannot be reached", permanent=True)
                reply = render(translator(pick_language(self.languages, locale)), row.event, row.params)
                await self.channels[row.platform].sender.send(row.chat_id, reply)
        except DeliveryError as exc:
            await self._failed(row, exc, was_reachable=reachable)
            return False
        except Exception as exc:
            log.exception("outbox %s: unexpected send failure", row.id)
            await self._failed(row, DeliveryError(type(exc).__name__), was_reachable=reachable)
            return False
        sent: dict[str, Any] = {"status": "sent", "sent_at": self.clock(), "attempts": row.attempts + 1,
                                "lease_until": None, "lease_owner": None, **_erased(row)}
        try:
            await self._mark(row, **sent)
        except Exception:
            log.exception("outbox %s: sent, but recording it failed; trying again", row.id)
            self._unrecorded[row.id] = sent
        return True

    async def _record_unrecorded(self) -> None:
        """Write the sent-marks that failed to be written (the rows stay held here meanwhile)."""
        for row_id, values in list(self._unrecorded.items()):
            async with self.db.write(urgent=True) as session:
                await session.execute(update(OutboxMessage).where(
                    OutboxMessage.id == row_id, OutboxMessage.lease_owner == self.owner).values(**values))
            del self._unrecorded[row_id]

    async def _failed(self, row: OutboxMessage, exc: DeliveryError, *, was_reachable: bool) -> None:
        attempts = row.attempts + 1
        now = self.clock()
        if not (exc.permanent or attempts >= self.delivery.max_attempts):
            delay = exc.retry_after if exc.retry_after is not None else \
                min(300.0, 2.0 ** attempts) * random.uniform(0.5, 1.0)
            await self._mark(row, status="pending", attempts=attempts, last_error=str(exc)[:500],
                             next_attempt_at=now + timedelta(seconds=delay), lease_until=None, lease_owner=None)
            return
        log.warning("outbox %s (%s to %s): dead letter after %s attempt(s): %s",
                    row.id, row.event, row.platform, attempts, exc)
        async with self.db.write(urgent=True) as session:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                status="dead", attempts=attempts, last_error=str(exc)[:500], lease_until=None, lease_owner=None,
                **_erased(row)))
            if exc.permanent and row.customer_id is not None and was_reachable:
                await session.execute(update(Customer).where(Customer.id == row.customer_id).values(reachable=False))
                if self.routes and row.ticket_id is not None:
                    ticket = await session.get_one(Ticket, row.ticket_id)
                    notify_desk(session, ticket, self.routes, "customer_unreachable", now,
                                platform=row.platform, reason=str(exc)[:200])

    async def _mark(self, row: OutboxMessage, **values: object) -> None:
        async with self.db.write(urgent=True) as session:
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.id == row.id, OutboxMessage.lease_owner == self.owner).values(**values))

    async def pending(self) -> bool:
        """Whether anything waits to be sent (now or later) on the channels this relay serves."""
        query = select(OutboxMessage.id).where(
            OutboxMessage.status.in_(("pending", "sending")),
            OutboxMessage.platform.in_(self._platforms())).limit(1)
        async with self.db.read() as session:
            return (await session.execute(query)).first() is not None

    async def sleep(self, interval: float) -> None:
        """Wait `interval`, or less when something new was written."""
        try:
            await asyncio.wait_for(self.wake.wait(), interval)
        except TimeoutError:
            pass
        self.wake.clear()

    async def drain(self, timeout: float = 10.0) -> None:
        """Deliver all that is due, for a clean shutdown (gives up after `timeout`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not await self.flush() and not self._desk_sends and not await self.pending():
                return
            await asyncio.sleep(0.05)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.settle(), max(0.0, deadline - loop.time()) + 1.0)


async def outbox_stats(db: Database) -> dict[tuple[str, str], int]:
    query = select(OutboxMessage.platform, OutboxMessage.status, func.count()).group_by(
        OutboxMessage.platform, OutboxMessage.status)
    async with db.read() as session:
        return {(p, s): int(n) for p, s, n in (await session.execute(query)).all()}


async def retry_dead(db: Database, clock: Clock = utcnow) -> int:
    """Put dead letters back in line; their customers count as reachable again."""
    now = clock()
    async with db.write() as session:
        customers = select(OutboxMessage.customer_id).where(
            OutboxMessage.status == "dead", OutboxMessage.customer_id.is_not(None))
        await session.execute(update(Customer).where(Customer.id.in_(customers)).values(reachable=True))
        # A secret's row has no words left to send (and its code has expired): it stays dead.
        result = cast(CursorResult[Any], await session.execute(update(OutboxMessage).where(
            OutboxMessage.status == "dead", OutboxMessage.event != SECRET_REPLY).values(
                status="pending", attempts=0, next_attempt_at=now, last_error=None)))
        return int(result.rowcount or 0)


def _erased(row: OutboxMessage) -> dict[str, Any]:
    """A secret's words go once its row is done with (sent or dead)."""
    return {"params": {}} if row.event == SECRET_REPLY else {}
