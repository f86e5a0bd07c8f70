"""Background work of the process: delivering the outbox and sweeping stale forms."""

from __future__ import annotations

import asyncio
import logging

from bot.app import HelpDesk
from core.relay import Relay

log = logging.getLogger(__name__)


async def periodic(desk: HelpDesk, relay: Relay, *, relay_every: float = 1.0,
                   sweep_every: float = 60.0) -> None:
    """Flush the outbox every second and expire stale ticket forms every minute."""
    since_sweep = sweep_every
    while True:
        try:
            await relay.flush()
            if since_sweep >= sweep_every:
                since_sweep = 0.0
                await desk.conversation.expire_drafts()
        except Exception:  # noqa: BLE001 - keep the loop alive through a bad moment
            log.exception("background pass failed")
        started = asyncio.get_running_loop().time()
        await relay.sleep(relay_every)
        since_sweep += asyncio.get_running_loop().time() - started
