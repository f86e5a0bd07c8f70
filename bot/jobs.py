"""Background work of the process: delivering the outbox and sweeping stale forms."""

from __future__ import annotations

import asyncio
import logging

from bot.app import HelpDesk
from core.relay import Relay

log = logging.getLogger(__name__)


async def periodic(desk: HelpDesk, relay: Relay, *, idle_wait: float = 1.0, busy_wait: float = 0.05,
                   sweep_every: float = 60.0) -> None:
    """Deliver the outbox as fast as the limits allow; expire stale ticket forms every minute."""
    loop = asyncio.get_running_loop()
    last_sweep = loop.time() - sweep_every
    while True:
        wait = idle_wait
        try:
            if await relay.flush():
                wait = 0.0  # more may be claimable right away
            elif await relay.pending():
                wait = busy_wait  # paced or backing off: look again soon
            if loop.time() - last_sweep >= sweep_every:
                last_sweep = loop.time()
                await desk.conversation.expire_drafts()
        except Exception:  # noqa: BLE001 - keep the loop alive through a bad moment
            log.exception("background pass failed")
        if wait:
            await relay.sleep(wait)
        else:
            await asyncio.sleep(0)
