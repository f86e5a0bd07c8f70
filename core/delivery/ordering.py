"""One asyncio lock per key (a customer, a user): their events handled one at a time, in order;
and the long waits for the database's write lock, which every worker's judgement of another's
life must allow for."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class KeyedLocks(Generic[K]):
    """Taken before the first await of an event's handling, a key's lock keeps its events in
    the order they arrived: tasks start in arrival order and asyncio's locks are fair. A lock
    nobody holds or waits for is forgotten (weak values), so the map stays as small as the
    events in hand."""

    __slots__ = ("_locks",)

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[K, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, key: K) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock


class LockWaits:
    """Long waits for the database's write lock, remembered. A wait that long is another
    process holding the database (SQLite's one writer), and it held every worker's heartbeat
    too: for `dead_after` after it, no heartbeat's age proves its worker gone."""

    __slots__ = ("_ended", "dead_after", "long")

    def __init__(self, dead_after: float) -> None:
        self.dead_after = dead_after
        self.long = dead_after / 4
        self._ended: float | None = None  # monotonic time the last long wait ended

    def waited(self, asked: float) -> bool:
        """A wait for the lock that began at `asked` (monotonic) has ended: whether it was long."""
        now = time.monotonic()
        if now - asked < self.long:
            return False
        self._ended = now
        return True

    def may_judge(self) -> bool:
        """Whether another worker's heartbeat may be taken as evidence now."""
        return self._ended is None or time.monotonic() - self._ended >= self.dead_after
