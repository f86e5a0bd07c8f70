"""The composition root: builds the bot's parts from settings, once, in one place.

A channel is one folder under adapters/ and one line in CHANNELS below (with the two functions
that read its settings and check its configuration keys); nothing is patched after it is built.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from bot.settings import Settings
from core.chat import Conversation
from core.chat.drafts import DraftStore
from core.delivery.attachments import AttachmentStore
from core.delivery.contract import Channel, ServedChannel
from core.delivery.inbound import InboundLog
from core.delivery.relay import Relay
from core.domain.clock import Clock, utcnow
from core.domain.config import ConfigError, HelpdeskConfig, load_config
from core.i18n import Translator
from core.knowledge import KnowledgeBase
from core.services import Services
from core.services.timers import Timers
from core.startup import ServiceUnreachable, StartupError, network_reason
from core.storage.db import Database
from core.storage.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parts:
    """What a channel is built from."""

    settings: Settings
    config: HelpdeskConfig
    services: Services
    conversation: Conversation
    inbound: InboundLog
    files: AttachmentStore


@dataclass
class App:
    settings: Settings
    config: HelpdeskConfig
    db: Database
    services: Services
    conversation: Conversation
    clock: Clock
    relay: Relay  # anything may wake it
    timers: Timers
    inbound: InboundLog  # platform events taken once; its heartbeat says this worker lives
    served: dict[str, ServedChannel]  # the channels the bot server runs, by name
    channels: dict[str, Channel]  # every channel the relay delivers to (the served ones, the console)

    async def close(self) -> None:
        await self.db.dispose()


def _telegram(parts: Parts) -> ServedChannel:
    settings = parts.settings
    assert settings.telegram_bot_token is not None
    from adapters.telegram.adapter import TelegramAdapter
    from adapters.telegram.desk_updates import DeskSetup
    from adapters.telegram.startup import NAME, pacing, use_timedelta_durations

    use_timedelta_durations()
    secret = settings.telegram_webhook_secret
    desk = None
    if NAME in desks(settings, parts.config):
        desk = DeskSetup(parts.services, parts.files, settings.telegram_desk_chat,
                         tuple((settings.telegram_agent_users or "").split(",")))
    return TelegramAdapter(
        parts.conversation, parts.inbound,
        token=settings.telegram_bot_token.get_secret_value(),
        pacing=pacing(parts.config.delivery),
        api_url=settings.telegram_api_url,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=secret.get_secret_value() if secret else None,
        default_locale=settings.default_locale,
        desk=desk,
    )


def _bale(parts: Parts) -> ServedChannel:
    settings = parts.settings
    assert settings.bale_bot_token is not None
    from adapters.bale.options import BALE, pacing
    from adapters.telegram.adapter import TelegramAdapter
    from adapters.telegram.startup import use_timedelta_durations

    use_timedelta_durations()
    return TelegramAdapter(
        parts.conversation, parts.inbound,
        token=settings.bale_bot_token.get_secret_value(),
        pacing=pacing(parts.config.delivery),
        api_url=settings.bale_api_url,
        default_locale=settings.default_locale,
        api=BALE,
    )


def _slack(parts: Parts) -> ServedChannel:
    settings = parts.settings
    assert settings.slack_bot_token is not None
    from adapters.slack.adapter import SlackAdapter
    from adapters.slack.pacing import pacing

    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is set: set SLACK_SIGNING_SECRET too (or SLACK_APP_TOKEN "
                          "for Socket Mode)")
    return SlackAdapter(
        parts.conversation, parts.services, parts.config, parts.inbound, parts.files,
        token=settings.slack_bot_token.get_secret_value(),
        signing_secret=(settings.slack_signing_secret.get_secret_value()
                        if settings.slack_signing_secret else "socket-mode-unsigned"),
        pacing=pacing(parts.config.delivery),
        api_url=settings.slack_api_url,
        app_token=settings.slack_app_token.get_secret_value() if settings.slack_app_token else None,
        agent_channel=settings.slack_agent_channel,
        agent_users=settings.slack_agent_users,
        agent_group=settings.slack_agent_group,
    )


def _email(parts: Parts) -> ServedChannel:
    settings = parts.settings
    from adapters.email.adapter import EmailChannel
    from adapters.email.options import options, pacing
    from adapters.email.urls import imap_server, smtp_server
    from core.chat.letters import Letters

    missing = [name for name, value in (("EMAIL_ADDRESS", settings.email_address),
                                        ("EMAIL_IMAP_URL", settings.email_imap_url),
                                        ("EMAIL_SMTP_URL", settings.email_smtp_url)) if value is None]
    if missing:
        raise ConfigError(f"the e-mail channel needs EMAIL_ADDRESS, EMAIL_IMAP_URL and EMAIL_SMTP_URL: "
                          f"set {' and '.join(missing)} too")
    assert settings.email_address and settings.email_imap_url and settings.email_smtp_url
    chosen = options(parts.config)
    letters = Letters(parts.services, parts.conversation.drafts, parts.files, parts.config,
                      default_department=chosen.default_department, request_type=chosen.request_type)
    return EmailChannel(
        letters, parts.inbound, parts.services, chosen,
        address=settings.email_address, display_name=settings.email_name or "Support",
        imap=imap_server(settings.email_imap_url.get_secret_value()),
        smtp=smtp_server(settings.email_smtp_url.get_secret_value()),
        poll_seconds=settings.email_poll_seconds, pacing=pacing(parts.config.delivery))


def _email_keys(config: HelpdeskConfig) -> None:
    from adapters.email.options import options, pacing

    options(config)
    pacing(config.delivery)


def _console(parts: Parts) -> Channel:
    from adapters.console.chat import ConsoleScreen

    return ConsoleScreen()


def _console_help() -> dict[str, Callable[[Translator], Sequence[tuple[str, str]]]]:
    from adapters.console.chat import NAME, help_lines

    return {NAME: help_lines}


def _telegram_keys(config: HelpdeskConfig) -> None:
    from adapters.telegram.startup import check_keys

    check_keys(config)


def _bale_keys(config: HelpdeskConfig) -> None:
    from adapters.bale.options import check_keys

    check_keys(config)


def _slack_keys(config: HelpdeskConfig) -> None:
    from adapters.slack.pacing import pacing

    pacing(config.delivery)


@dataclass(frozen=True)
class Registration:
    """A channel the bot server can run: its name, whether the settings enable it, how it is
    built, how it checks its keys in the configuration, and, for a channel that can serve an
    agents' desk, the desk's default chat in the settings (a department may name its own there:
    `<name>_channel` or `<name>_desk_chat`)."""

    name: str
    enabled: Callable[[Settings], bool]
    build: Callable[[Parts], ServedChannel]
    check_keys: Callable[[HelpdeskConfig], None]
    desk_chat: Callable[[Settings], str | None] | None = None
    mails: bool = False  # delivers to any mail address: the codes that prove an address go through it


# The channels the bot server runs: one line each.
CHANNELS: tuple[Registration, ...] = (
    Registration("telegram", lambda s: s.telegram_enabled, _telegram, _telegram_keys,
                 desk_chat=lambda s: s.telegram_desk_chat),
    Registration("bale", lambda s: s.bale_enabled, _bale, _bale_keys),
    Registration("slack", lambda s: s.slack_enabled, _slack, _slack_keys, desk_chat=lambda s: s.slack_agent_channel),
    Registration("email", lambda s: s.email_enabled, _email, _email_keys, mails=True),
)


def enabled(settings: Settings) -> list[Registration]:
    """The channels these settings enable (none: the console chat)."""
    return [r for r in CHANNELS if r.enabled(settings)]


def desks(settings: Settings, config: HelpdeskConfig) -> dict[str, str | None]:
    """The agents' desks these settings connect (channel -> the chat of departments that name
    none): a channel that can serve a desk and has a chat for one, by default or a department's."""
    found: dict[str, str | None] = {}
    for registration in enabled(settings):
        if registration.desk_chat is None:
            continue
        default = registration.desk_chat(settings)
        if default or any(registration.name in d.desks for d in config.departments):
            found[registration.name] = default
    return found


