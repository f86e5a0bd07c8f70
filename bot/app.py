"""The composition root: builds the help desk's parts from settings, once, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings
from core.clock import Clock, utcnow
from core.config import HelpdeskConfig, load_config
from core.storage.db import Database
from core.storage.migrate import upgrade
from core.tickets import TicketService


@dataclass
class HelpDesk:
    settings: Settings
    config: HelpdeskConfig
    db: Database
    tickets: TicketService

    async def close(self) -> None:
        await self.db.dispose()


async def build(settings: Settings, *, clock: Clock = utcnow, migrate: bool = True) -> HelpDesk:
    """Everything the process needs; the schema is brought up to date first."""
    config = load_config(settings.helpdesk_config)
    db = Database(settings.database_url)
    if migrate:
        await upgrade(db)
    return HelpDesk(settings, config, db, TicketService(db, config, clock))
