"""Notifications to Bot API chats (Telegram, Bale), with the errors mapped to retry or give up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from adapters.telegram.botapi import TELEGRAM, BotApi
from adapters.telegram.render import messages
from core.chat.messages import Reply
from core.delivery.contract import DeliveryError

_GONE = ("chat not found", "user is deactivated", "bot was kicked", "chat was deleted",
         "peer_id_invalid", "group chat was upgraded")


def failure(exc: TelegramError, name: str = TELEGRAM.name) -> DeliveryError:
    """The Bot API's answer as a delivery outcome: wait (flood limit), give up (the chat is gone
    or blocks the bot), or retry (the network, anything else)."""
    if isinstance(exc, RetryAfter):
        return DeliveryError(f"{name} flood limit", retry_after=retry_seconds(exc))
    if isinstance(exc, Forbidden):  # blocked by the user, kicked
        return DeliveryError(f"{name}: {exc.message}", permanent=True)
    if isinstance(exc, BadRequest):
        return DeliveryError(f"{name}: {exc.message}", permanent=any(s in exc.message.lower() for s in _GONE))
    if isinstance(exc, NetworkError):  # timeouts and 5xx included
        return DeliveryError(f"{name} network: {exc.message}")
    return DeliveryError(f"{name}: {exc.message}")


def retry_seconds(exc: RetryAfter) -> float:
    value: object = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)  # type: ignore[arg-type]


class TelegramSender:
    def __init__(self, bot: Bot, api: BotApi = TELEGRAM) -> None:
        self.bot = bot
        self.api = api

    async def send(self, chat_id: str, reply: Reply) -> None:
        try:
            for text, markup in messages(reply, as_html=self.api.html):
                await self.bot.send_message(chat_id, text, parse_mode=parse_mode(self.api), reply_markup=markup)
            for path, name in reply.files:
                content = await asyncio.to_thread(Path(path).read_bytes)  # a disk read off the loop
                await self.bot.send_document(chat_id, content, filename=name)
        except TelegramError as exc:
            raise failure(exc, self.api.name) from None


def parse_mode(api: BotApi) -> str | None:
    """How the messenger is told to read a message: HTML, or nothing (plain text)."""
    return ParseMode.HTML if api.html else None
