"""Long polling that records each update before confirming it to Telegram.

python-telegram-bot's Updater confirms what it fetched on its very next getUpdates call,
before the updates are handled: a process killed then loses them. Here each batch is recorded
in the inbound log first (committed), then confirmed by the next call, and handled side by side
from there, up to one answer's worth (100) at a time: beyond that the rest wait at Telegram.
A process killed with updates in hand leaves them recorded; the others find them
(InboundLog.orphans, looked for every few seconds) and handle them, or send the replies they
kept, once.

(Before, the offset was held back at the oldest update in hand, so Telegram sent every update
in hand again with each call: the poller had to wait for one to finish before it could fetch
anything new, which coupled the wait for a new update to the slowest one in hand, and a
hundred in hand left no room in an answer for a new one.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from adapters.telegram.request import UpdatesRequest
from adapters.telegram.sender import retry_seconds
from core.dedupe import InboundLog

log = logging.getLogger(__name__)
ALLOWED = ["message", "callback_query"]
MAX_TRIES = 5
ORPHANS_EVERY = 5.0  # seconds between looks for updates a gone worker recorded and left


class Poller:
    def __init__(self, bot: Bot, handle: Callable[[Update], Awaitable[None]], inbound_log: InboundLog, *,
                 request: UpdatesRequest, timeout: int = 25, limit: int = 100,
                 before_confirm: Callable[[], Awaitable[None]] | None = None) -> None:
        self.bot = bot
        self.request = request  # keeps each fetched update as Telegram sent it, for the record
        self.handle = handle
        self.inbound_log = inbound_log
        self.before_confirm = before_confirm  # on stop: the done marks written before the last confirm
        self.timeout = timeout
        self.limit = limit
        self.running = False
        self._tasks: list[asyncio.Task[None]] = []
        self._in_hand: dict[int, asyncio.Task[None]] = {}
        self._highest = 0  # the last update recorded: confirmed by the next call

    def start(self) -> None:
        self.running = True
        self._tasks = [asyncio.create_task(self._loop()), asyncio.create_task(self._orphans_loop())]

    async def stop(self) -> None:
        """Stop fetching, finish what is in hand, and confirm what was recorded."""
        self.running = False
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._in_hand:
            await asyncio.wait(list(self._in_hand.values()), timeout=8)
        if self.before_confirm is not None:
            await self.before_confirm()
        if self._highest:
            with contextlib.suppress(TelegramError):
                await self.bot.get_updates(offset=self._highest + 1, timeout=0, limit=1, allowed_updates=ALLOWED)

    async def _loop(self) -> None:
        delay = 1.0
        while self.running:
            if len(self._in_hand) >= self.limit:
                # As many in hand as one answer holds: fetch more once one is done (the rest wait
                # at Telegram, unconfirmed; a burst does not pile up in this process).
                await asyncio.wait(list(self._in_hand.values()), return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                updates = await self.bot.get_updates(offset=self._highest + 1 if self._highest else None,
                                                     timeout=self.timeout, limit=self.limit - len(self._in_hand),
                                                     allowed_updates=ALLOWED)
                fresh = [u for u in updates if u.update_id > self._highest]
                if fresh:
                    # Recorded before the next call confirms them; if this fails they are not
                    # confirmed, and come again.
                    raw = self.request.raw
                    await self.inbound_log.receive("telegram", [
                        (str(u.update_id), raw.get(u.update_id) or json.dumps(u.to_dict())) for u in fresh])
                delay = 1.0
            except RetryAfter as exc:
                await asyncio.sleep(retry_seconds(exc))
                continue
            except (Conflict, InvalidToken) as exc:
                log.error("telegram: polling refused: %s", type(exc).__name__)
                await asyncio.sleep(5.0)
                continue
            except (NetworkError, TelegramError) as exc:  # the server is away: back off, keep trying
                log.warning("telegram: polling failed (%s); retrying in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            except Exception:  # noqa: BLE001 - the database is away: nothing confirmed, try again
                log.exception("telegram: recording updates failed; retrying in %.0f s", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            for update in fresh:
                self._highest = max(self._highest, update.update_id)
                self._start(update)

    def _start(self, update: Update) -> None:
        if update.update_id not in self._in_hand:
            self._in_hand[update.update_id] = asyncio.create_task(self._one(update))

    async def _orphans_loop(self) -> None:
        """Handle the updates a gone worker recorded and left (their replies, if it kept some)."""
        while self.running:
            try:
                for event_id, payload in await self.inbound_log.orphans("telegram"):
                    try:
                        update = Update.de_json(json.loads(payload), self.bot)
                    except Exception:  # noqa: BLE001 - recorded by a version that wrote it otherwise
                        log.exception("telegram: recorded update %s cannot be read; left", event_id)
                        continue
                    if update is not None:
                        self._start(update)
            except Exception:  # noqa: BLE001 - the database is away: look again later
                log.warning("telegram: looking for orphaned updates failed", exc_info=True)
            await asyncio.sleep(ORPHANS_EVERY)

    async def _one(self, update: Update) -> None:
        """Handle one update. One that fails is tried again a few times, then left recorded (a
        later process tries it again), so one bad update cannot block the others."""
        try:
            for tries in range(1, MAX_TRIES + 1):
                try:
                    await self.handle(update)
                    return
                except Exception:  # noqa: BLE001 - one bad update must not stop the others
                    if tries == MAX_TRIES:
                        log.exception("telegram: update %s failed %s times; left for a restart",
                                      update.update_id, tries)
                        return
                    log.exception("telegram: update %s failed; it will be tried again", update.update_id)
                    await asyncio.sleep(min(30.0, 0.5 * 2 ** tries))
        finally:
            self._in_hand.pop(update.update_id, None)
