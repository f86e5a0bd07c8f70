"""Taking each platform event once, across restarts and processes.

An event is claimed, handled and its replies kept in one transaction (once()); it is marked
done when the replies were sent. A redelivery of a done event is skipped, and so is one that a
live worker has in hand. A claim whose worker stopped beating (killed, crashed: no heartbeat for
`dead_after`) is taken over at once: its kept replies are sent by the new worker. A worker killed
before the commit leaves nothing behind, and the redelivery is handled afresh. So a crash loses
nothing and adds nothing twice: a customer's message is in the ticket once.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from core.chat.messages import Reply
from core.delivery.ordering import LockWaits
from core.delivery.outbox import queue_reply
from core.domain.clock import Clock, utcnow
from core.storage.db import Database
from core.storage.repositories import inbound as events

HEARTBEAT_EVERY = 3.0
WORKER_DEAD_AFTER = timedelta(seconds=10)  # no heartbeat for this long: the worker is gone


def worker_id() -> str:
    """A new id for this worker, unique per start: the host name and pid only help a reader
    (containers sharing a host name can share a pid too), the random part makes it unique."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(8)}"


async def no_replies() -> list[Reply]:
    """The work of an event that is recorded as handled but answers nothing."""
    return []


class InboundLog:
    def __init__(self, db: Database, clock: Clock = utcnow, dead_after: timedelta = WORKER_DEAD_AFTER,
                 commit_delay: float = 0.1, worker: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.dead_after = dead_after
        self.commit_delay = commit_delay
        self.worker = worker or worker_id()
        self._done: set[tuple[str, str]] = set()
        self._in_hand: set[tuple[str, str]] = set()  # claimed here, replies not yet sent
        self._flushing: set[tuple[str, str]] = set()  # done here, the mark being written
        self._sent: dict[tuple[str, str], int] = {}  # released events: how many replies went out
        self._flusher: asyncio.Task[None] | None = None
        self._waits = LockWaits(dead_after.total_seconds())
        self._beat_asked: float | None = None  # monotonic time of the beat in progress

    async def beat(self) -> None:
        """This worker is alive (called at start and every HEARTBEAT_EVERY seconds).

        The time written is when the write got the database, not when it was asked for: a beat
        that waited for another process's write lock must not arrive looking as old as the wait."""
        self._beat_asked = time.monotonic()
        try:
            async with self.db.write(urgent=True) as session:
                await self._locked(session)
                await events.beat(session, self.worker, self.clock())
        finally:
            self._beat_asked = None

    async def _locked(self, session: Any) -> bool:
        """Take the database's write lock (SQLite: BEGIN IMMEDIATE) in this write transaction;
        whether that meant a long wait, which is then remembered (see _may_judge)."""
        asked = time.monotonic()
        await session.connection()
        return self._waits.waited(asked)

    def _may_judge(self) -> bool:
        """Whether this worker may call another dead now. Not while its own heartbeat waits for
        the write lock, nor for `dead_after` after any long wait for it: whatever held the
        database held the other's heartbeat too, which is then old for that reason alone."""
        if self._beat_asked is not None and time.monotonic() - self._beat_asked >= self._waits.long:
            return False
        return self._waits.may_judge()

    async def once(self, platform: str, event_id: str, work: Callable[[], Awaitable[list[Reply]]], *,
                   patience: float = 300.0) -> list[Reply] | None:
        """Handle the event once, across redeliveries, restarts and processes; the replies to send.

        `work` runs in one unit of work with the event's claim, and the replies it returns are
        kept with the claim until done(): all of it commits, or none. A worker killed after the
        commit but before sending leaves the replies to whoever takes the redelivery, who sends
        them without handling the event again. None: nothing to send, because the event was
        handled already or a live worker has it in hand (waited for up to `patience` seconds:
        skipping would confirm an update that a killed worker never finished)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        key = (platform, event_id)
        while True:
            if self._here(key):  # handled here: its replies on their way, or sent
                return None
            replies: list[Reply] | None = None
            async with self.db.unit() as session:
                # The claim comes first: on PostgreSQL another process's uncommitted claim of the
                # event makes this wait, so two deliveries are never worked on side by side.
                if await events.claim(session, platform, event_id, "replying", self.clock(), self.worker):
                    replies = await work()
                    await events.keep(session, platform, event_id, [r.to_json() for r in replies])
            if replies is not None:  # committed
                self._in_hand.add(key)
                return replies
            # Someone has it: wait (reading, not writing) until it is done or its worker is gone.
            while True:
                state, owner, beat = await self._holder(platform, event_id)
                if state is None:
                    break  # forgotten meanwhile: claim it afresh
                if state == "done" or self._here(key):
                    return None
                if self._alive(owner, beat) or not (self._may_judge() or self._gone(owner)):
                    if loop.time() >= deadline:  # a live worker holds it this long: leave it to them
                        return None
                    await asyncio.sleep(1.0)
                    continue
                taken = await self._take_over(platform, event_id, owner)
                if taken is not None:
                    self._in_hand.add(key)
                    return taken[self._sent.pop(key, 0):]

    def _here(self, key: tuple[str, str]) -> bool:
        """Taken by this worker, and not yet marked done in the database."""
        return key in self._in_hand or key in self._done or key in self._flushing

    def _alive(self, owner: str | None, beat: datetime | None) -> bool:
        """Whether the worker `owner` may still be working: its heartbeat is recent. The
        heartbeat is the only evidence: a host name and pid in the id say nothing about another
        container, which may reuse both."""
        if owner is None or beat is None or beat <= self.clock() - self.dead_after:
            return False
        return not self._gone(owner)

    def _gone(self, owner: str | None) -> bool:
        """Known not to work any more, whatever its heartbeat says: this worker before a restart
        of its work (nobody else will send). Nothing else is known without the heartbeat: a host
        name and pid in another worker's id say nothing about another container."""
        return owner == self.worker

    async def _holder(self, platform: str, event_id: str) -> tuple[str | None, str | None, datetime | None]:
        async with self.db.read() as session:
            return await events.holder(session, platform, event_id)

    async def _take_over(self, platform: str, event_id: str, owner: str | None) -> list[Reply] | None:
        """The kept replies of an event whose worker is gone (or was this process before it
        restarted its work), now this worker's to send; None to look again."""
        async with self.db.write() as session:
            if await self._locked(session) and not self._gone(owner):
                return None  # the owner's heartbeat may have waited as long: judged again later
            # Locked first, so of two redeliveries racing for it the second sees the first's claim.
            row = await events.locked(session, platform, event_id)
            if row is None or row.state == "done" or row.owner != owner:
                return None
            beat = await events.heartbeat(session, owner)
            if self._alive(owner, beat):  # it beat since it was seen: this lock ends any race with that
                return None
            if row.replies is None:  # claimed by a version that kept no replies: handle it afresh
                await session.delete(row)
                return None
            row.owner, row.at = self.worker, self.clock()
            return [Reply.from_json(r) for r in row.replies]

    def release(self, platform: str, event_id: str, *, sent: int) -> None:
        """Sending the replies failed after `sent` of them went out: the event stays claimed with
        its replies kept, and the platform's redelivery of it (an unconfirmed update, a webhook
        answered 500) takes them over and sends the rest, here or in another process."""
        key = (platform, event_id)
        self._in_hand.discard(key)
        self._sent[key] = sent
        if len(self._sent) > 10_000:  # redeliveries that never came: forget the oldest
            del self._sent[next(iter(self._sent))]

    async def hand_over(self, platform: str, event_id: str, chat_id: str, replies: list[Reply]) -> None:
        """The event's replies not yet sent go to the outbox, and the event is done, together: the
        relay sends them when the chat may be written to again, and a redelivery sends nothing."""
        async with self.db.write(urgent=True) as session:
            for reply in replies:
                queue_reply(session, platform, chat_id, reply, self.clock())
            await events.mark_done(session, platform, [event_id])
        self._in_hand.discard((platform, event_id))

    async def done(self, platform: str, event_id: str) -> None:
        """Mark an event handled. Marks are committed together a moment later (one write for
        many: profiled, one write per event was a large part of the database time per update). A crash in that
        moment leaves the claim to be taken over if the platform delivers the event again; by
        then a polled update was confirmed, so it is not."""
        self._done.add((platform, event_id))
        self._in_hand.discard((platform, event_id))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        # A batch a moment while marks keep coming. Writing the next batch as soon as the last
        # was written degenerated under steady load into a transaction of one or two marks per
        # event (the write waits its turn behind a unit, and one more event is done meanwhile).
        while self._done:
            await asyncio.sleep(self.commit_delay)
            await self._write_marks()

    async def flush(self) -> None:
        """Write every done mark now (before the poller's last confirm, at shutdown)."""
        while self._done:
            await self._write_marks()

    async def _write_marks(self) -> None:
        if self._done:
            batch, self._done = self._done, set()
            self._flushing |= batch
            by_platform: dict[str, list[str]] = {}
            for platform, event_id in batch:
                by_platform.setdefault(platform, []).append(event_id)
            try:
                async with self.db.write(urgent=True) as session:
                    for platform, ids in by_platform.items():
                        await events.mark_done(session, platform, ids)
            finally:
                self._flushing -= batch

    async def state(self, platform: str, event_id: str) -> str | None:
        async with self.db.read() as session:
            return await events.state(session, platform, event_id)

