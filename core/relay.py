"""Delivering the outbox: rows in creation order per chat, rendered at send time.

A failed send waits and blocks only its own chat, so one chat's notifications always arrive
in the order they were created. Permanent failures become dead letters and the customer is
marked unreachable.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select, update

from core.clock import Clock, utcnow
from core.conversation.messages import Reply
from core.i18n import translator
from core.notifications import render
from core.outbox import DESK
from core.storage.db import Database
from core.storage.models import Customer, OutboxMessage

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 12


class DeliveryError(Exception):
    """A send failed; `permanent` means it never will succeed (blocked, chat gone)."""

    def __init__(self, reason: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.retry_after = retry_after


class Sender(Protocol):
    """Delivers a rendered reply to a customer's chat on one platform."""

    async def send(self, chat_id: str, reply: Reply) -> None: ...


class DeskSender(Protocol):
    """Shows a ticket's news to the agents (its card and thread in the department's channel)."""

    async def deliver(self, event: str, params: dict[str, Any], ticket_id: int) -> None: ...


class Relay:
    def __init__(
        self, db: Database, senders: dict[str, Sender], *, desk: DeskSender | None = None,
        default_locale: str = "en", clock: Clock = utcnow,
    ) -> None:
        self.db = db
        self.senders = senders
        self.desk = desk
        self.wake = asyncio.Event()  # set after a change, so news goes out at once
        self.default_locale = default_locale
        self.clock = clock

    async def flush(self, limit: int = 200) -> int:
        """Send what is due now; returns how many were delivered."""
        now = self.clock()
        query = (
            select(OutboxMessage, Customer.locale)
            .outerjoin(Customer, Customer.id == OutboxMessage.customer_id)
            .where(OutboxMessage.status == "pending",
                   OutboxMessage.platform.in_([*self.senders, *([DESK] if self.desk else [])]))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        async with self.db.read() as session:
            rows = list((await session.execute(query)).all())
        blocked: set[tuple[str, str]] = set()
        sent = 0
        for row, locale in rows:
            chat = (row.platform, row.chat_id)
            if chat in blocked:
                continue
            if row.next_attempt_at > now:
                blocked.add(chat)  # an earlier message of this chat waits: keep the order
                continue
            try:
                if row.platform == DESK:
                    assert self.desk is not None and row.ticket_id is not None
                    await self.desk.deliver(row.event, row.params, row.ticket_id)
                else:
                    reply = render(translator(locale or self.default_locale), row.event, row.params)
                    await self.senders[row.platform].send(row.chat_id, reply)
            except DeliveryError as exc:
                blocked.add(chat)
                await self._failed(row, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - an unknown failure is retried, not lost
                log.exception("outbox %s: unexpected send failure", row.id)
                blocked.add(chat)
                await self._failed(row, DeliveryError(type(exc).__name__))
                continue
            await self._mark(row.id, status="sent", sent_at=self.clock(), attempts=row.attempts + 1)
            sent += 1
        return sent

    async def _failed(self, row: OutboxMessage, exc: DeliveryError) -> None:
        attempts = row.attempts + 1
        if exc.permanent or attempts >= MAX_ATTEMPTS:
            log.warning("outbox %s: dead letter after %s attempt(s): %s", row.id, attempts, exc)
            await self._mark(row.id, status="dead", attempts=attempts, last_error=str(exc)[:500])
            if exc.permanent and row.customer_id is not None:
                async with self.db.write() as session:
                    await session.execute(update(Customer).where(Customer.id == row.customer_id)
                                          .values(reachable=False))
            return
        delay = exc.retry_after if exc.retry_after is not None else \
            min(300.0, 2 ** attempts) * random.uniform(0.5, 1.0)
        await self._mark(row.id, attempts=attempts, last_error=str(exc)[:500],
                         next_attempt_at=self.clock() + timedelta(seconds=delay))

    async def _mark(self, row_id: int, **values: object) -> None:
        async with self.db.write() as session:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))

    async def sleep(self, interval: float) -> None:
        """Wait `interval`, or less when something new was written."""
        try:
            await asyncio.wait_for(self.wake.wait(), interval)
        except TimeoutError:
            pass
        self.wake.clear()
