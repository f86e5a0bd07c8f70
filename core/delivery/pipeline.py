"""The exactly-once inbound sequence, written once for every channel.

claim, handle and keep the replies (one transaction: InboundLog.once), send them, mark the event
done. A reply held back by the chat's flood limit hands itself and the rest over to the outbox
(whose relay waits for that chat alone); a failure the channel names as passing (`release_on`:
its network being away) releases the event with its replies kept, so the platform's redelivery
sends the rest, here or in another process. Any other failure marks the event done: the replies
were refused for good, and sending them again would change nothing.

Each channel holds one Pipeline, named after it; its `in_order` lock, taken before the first
await of an event, keeps one user's events in the order they arrived.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from core.chat.messages import Reply
from core.delivery.inbound import InboundLog
from core.delivery.ordering import KeyedLocks
from core.metrics import ANSWER_SECONDS, UPDATES

Work = Callable[[], Awaitable[list[Reply]]]
# Sends one reply; None when it went out, else the part of it the chat's flood limit held back.
Send = Callable[[Any, Reply], Awaitable[Reply | None]]


class Pipeline:
    def __init__(self, log: InboundLog, channel: str, *,
                 release_on: type[BaseException] | tuple[type[BaseException], ...] = ()) -> None:
        self.log = log
        self.channel = channel
        self.release_on = release_on
        self.in_order: KeyedLocks[Hashable] = KeyedLocks()
        # The metrics' children looked up once: labels() per event is a dictionary walk and a lock.
        self._updates = UPDATES.labels(channel)
        self._answer_seconds = ANSWER_SECONDS.labels(channel)

    async def take(self, event_id: str, chat_id: Any, work: Work, send: Send, *, started: float,
                   chores: list[asyncio.Future[Any]] | None = None) -> bool:
        """Handle the event once and send its replies to `chat_id`; False when it was handled
        already (or a live worker had it in hand the whole time). `chores` are side tasks the
        work started (acknowledging a button, say): the event's answer counts as given, for the
        answer-time metric, once they are done too."""
        try:
            # A claim held by a worker that was killed is waited out, not skipped: the event stays
            # unconfirmed (or unanswered) until it is handled here or was there.
            replies = await self.log.once(self.channel, event_id, work)
            if replies is None:
                return False
            self._updates.inc()  # handled here, not a redelivery of one handled before
            sent, released = 0, False
            try:
                for reply in replies:
                    rest = await send(chat_id, reply)
                    if rest is not None:
                        # Waiting here for the chat's limit would hold up every other user's events
                        # (a poller's offset, say): the outbox's relay waits for this chat alone.
                        await self.log.hand_over(self.channel, event_id, str(chat_id), [rest, *replies[sent + 1:]])
                        released = True  # marked done with the hand-over
                        break
                    sent += 1
            except self.release_on:
                self.log.release(self.channel, event_id, sent=sent)
                released = True
                raise
            finally:
                if not released:  # sent, or refused for good (a crash leaves them to a redelivery)
                    await self.log.done(self.channel, event_id)
            return True
        finally:
            if chores:
                await asyncio.gather(*chores)
            self._answer_seconds.observe(time.monotonic() - started)

    async def once(self, event_id: str, work: Work, *, started: float) -> bool:
        """Handle an event that answers nothing once; False when it was handled already."""
        try:
            if await self.log.once(self.channel, event_id, work) is None:
                return False
            self._updates.inc()
            await self.log.done(self.channel, event_id)
            return True
        finally:
            self._answer_seconds.observe(time.monotonic() - started)
