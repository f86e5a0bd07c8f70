"""Long polling that confirms an update to Telegram only once it has been handled.

python-telegram-bot's Updater confirms what it fetched on its very next getUpdates call,
before the updates are handled: a process killed then loses them. Here the offset never
passes an update still in hand, so Telegram redelivers it to the next process (and the
inbound log lets that process take it over). Several updates are handled side by side;
Telegram re-sends the ones in hand while they are, and those are ignored.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import statistics
import time
from collections.abc import Awaitable, Callable

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from adapters.telegram.botapi import TELEGRAM, BotApi
from adapters.telegram.request import UpdatesRequest
from adapters.telegram.sender import retry_seconds

log = logging.getLogger(__name__)
MAX_TRIES = 5
# How long the poller waits for an update in hand to finish before it asks for new ones anyway:
# a few times as long as updates take lately, in seconds at least STALLED and at most a second.
# While one is in hand, Telegram answers every call at once with it, so the updates that came
# meanwhile are fetched only by asking again (docs/benchmarks.md has the figures).
STALLED, STALLED_TIMES = 0.02, 4


class Poller:
    def __init__(self, bot: Bot, handle: Callable[[Update], Awaitable[None]], *, timeout: int = 25,
                 limit: int = 100, before_confirm: Callable[[], Awaitable[None]] | None = None,
                 request: UpdatesRequest | None = None, api: BotApi = TELEGRAM) -> None:
        self.bot = bot
        self.api = api  # its name in the log, the update types it asks for
        self.request = request  # when given, it leaves out the updates in hand before parsing
        if request is not None:
            request.seen = self._seen
        self.handle = handle
        self.before_confirm = before_confirm  # on stop: the done marks written before the last confirm
        self.timeout = timeout
        self.limit = limit
        self.running = False
        self._task: asyncio.Task[None] | None = None
        self._in_hand: dict[int, asyncio.Task[None]] = {}
        self._failed: dict[int, int] = {}  # update id -> tries: not confirmed, fetched and tried again
        self._highest = 0
        self._took: collections.deque[float] = collections.deque(maxlen=32)  # seconds recent updates took

    def start(self) -> None:
        self.running = True
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop fetching, finish what is in hand, and confirm it."""
        self.running = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._in_hand:
            await asyncio.wait(list(self._in_hand.values()), timeout=8)
        if self.before_confirm is not None:
            await self.before_confirm()
        with contextlib.suppress(TelegramError):
            await self.bot.get_updates(offset=self._offset(), timeout=0, limit=1,
                                       allowed_updates=self.api.allowed_updates)

    def _seen(self, update_id: int) -> bool:
        return update_id in self._in_hand or (update_id <= self._highest and update_id not in self._failed)

    def _offset(self) -> int | None:
        if self._in_hand or self._failed:
            return min([*self._in_hand, *self._failed])
        return self._highest + 1 if self._highest else None

    async def _loop(self) -> None:
        delay = 1.0
        while self.running:
            try:
                # An update is confirmed here once its replies were sent; its done mark follows a
                # moment later (a crash in that moment cannot repeat it: it is not sent again).
                updates = await self.bot.get_updates(offset=self._offset(), timeout=self.timeout,
                                                     limit=self.limit, allowed_updates=self.api.allowed_updates)
                delay = 1.0
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except (Conflict, InvalidToken) as exc:
                log.error("%s: polling refused: %s", self.api.name, type(exc).__name__)
                await asyncio.sleep(5.0)
                continue
            except (NetworkError, TelegramError) as exc:  # the server is away: back off, keep trying
                log.warning("%s: polling failed (%s); retrying in %.0f s", self.api.name, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            fresh = [u for u in updates if not self._seen(u.update_id)]
            for update in fresh:
                self._highest = max(self._highest, update.update_id)
                task = asyncio.create_task(self._one(update))
                self._in_hand[update.update_id] = task
            left_out = self.request.left_out if self.request is not None else 0
            if (left_out or updates) and self._in_hand:
                # Updates are in hand, and the next call would bring them back at once: wait for
                # one to finish rather than spin. Also straight after new ones: asking again at
                # once cost a getUpdates call per update at half rate and found nothing new.
                # But not for much longer than updates take: then the ones in hand are slow (a
                # commit waiting for the disk, a reply retried, a failed update backing off), and
                # the updates that came meanwhile must not wait for them. Without new ones, a
                # moment more when many are in hand (each call brings them all back again).
                await asyncio.wait(list(self._in_hand.values()), timeout=self._patience(),
                                   return_when=asyncio.FIRST_COMPLETED)
                if not fresh:
                    await asyncio.sleep(min(0.05, len(self._in_hand) * 0.0005))

    def _patience(self) -> float:
        typical = statistics.median(self._took) if self._took else 0.0
        return min(1.0, max(STALLED, STALLED_TIMES * typical))

    async def _one(self, update: Update) -> None:
        """Handle one update. One that fails is not confirmed: it stays in hand a while, then is
        fetched and tried again (a few times: then it is given up, so one cannot block all)."""
        try:
            started = time.monotonic()
            await self.handle(update)
            self._took.append(time.monotonic() - started)
            self._failed.pop(update.update_id, None)
        except Exception:
            tries = self._failed.get(update.update_id, 0) + 1
            if tries >= MAX_TRIES:
                self._failed.pop(update.update_id, None)
                log.exception("%s: update %s failed %s times; given up", self.api.name, update.update_id, tries)
            else:
                self._failed[update.update_id] = tries
                log.exception("%s: update %s failed; it will be tried again", self.api.name, update.update_id)
                await asyncio.sleep(min(30.0, 0.5 * 2 ** tries))
        finally:
            self._in_hand.pop(update.update_id, None)
