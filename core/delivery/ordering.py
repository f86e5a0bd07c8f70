"""One asyncio lock per key (a customer, a user): their events handled one at a time, in order."""

from __future__ import annotations

import asyncio
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
