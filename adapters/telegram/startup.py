"""The start of a Bot API channel (Telegram, Bale): its settings and pace, the Bot API calls of
the start (their failures said as StartupErrors), and the release of what a failed start opened."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat, ChatMember
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter, Application

from adapters.telegram.botapi import TELEGRAM, BotApi
from adapters.telegram.sender import retry_seconds
from core.chat.engine import COMMANDS, command_descriptions
from core.delivery.contract import Pacing, pace_keys
from core.domain.config import LANGUAGES, ConfigError, Delivery, HelpdeskConfig
from core.i18n import translator
from core.startup import ServiceUnreachable, StartupError, network_reason

NAME = TELEGRAM.name
# Reads about a group, which Telegram does not count as messages into it: not paced as those are.
UNPACED = frozenset({"getChat", "getChatMember", "getChatAdministrators"})


def pacing(delivery: Delivery, api: BotApi = TELEGRAM) -> Pacing:
    """The messenger's pace: its limits, or what the configuration's [delivery] section sets."""
    keys = pace_keys(delivery, api.name, api.pace)
    if keys["global_per_second"] <= 0:
        raise ConfigError(f"[delivery] {api.name}_global_per_second: must be more than 0")
    return Pacing(keys["chat_interval_seconds"], keys["group_interval_seconds"], keys["global_per_second"])


def check_keys(config: HelpdeskConfig) -> None:
    """This channel's keys in the configuration: its pace, and each department's desk group."""
    pacing(config.delivery)
    for department in config.departments:
        chat = department.desks.get(NAME)
        if chat is not None and not chat.strip().lstrip("-").isdigit():
            raise ConfigError(f"departments.{department.code}.{NAME}_desk_chat: must be the group's chat id, "
                              "a number such as -1001234567890")


def use_timedelta_durations() -> None:
    """Opt in to python-telegram-bot's coming behaviour (durations such as RetryAfter.retry_after
    as timedeltas; retry_seconds reads both). Without it, PTB 22 warns (PTBDeprecationWarning)
    whenever a RetryAfter is built, which is at every flood wait. PTB reads it from the
    environment at each use, so it is set there, once, by the bootstrap building this channel."""
    os.environ.setdefault("PTB_TIMEDELTA", "true")


# A group's limit is counted over a minute, and a request's way to Telegram varies: at exactly
# the interval, a bucket of one lets 21 writes land in some minute. 5% leaves room for 3 s of
# jitter at 20 a minute.
GROUP_MARGIN = 1.05


def rate_limiter(pacing: Pacing) -> AIORateLimiter:
    """PTB's limiter, set to pace strictly: a bucket of one request per 1/rate seconds (and per
    interval per group), where a bucket of 30 would let a burst of twice the limit through in a
    second. A 2% margin absorbs network jitter. No retries here: a flood wait must hold back only
    its own chat (the relay reschedules it; interactive replies wait in the adapter's _send).

    At a high global rate (a self-hosted Bot API server, a test) the bucket holds what the
    margin leaves room for, so that any one second still stays within the rate: with a bucket
    of one, nearly every request of a burst waited on a timer of microseconds. At Telegram's
    30/s that is still a bucket of one."""
    logging.getLogger("telegram.ext.AIORateLimiter").addFilter(_flood_wait_handled)
    margin = 1.02
    rate = pacing.global_per_second or 30.0
    bucket = max(1, int(rate * (1 - 1 / margin)))
    return PacedLimiter(
        overall_max_rate=bucket, overall_time_period=bucket * margin / rate,
        group_max_rate=1, group_time_period=pacing.group_interval * GROUP_MARGIN,
        max_retries=0)


_Answer = bool | dict[str, Any] | list[dict[str, Any]]  # what a Bot API call returns, as PTB types it


class PacedLimiter(AIORateLimiter):
    """PTB's limiter, except for reads about a group (UNPACED): PTB paces every call that names
    a group at the group's pace, and an agent's button would wait behind the desk's messages
    for the check that they are a member."""

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, _Answer]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> _Answer:
        if endpoint in UNPACED:
            return await callback(*args, **kwargs)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


def _flood_wait_handled(record: logging.LogRecord) -> bool:
    """PTB logs every 429 it passes on with a traceback; each is handled here (the reply goes to
    the outbox, whose relay waits for that chat), so a flood would fill the log with them."""
    return not (record.exc_info and isinstance(record.exc_info[1], RetryAfter))


def derive_webhook_secret(token: str) -> str:
    """A stable secret from the token, so every process and restart agrees without config."""
    return hmac.new(token.encode(), b"helpdesk-telegram-webhook", hashlib.sha256).hexdigest()


async def connect(application: Application[Any, Any, Any, Any, Any, Any], *, api_url: str,
                  webhook_url: str | None, webhook_secret: str, default_locale: str,
                  languages: tuple[str, ...] = LANGUAGES, desk_chats: dict[str, str] | None = None,
                  desk_commands: Callable[[str], list[BotCommand]] | None = None,
                  api: BotApi = TELEGRAM) -> None:
    """The Bot API calls of the start, their failures said as StartupErrors (python-telegram-
    bot's own message for a rejected token quotes the token). `desk_chats`: the agents' desk
    groups to check (chat id -> the setting that names it), with their command menu."""
    title, setting = api.title, api.setting
    try:
        await application.initialize()
        if api.command_menu:
            await register_commands(application, languages)
        if desk_chats:
            await check_desk(application.bot, desk_chats)
            if desk_commands is not None:
                await register_desk_commands(application.bot, desk_chats, desk_commands, default_locale)
        if not webhook_url:
            await application.bot.delete_webhook()
            return
        try:
            await application.bot.set_webhook(
                webhook_url, secret_token=webhook_secret, allowed_updates=api.allowed_updates,
            )
        except BadRequest as exc:
            raise StartupError(f"{title} refused {setting}_WEBHOOK_URL: {exc.message}",
                               f"Set it to a public https:// URL of this bot's /{api.name}/webhook "
                               "(ports 443, 80, 88 or 8443).") from None
    except InvalidToken:  # 401, or 404 from a server that is no Bot API
        raise StartupError(
            f"{setting}_BOT_TOKEN was rejected by the {title} Bot API at {api_url}",
            f"Set it to the token {api.token_from} gave the bot; if {setting}_API_URL is set, check "
            "that it is a Bot API server.") from None
    except RetryAfter as exc:
        raise ServiceUnreachable(
            f"the {title} Bot API at {api_url} asks to wait {retry_seconds(exc):.0f} s "
            "(flood control)", "Start again after that.") from None
    except NetworkError as exc:  # TimedOut too
        raise ServiceUnreachable(
            f"the {title} Bot API at {api_url} cannot be reached: {network_reason(exc)}",
            f"Check the network (a proxy in HTTPS_PROXY?) and {setting}_API_URL, then start again."
        ) from None


async def release(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """After a failed start: close the HTTP sessions the start opened."""
    if application.running:
        with contextlib.suppress(Exception):
            await application.stop()
    with contextlib.suppress(Exception):
        await application.shutdown()
    with contextlib.suppress(Exception):
        await application.bot.shutdown()  # when initialize() itself failed


async def register_commands(application: Application[Any, Any, Any, Any, Any, Any], languages: tuple[str, ...],
                            ) -> None:
    """The customers' command menu in each offered language, the default's for everyone else;
    a menu left from a language no longer offered is removed."""
    for lang in (None, *languages):
        texts = command_descriptions(translator(lang or languages[0]), languages)
        commands = [BotCommand(name, texts[name][:256]) for name in COMMANDS if name in texts]
        await application.bot.set_my_commands(commands, language_code=lang)
    for lang in LANGUAGES:
        if lang not in languages:
            await application.bot.delete_my_commands(language_code=lang)


async def check_desk(bot: Bot, chats: dict[str, str]) -> None:
    """Each desk group (chat id -> the setting that names it) is a forum whose topics the bot
    may manage; a StartupError saying what to change otherwise."""
    for chat, setting in chats.items():
        try:
            found = await bot.get_chat(chat)
            member = await bot.get_chat_member(chat, bot.id)
        except (BadRequest, Forbidden) as exc:
            raise StartupError(
                f"the Telegram desk group {chat} ({setting}) cannot be used by the bot: {exc.message}",
                "Add the bot to the group and check the chat id (a supergroup's id starts with -100).") from None
        if not found.is_forum:
            raise StartupError(
                f"the Telegram desk group {chat} ({setting}) has no topics",
                "Enable topics in the group's settings (each ticket gets a topic), then start again.")
        if member.status != ChatMember.ADMINISTRATOR or not getattr(member, "can_manage_topics", False):
            raise StartupError(
                f"the bot may not manage topics in the Telegram desk group {chat} ({setting})",
                "Make the bot an administrator of the group with the right “Manage topics”, then start again.")


async def register_desk_commands(bot: Bot, chats: Iterable[str], commands: Callable[[str], list[BotCommand]],
                                 default_locale: str) -> None:
    """The agents' commands in each desk group's command menu (customers' are the default)."""
    for chat in chats:
        for lang in (None, *LANGUAGES):
            await bot.set_my_commands(commands(lang or default_locale), scope=BotCommandScopeChat(chat),
                                      language_code=lang)
