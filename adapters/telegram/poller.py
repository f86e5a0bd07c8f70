"""Long polling that confirms an update to Telegram only once it has been handled.

python-telegram-bot's Updater confirms what it fetched on its very next getUpdates call,
before the updates are handled: a process killed then loses them. Here the offset never
passes an update still in hand, so Telegram redelivers it to the next process (and the
inbound log lets that process take it over). Several updates are handled side by side;
Telegram re-sends the ones in hand while they are, and those are ignored.

An update python-telegram-bot cannot read fails the whole answer, and would fail every later
one: the next answer is then read one update at a time (UpdatesRequest.screen), and the
unreadable one is skipped and confirmed with the others.
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


def _no_update_content(record: logging.LogRecord) -> bool:
    """python-telegram-bot logs a whole answer it cannot read (customers' messages among it);
    the poller logs the update's id and the kind of error instead."""
    return not str(record.msg).startswith("Error while parsing updates!")


for _bot_log in ("telegram.Bot", "telegram.ext.ExtBot"):
    logging.getLogger(_bot_log).addFilter(_no_update_content)

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
            request.unreadable = self._skip
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

    @property
    def alive(self) -> bool:
        """Fetching: started, not stopped, and the loop has not ended on a fault it let through."""
        return self.running and self._task is not None and not self._task.done()

    def start(self) -> None:
        self.running = True
        self._task = asyncio.create_task(self._loop())
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:  # health() reports it too
            log.error("%s: polling ended: %s", self.api.name, type(task.exception()).__name__)

    async def stop(self) -> None:
        """Stop fetching, finish what is in hand, and confirm it."""
        self.running = False
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])  # ended, whether cancelled or (logged) by a fault
        if self._in_hand:
            await asyncio.wait(list(self._in_hand.values()), timeout=8)
        if self.before_confirm is not None:
            await self.before_confirm()
        with contextlib.suppress(TelegramError):
            await self.bot.get_updates(offset=self._offset(), timeout=0, limit=1,
                                       allowed_updates=self.api.allowed_updates)

    def _skip(self, update_id: int, error: Exception) -> None:
        """An update python-telegram-bot cannot read: never handled, confirmed with the next call.
        Its content is left out of the log (it is a customer's)."""
        log.warning("%s: update %s cannot be read (%s); skipped", self.api.name, update_id, type(error).__name__)
        self._highest = max(self._highest, update_id)

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
                await self._take(updates)
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
            except (Conflict, InvalidToken) as exc:
                log.error("%s: polling refused: %s", self.api.name, type(exc).__name__)
                await asyncio.sleep(5.0)
            except (NetworkError, TelegramError) as exc:  # the server is away: back off, keep trying
                log.warning("%s: polling failed (%s); retrying in %.0f s", self.api.name, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            except Exception as exc:
                # Most likely an update python-telegram-bot cannot read: the next answer is read
                # one update at a time. Anything else: polling must go on all the same.
                log.warning("%s: polling failed (%s); retrying in %.0f s", self.api.name, type(exc).__name__, delay)
                if self.request is not None:
                    self.request.screen = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _take(self, updates: tuple[Update, ...]) -> None:
        """Put the fresh updates in hand, then wait a moment if the next call would only bring
        back the ones in hand."""
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