def check_channel_keys(config: HelpdeskConfig) -> None:
    """The configuration's keys that belong to a channel ([delivery] `<channel>_...`, a
    department's `<channel>_channel`), each checked by its channel: ConfigError for a channel
    that does not exist or a key it does not know."""
    known = {r.name: r for r in CHANNELS}
    for name in config.delivery.channels:
        if name not in known:
            keys = ", ".join(f"{name}_{key}" for key in config.delivery.channels[name])
            raise ConfigError(f"[delivery] {keys}: unknown key")
    for registration in CHANNELS:
        registration.check_keys(config)
    for department in config.departments:
        for name in department.desks:
            if name not in known or known[name].desk_chat is None:
                raise ConfigError(f"departments.{department.code}.{name}_channel: unknown key")
        for name in department.addresses:
            if name not in known:
                raise ConfigError(f"departments.{department.code}.{name}_addresses: unknown key")
    for name in config.channels:
        if name not in known:
            raise ConfigError(f"[channels.{name}]: unknown channel (known: {', '.join(known)})")


async def build(settings: Settings, *, clock: Clock = utcnow, migrate: bool = True, console: bool = False) -> App:
    """Everything the process needs; the schema is brought up to date first. With `console`,
    the one channel is the console (the terminal chat), whatever else the settings enable."""
    config = load_config(settings.helpdesk_config, settings.default_locale)
    check_channel_keys(config)
    articles = knowledge(config)
    db = Database(settings.database_url, pool_size=settings.database_pool_size)
    try:
        if migrate:
            await reachable(db)
            await upgrade(db)
        connected = desks(settings, config)
        mailer = None if console else next((r.name for r in enabled(settings) if r.mails), None)
        services = Services.build(db, config, clock, desks=connected, knowledge=articles, mail_channel=mailer)
        files = AttachmentStore(settings.attachments_dir)
        conversation = Conversation(services, DraftStore(db, clock), files, config, clock=clock,
                                    channel_help=_console_help() if console else None)
        inbound = InboundLog(db, clock)
        parts = Parts(settings, config, services, conversation, inbound, files)
        served: dict[str, ServedChannel] = {}
        channels: dict[str, Channel] = {}
        if console:
            channels["console"] = _console(parts)
        else:
            served = {c.name: c for c in (r.build(parts) for r in enabled(settings))}
            channels.update(served)
        relay = Relay(db, channels, desks=services.news.desks, delivery=config.delivery,
                      languages=config.languages, clock=clock, owner=inbound.worker)
    except BaseException:
        await db.dispose()
        raise
    return App(settings, config, db, services, conversation, clock, relay, Timers(services), inbound, served,
               channels)


def knowledge(config: HelpdeskConfig) -> KnowledgeBase:
    """The configuration's knowledge base, read once; ConfigError for an article that cannot be
    used, a warning in the log for one that is only missing in the first language."""
    from core.knowledge.files import load

    base, problems = load(config.knowledge.folder, [d.code for d in config.departments], config.languages[0])
    for problem in problems:
        log.warning("knowledge base: %s", problem)
    return base


@asynccontextmanager
async def migrated(settings: Settings) -> AsyncIterator[Database]:
    """The database of an operator's one-off command: reached (or a StartupError naming
    DATABASE_URL), brought to the newest schema, disposed of after."""
    db = Database(settings.database_url)
    try:
        await reachable(db)
        await upgrade(db)
        yield db
    finally:
        await db.dispose()


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
