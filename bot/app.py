"""The composition root: builds the help desk's parts from settings, once, in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError

from bot.settings import Settings
from core.chat import Conversation
from core.chat.drafts import DraftStore
from core.delivery.attachments import AttachmentStore
from core.delivery.inbound import InboundLog
from core.delivery.relay import Relay
from core.domain.clock import Clock, utcnow
from core.domain.config import HelpdeskConfig, load_config
from core.services import Services
from core.services.timers import Timers
from core.startup import ServiceUnreachable, StartupError, network_reason
from core.storage.db import Database
from core.storage.migrate import upgrade


@dataclass
class HelpDesk:
    settings: Settings
    config: HelpdeskConfig
    db: Database
    services: Services
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
        try:
            await reachable(db)
            await upgrade(db)
        except BaseException:
            await db.dispose()
            raise
    services = Services.build(db, config, clock, desk_connected=settings.slack_enabled)
    conversation = Conversation(
        services,
        DraftStore(db, clock),
        AttachmentStore(settings.attachments_dir),
        config,
        default_locale=settings.default_locale,
        clock=clock,
    )
    inbound = InboundLog(db, clock)
    relay = Relay(db, {}, desk_enabled=settings.slack_enabled, delivery=config.delivery,
                  default_locale=settings.default_locale, clock=clock, owner=inbound.worker)
    return HelpDesk(settings, config, db, services, conversation, clock, relay, Timers(services), inbound)


async def reachable(db: Database) -> None:
    """Connect once, so that a database that cannot be used stops the start with a StartupError
    naming DATABASE_URL, rather than with the driver's traceback halfway through a migration."""
    url = db.url
    try:
        async with db.engine.connect():
            pass
    except OSError as exc:  # refused, no such host, time-out: asyncpg lets the OS error through
        raise ServiceUnreachable(
            f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432} (DATABASE_URL) cannot be "
            f"reached: {network_reason(exc)}",
            "Start PostgreSQL, or set DATABASE_URL to where it listens "
            "(postgresql://user:password@host:5432/database).") from None
    except DBAPIError as exc:
        # The server's own words ("role ... does not exist"), first line only; a password is
        # never in them, but one would be masked all the same.
        said = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
        if url.password:
            said = said.replace(url.password, "***")
        if db.is_sqlite:
            raise StartupError(f"the SQLite file {url.database} (DATABASE_URL) cannot be opened: {said}",
                               "Create its folder and let this user write there, or set "
                               "DATABASE_URL to another file.") from None
        raise StartupError(f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432} refused the "
                           f"connection (DATABASE_URL): {said}",
                           "Check the user, password and database name in DATABASE_URL "
                           "(the database must exist).") from None
