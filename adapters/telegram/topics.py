"""The Bot API calls of the desk's forum topics, with Telegram's answers sorted: a topic gone
(deleted by hand), a card gone, a topic closed, a change that changed nothing (done), a bot
without the rights it needs (a permanent failure saying what to fix), or a failure to retry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from adapters.telegram.sender import failure
from core.delivery.contract import DeliveryError

log = logging.getLogger(__name__)
T = TypeVar("T")

# Telegram's descriptions (lower-cased: PTB capitalizes them) of a topic that is no more.
GONE = ("message thread not found", "topic_deleted", "topic_id_invalid")
CLOSED = "topic_closed"
CARD_GONE = "message to edit not found"
UNCHANGED = ("message is not modified", "topic_not_modified")
NO_RIGHTS = ("not enough rights", "chat_admin_required", "have no rights", "need administrator rights")
NOT_FORUM = "not a forum"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # a customer's link is shown, not fetched


class TopicGone(Exception):
    """The ticket's topic was deleted (or never was): it has to be made anew."""


class TopicClosed(Exception):
    """The topic is closed and this bot may not write in it so."""


class CardGone(Exception):
    """The card's message was deleted (alone, or with its topic)."""


class ForumCalls:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.told: set[tuple[str, str]] = set()  # (chat, fix) logged already: once each is enough

    async def call(self, chat: str, request: Awaitable[T]) -> T | None:
        """The request's result; None when Telegram says it changed nothing."""
        try:
            return await request
        except BadRequest as exc:
            said = exc.message.lower()
            if any(s in said for s in UNCHANGED):
                return None
            if any(s in said for s in GONE):
                raise TopicGone(exc.message) from None
            if CLOSED in said:
                raise TopicClosed(exc.message) from None
            if CARD_GONE in said:
                raise CardGone(exc.message) from None
            if any(s in said for s in NO_RIGHTS):
                raise self.misconfigured(chat, exc, "give the bot the right to manage topics in the desk group "
                                                    "(an administrator with Manage topics)") from None
            if NOT_FORUM in said:
                raise self.misconfigured(chat, exc, "enable topics in the desk group") from None
            raise failure(exc) from None
        except Forbidden as exc:  # not a member of the group any more
            raise self.misconfigured(chat, exc, "add the bot to the desk group as an administrator "
                                                "with Manage topics") from None
        except TelegramError as exc:
            raise failure(exc) from None

    def misconfigured(self, chat: str, exc: TelegramError, fix: str) -> DeliveryError:
        """A failure that no retry mends: the group's administrators must change something."""
        if (chat, fix) not in self.told:
            self.told.add((chat, fix))
            log.error("Telegram desk group %s refused the bot (%s): %s; until then its tickets are not shown "
                      "there", chat, exc.message, fix)
        return DeliveryError(f"telegram desk group {chat}: {exc.message}: {fix}", permanent=True)

    async def create(self, chat: str, name: str) -> int:
        topic = await self.call(chat, self.bot.create_forum_topic(chat, name))
        if topic is None:  # pragma: no cover - a creation always changes something
            raise DeliveryError("telegram: createForumTopic answered nothing")
        return topic.message_thread_id

    async def send(self, chat: str, thread: str | None, text: str, markup: InlineKeyboardMarkup | None = None) -> int:
        """Post into the topic (None: the group's General topic); its message's id."""
        sent = await self.call(chat, self.bot.send_message(
            chat, text, parse_mode=ParseMode.HTML, reply_markup=markup,
            message_thread_id=int(thread) if thread is not None else None,
            link_preview_options=NO_PREVIEW))
        if not isinstance(sent, Message):  # a transport that did not read the answer back
            raise DeliveryError("telegram desk: the posted message's id was not read back", permanent=True)
        return sent.message_id

    async def send_file(self, chat: str, thread: str, path: str, name: str, caption: str | None) -> bool:
        """Post a stored file into the topic as a document; False when it is no longer stored."""
        try:
            content = await asyncio.to_thread(Path(path).read_bytes)  # a disk read off the loop
        except OSError as exc:
            log.warning("desk: a ticket's file is not readable any more, not posted (%s)", type(exc).__name__)
            return False
        await self.call(chat, self.bot.send_document(
            chat, content, filename=name, caption=caption, parse_mode=ParseMode.HTML if caption else None,
            message_thread_id=int(thread)))
        return True

    async def edit_card(self, chat: str, card: str, text: str, markup: InlineKeyboardMarkup | None) -> None:
        # Without reply_markup Telegram takes the card's buttons away: a closed ticket's card has none.
        await self.call(chat, self.bot.edit_message_text(
            text, chat_id=chat, message_id=int(card), parse_mode=ParseMode.HTML, reply_markup=markup))

    async def rename(self, chat: str, thread: str, name: str) -> None:
        await self.call(chat, self.bot.edit_forum_topic(chat, int(thread), name=name))

    async def close(self, chat: str, thread: str) -> None:
        await self.call(chat, self.bot.close_forum_topic(chat, int(thread)))

    async def reopen(self, chat: str, thread: str) -> None:
        await self.call(chat, self.bot.reopen_forum_topic(chat, int(thread)))
