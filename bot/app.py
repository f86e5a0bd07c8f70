"""The composition root: builds the help desk's parts from settings, once, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.settings import Settings
from core.attachments import AttachmentStore
from core.clock import Clock, utcnow
from core.config import HelpdeskConfig, load_config
from core.conversation import Conversation
from core.conversation.drafts import DraftStore
from core.dedupe import InboundLog
from core.relay import Relay
from core.storage.db import Database
from core.storage.migrate import upgrade
from core.tickets import TicketService
from core.timers import Timers


@dataclass
class HelpDesk:
    settings: Settings
    config: HelpdeskConfig
    db: Database
    tickets: TicketService
    conversation: Conversation
    clock: Clock
    relay: Relay  # adapters register their senders on it; anything may wake it
    timers: Timers
    inbound: InboundLog  # platform events taken once; its heartbeat says this worker lives
    adapters: dict[str, Any] = field(default_factory=dict)  # the running messenger adapters

    async def close(self) -> None:
        await self.db.dispose()


async def build(settings: Settings, *, clock: Clock = utcnow, migrate: bool = True) -> HelpDesk:
    """Everything the process needs; the schema is brought up to date first."""
    config = load_config(settings.helpdesk_config)
    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    if migrate:
        await upgrade(db)
    tickets = TicketService(db, config, clock, desk=settings.slack_enabled)
    conversation = Conversation(
        tickets,
        DraftStore(db, clock),
        AttachmentStore(settings.attachments_dir),
        config,
        default_locale=settings.default_locale,
        clock=clock,
    )
    inbound = InboundLog(db, clock)
    relay = Relay(db, {}, desk_enabled=settings.slack_enabled, delivery=config.delivery,
                  default_locale=settings.default_locale, clock=clock, owner=inbound.worker)
    return HelpDesk(settings, config, db, tickets, conversation, clock, relay, Timers(tickets), inbound)
