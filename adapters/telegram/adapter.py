"""The Telegram adapter: updates in (polling or webhook), conversation replies out.

It translates and decides nothing: an update becomes an Inbound, each Reply a message.
Customers talk to the help desk in private chats; the agents' desk groups (when connected) go
to adapters.telegram.desk_updates; any other group gets a hint to write privately.
Every messenger that speaks the Bot API (Bale) runs on this code, told apart by its BotApi.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiohttp import web
from telegram import CallbackQuery, Message, Update, User
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder

from adapters.telegram.agents import AgentDirectory
from adapters.telegram.botapi import TELEGRAM, BotApi
from adapters.telegram.commands import agent_commands
from adapters.telegram.desk import TelegramDesk
from adapters.telegram.desk_updates import DeskSetup, DeskUpdates, desk_settings
from adapters.telegram.files import file_of
from adapters.telegram.poller import Poller
from adapters.telegram.render import TEXT_LIMIT, chosen, messages, split_text
from adapters.telegram.request import AiohttpRequest, UpdatesRequest
from adapters.telegram.sender import TelegramSender, parse_mode, retry_seconds
from adapters.telegram.startup import connect, derive_webhook_secret, rate_limiter, release
from core.agents import AgentDesk
from core.chat import Conversation, Inbound, Reply
from core.delivery.attachments import prefetched
from core.delivery.contract import Pacing
from core.delivery.inbound import InboundLog, no_replies
from core.delivery.pipeline import Pipeline
from core.i18n import pick_language, translator

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
INTERACTIVE_RETRIES = 3  # a reply meeting a network error is retried; one meeting a flood limit is not
NETWORK_BACKOFF = 0.5  # seconds before the first retry of a reply that met a network error; doubling
# What this adapter and its sender send or edit and never read back (see AiohttpRequest).
UNREAD = frozenset({"sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup",
                    "answerCallbackQuery"})


class TelegramAdapter:
    """A Bot API channel (Telegram, or Bale as `api` says): its pace and identity rule declared
    here, each update taken once through the pipeline."""

    def __init__(
        self,
        conversation: Conversation,
        inbound_log: InboundLog,
        *,
        token: str,
        pacing: Pacing,
        api_url: str = "https://api.telegram.org",
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        default_locale: str = "en",  # the desk's (customers get the offered languages)
        desk: DeskSetup | None = None,
        api: BotApi = TELEGRAM,
    ) -> None:
        self.api = api
        self.name = api.name
        self.pacing = pacing
        self.conversation = conversation
        # Telegram still away after the retries releases the update: left unconfirmed (or its
        # webhook post unanswered), its redelivery sends the rest.
        self.pipeline = Pipeline(inbound_log, api.name, release_on=NetworkError)
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret or derive_webhook_secret(token)
        self.default_locale = default_locale
        self._updates_request = UpdatesRequest(completed=api.completed)
        self.api_url = api_url.rstrip("/")
        # Updates arrive on our own HTTP server (webhook) or through our own Poller, which
        # confirms them only once handled (PTB's Updater would confirm them before), and both
        # call _on_update directly: PTB's update queue, handlers and their concurrency go unused.
        self.application: Application[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder().token(token).base_url(f"{self.api_url}/bot").base_file_url(f"{self.api_url}/file/bot")
            .rate_limiter(rate_limiter(pacing)).request(AiohttpRequest(unread=UNREAD))
            .get_updates_request(self._updates_request).updater(None).build())
        self._poller: Poller | None = None
        self.sender = TelegramSender(self.application.bot, api)
        # The agents' desk in a group with topics, when one is connected (else they work elsewhere).
        self.desk: TelegramDesk | None = None
        self.desk_updates: DeskUpdates | None = None
        if desk is not None:
            bot, services = self.application.bot, desk.services
            self.desk = TelegramDesk(bot, services.db, services.config, default_chat=desk.default_chat,
                                     locale=default_locale, interval=pacing.group_interval, clock=services.clock)
            directory = AgentDirectory(bot, services.db, chats=self.desk.chats(), users=desk.agent_users)
            self.desk_updates = DeskUpdates(bot, self.pipeline, self.desk, directory, services,
                                            AgentDesk(services, desk.files))

    def is_group(self, chat_id: str) -> bool:
        """Telegram's rule: groups, supergroups and channels have negative ids, users positive."""
        return chat_id.startswith("-")

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, http: web.Application | None = None) -> None:
        if self.webhook_url and http is None:
            raise RuntimeError("webhook mode needs the bot's HTTP server")
        try:
            await connect(self.application, api_url=self.api_url, webhook_url=self.webhook_url,
                          webhook_secret=self.webhook_secret, default_locale=self.default_locale,
                          languages=self.conversation.config.languages,
                          desk_chats=desk_settings(self.desk) if self.desk is not None else None,
                          desk_commands=lambda locale: agent_commands(translator(locale)), api=self.api)
        except BaseException:
            await release(self.application)
            raise
        await self.application.start()
        if self.webhook_url:
            log.info("%s: webhook mode", self.name)
        else:
            # Handled directly, as webhook posts are: python-telegram-bot's process_update would
            # swallow a failure, and the poller would confirm an update that was never handled.
            self._poller = Poller(self.application.bot, self._on_update,
                                  before_confirm=self.pipeline.log.flush, request=self._updates_request,
                                  api=self.api)
            self._poller.start()
            log.info("%s: polling", self.name)

    def routes(self) -> list[web.RouteDef]:
        # A messenger whose webhook cannot be told a secret is polled only: no route to forge.
        return [web.post(f"/{self.name}/webhook", self.webhook)] if self.api.webhook else []

    def health(self) -> tuple[bool, str]:
        """Whether updates are coming in: polling runs, or the application takes webhook posts."""
        if not self.application.running:
            return False, "stopped"
        if self.webhook_url:
            return True, "webhook"
        return (self._poller is not None and self._poller.alive), "polling"

    async def stop(self) -> None:
        """Stop taking updates and finish those in hand; the bot can still send (close())."""
        if self._poller is not None:
            await self._poller.stop()
        if self.application.running:
            await self.application.stop()
        await self.pipeline.log.flush()

    async def close(self) -> None:
        """After stop() and the outbox relay's last pass: release the HTTP connections."""
        await self.application.shutdown()

    # -- webhook ------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            return web.Response(status=401, text="unauthorized")
        try:
            data = await request.json()
            update = Update.de_json(data, self.application.bot)
        except Exception:
            return web.Response(status=400, text="bad update")
        # Handled before answering: Telegram redelivers what was not acknowledged, so a failure
        # answers 500 (PTB's process_update would swallow it, and the update would be lost).
        try:
            await self._on_update(update)
        except Exception:
            log.exception("%s: update %s failed", self.name, update.update_id)
            return web.Response(status=500, text="failed")
        return web.Response(text="ok")

    # -- updates ------------------------------------------------------------------------

    async def _on_update(self, update: Update) -> None:
        user = update.effective_user
        # Locked before the first await: one user's updates are handled in the order Telegram sent them.
        # An update without a user (a channel post) keeps no one's order: its own key.
        async with self.pipeline.in_order(user.id if user is not None else ("update", update.update_id)):
            started = time.monotonic()
            chat = update.effective_chat
            if self.desk_updates is not None and chat is not None and self.desk_updates.serves(chat.id):
                await self.desk_updates.on_update(update, started)
                return
            chores: list[asyncio.Future[Any]] = []
            if update.callback_query is not None:
                chat_id, work = self._on_callback(update.callback_query, chores)
            elif update.message is not None:
                chat_id, work = await self._on_message(update.message)
            else:
                return
            await self.pipeline.take(str(update.update_id), chat_id, work, self._send,
                                     started=started, chores=chores)

    async def _on_message(self, message: Message) -> tuple[int, Callable[[], Awaitable[list[Reply]]]]:
        """The chat to answer and the work that answers it (run in the event's transaction)."""
        user = message.from_user
        if user is None or user.is_bot:
            return message.chat_id, no_replies
        language = self._language(user)
        t = translator(pick_language(self.conversation.config.languages, language))
        if message.chat.type == ChatType.PRIVATE and message.chat_id != user.id:
            return message.chat_id, _misrouted(self.name, message.chat_id, user.id)
        if message.chat.type != ChatType.PRIVATE:
            if message.text and message.text.startswith("/") or self._mentions_me(message):
                # Said in the log so that an administrator setting up a desk can find the group's id.
                log.info("%s: a command in group %s, which is no desk group", self.name, message.chat_id)
                return message.chat_id, _just(Reply(t._(
                    "Please write to me in a private chat: tickets are opened and followed only there."),
                    locale=t.locale))
            return message.chat_id, no_replies
        file = file_of(self.application.bot, message)
        text = message.text if message.text is not None else message.caption
        if file is None and text is None:
            return message.chat_id, _just(Reply(t._(
                "I can read text messages, photos and documents. Please send your request as one of these."),
                locale=t.locale))
        event = Inbound(self.name, str(user.id), str(message.chat_id), user.full_name,
                        language, text=text, file=await prefetched(file) if file else None)
        return message.chat_id, lambda: self.conversation.handle(event)

    def _language(self, user: User) -> str | None:
        """The user's language as their app says it, else the one the messenger's users mostly
        speak (Bale sends no language_code)."""
        return user.language_code or self.api.language

    def _mentions_me(self, message: Message) -> bool:
        username = self.application.bot.username
        return bool(message.text and username and f"@{username}".lower() in message.text.lower())

    def _on_callback(self, query: CallbackQuery, chores: list[asyncio.Future[Any]],
                     ) -> tuple[int, Callable[[], Awaitable[list[Reply]]]]:
        user = query.from_user
        message = query.message if isinstance(query.message, Message) else None
        language = self._language(user)
        t = translator(pick_language(self.conversation.config.languages, language))
        if message is None or message.chat.type != ChatType.PRIVATE or not query.data:
            chores.append(asyncio.ensure_future(self._answer(query, t._("This button is no longer active."))))
            return user.id, no_replies
        if message.chat_id != user.id:  # a private chat is its user's: a forged or misrouted press
            return user.id, _misrouted(self.name, message.chat_id, user.id)
        data = query.data
        event = Inbound(self.name, str(user.id), str(message.chat_id), user.full_name,
                        language, choice=data)

        async def work() -> list[Reply]:
            # Answering the query and retiring the buttons need not hold up the answer itself;
            # a press handled already (a redelivery) does neither again.
            chores.append(asyncio.gather(self._answer(query, None), self._retire_buttons(message, data)))
            return await self.conversation.handle(event)

        return message.chat_id, work

    async def _answer(self, query: Any, text: str | None) -> None:
        try:
            await query.answer(text=text)
        except TelegramError:  # too old to answer: nothing to do about it
            pass

    async def _retire_buttons(self, message: Message, data: str) -> None:
        """Edit the prompt so its buttons cannot be pressed twice, showing what was chosen."""
        label = None
        if message.reply_markup is not None:
            for row in message.reply_markup.inline_keyboard:
                for button in row:
                    if button.callback_data == data:
                        label = button.text
        try:
            original = message.text or ""
            if label is not None and original and len(original) + len(label) + 4 <= TEXT_LIMIT:
                await message.edit_text(chosen(original, label, as_html=self.api.html), parse_mode=parse_mode(self.api))
            else:
                await message.edit_reply_markup(reply_markup=None)
        except BadRequest as exc:  # already edited, too old, or unchanged
            log.debug("%s: could not retire buttons: %s", self.name, exc.message)
        except TelegramError as exc:
            log.warning("%s: could not retire buttons: %s", self.name, type(exc).__name__)

    async def _send(self, chat_id: int, reply: Reply) -> Reply | None:
        """Send a reply; None when sent, else the part of it this chat's flood limit held back."""
        parts = messages(reply, as_html=self.api.html)
        for index, (text, markup) in enumerate(parts):
            for attempt in range(INTERACTIVE_RETRIES + 1):
                try:
                    await self.application.bot.send_message(
                        chat_id, text, parse_mode=parse_mode(self.api), reply_markup=markup)
                    break
                except RetryAfter as exc:
                    log.info("%s: a reply met the chat's flood limit (RetryAfter %s s); "
                             "the rest goes by the outbox", self.name, retry_seconds(exc))
                    return reply if index == 0 else replace(reply, text="\n".join(split_text(reply.text)[index:]))
                except NetworkError as exc:  # a 5xx or a time-out: most pass within seconds
                    if attempt == INTERACTIVE_RETRIES:
                        raise
                    wait = NETWORK_BACKOFF * 2 ** attempt
                    log.warning("%s: a reply failed (%s); trying again in %.1f s",
                                self.name, type(exc).__name__, wait, exc_info=True)
                    await asyncio.sleep(wait)
        return None


def _misrouted(name: str, chat_id: int, user_id: int) -> Callable[[], Awaitable[list[Reply]]]:
    """An update whose private chat is not its sender's: recorded as handled, changing nothing
    (no customer's chat is rewritten, no one's data shown), and answering no one."""
    log.warning("%s: an update from user %s in private chat %s ignored: the chat is not the user's",
                name, user_id, chat_id)
    return no_replies


def _just(reply: Reply) -> Callable[[], Awaitable[list[Reply]]]:
    async def work() -> list[Reply]:
        return [reply]

    return work
