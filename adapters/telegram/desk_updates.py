"""What agents do in a Telegram desk group, handed to the agents' core (core.agents).

- A message in a ticket's topic is a reply to the customer, with its photo or document; one
  starting with `note:` or the command /note stays an internal note. Another command there is
  about the topic's ticket when it names none (`/claim`, `/status resolved`).
- A command anywhere else in the group (the General topic): /queue, /mine, /show 1042, /stats...
- A press of a card's button: an action (`ag:` keys, core.agents.actions.encode), or a menu
  (`tm:` keys, adapters.telegram.card), which only changes the card's buttons in place.
- An edit of a message in a ticket's topic: the agent is told that the customer keeps the first
  version (Telegram sends an edit as a new event; relaying it would mean a second message).

Each update is taken once through the channel's pipeline. Someone who is not an agent changes
nothing and is told so, in their own language, as every agent is answered in theirs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from adapters.telegram.agents import AgentDirectory
from adapters.telegram.card import card_forgotten, card_keyboard, parse_menu
from adapters.telegram.commands import (
    PREFIX,
    command_action,
    command_of,
    note_of,
    result_html,
    result_replies,
)
from adapters.telegram.desk import TelegramDesk
from adapters.telegram.desk_handover import PendingHandovers, handover_key
from adapters.telegram.desk_offers import replace_offer
from adapters.telegram.files import file_of
from adapters.telegram.sender import retry_seconds
from adapters.telegram.startup import NAME
from core.agents import (
    Action,
    AgentDesk,
    AgentIdentity,
    Assign,
    Done,
    Offer,
    Post,
    Refused,
    Result,
    SendArticle,
    TimeLog,
    TimeMenu,
    TimeSkip,
    decode,
)
from core.agents.card import ticket_card
from core.agents.handover import HandoverForm
from core.agents.notices import button_inactive, only_agents_answer
from core.agents.timekeys import pressed
from core.chat.messages import Reply
from core.delivery.attachments import AttachmentStore, prefetched
from core.delivery.inbound import no_replies
from core.delivery.pipeline import Pipeline, Send
from core.i18n import Translator, translator
from core.services import Services
from core.storage.desk import card_state, post_at, update_post
from core.storage.models import DeskPost

log = logging.getLogger(__name__)
ANSWER_LIMIT = 200  # characters of a button's answer (answerCallbackQuery)
ANSWER_TRIES = 3  # an answer in the group meeting a network error is tried again
LONGEST_WAIT = 30.0  # seconds an answer waits out the group's flood limit; after that it is dropped


@dataclass(frozen=True)
class DeskSetup:
    """What the Telegram channel needs to serve an agents' desk (None: no desk is connected)."""

    services: Services
    files: AttachmentStore
    default_chat: str | None  # TELEGRAM_DESK_CHAT: for departments that name no group of their own
    agent_users: tuple[str, ...] = ()  # TELEGRAM_AGENT_USERS: agents beyond the groups' members


def desk_settings(desk: TelegramDesk) -> dict[str, str]:
    """Each desk group, with the setting that names it (for start-up messages)."""
    named: dict[str, str] = {}
    for chat in sorted(desk.chats()):
        where = ["TELEGRAM_DESK_CHAT"] if chat == desk.default_chat else []
        departments = [d.code for d in desk.config.departments if d.desks.get(NAME) == chat]
        if departments:
            where.append(f"telegram_desk_chat of the department{'s' if len(departments) > 1 else ''} "
                         + ", ".join(departments))
        named[chat] = "; ".join(where)
    return named


class DeskUpdates:
    """The desk groups' updates, from the Telegram channel (TelegramAdapter routes them here)."""

    def __init__(self, bot: Bot, pipeline: Pipeline, desk: TelegramDesk, directory: AgentDirectory,
                 services: Services, agents: AgentDesk) -> None:
        self.bot = bot
        self.pipeline = pipeline
        self.desk = desk
        self.directory = directory
        self.services = services
        self.agents = agents
        self.chats = frozenset(int(c) for c in desk.chats())
        self.handovers = PendingHandovers()

    def serves(self, chat_id: int) -> bool:
        return chat_id in self.chats

    async def on_update(self, update: Update, started: float) -> None:
        """Handle one update of a desk group (its user's turn already taken)."""
        if update.callback_query is not None:
            await self._on_press(update, update.callback_query, started)
        elif update.message is not None:
            await self._on_message(update, update.message, started)
        elif update.edited_message is not None:
            await self._on_edit(update, update.edited_message, started)
        else:
            await self.pipeline.once(str(update.update_id), no_replies, started=started)

    # -- messages -----------------------------------------------------------------------

    async def _on_message(self, update: Update, message: Message, started: float) -> None:
        uid = str(update.update_id)
        user = message.from_user
        if user is None or user.is_bot:  # the bot's own, another bot's, an anonymous administrator's
            await self.pipeline.once(uid, no_replies, started=started)
            return
        text = message.text if message.text is not None else message.caption
        command = command_of(text, self._username()) if text else None
        if command is not None and not command.mine:  # for another bot in the group
            await self.pipeline.once(uid, no_replies, started=started)
            return
        post = await self._post_of(message)
        asking = self.handovers.get(key := handover_key(message, str(user.id))) if post is not None else None
        if asking is not None and text is not None and (command is None or command.name == "cancel"):
            await self._handover_answer(uid, message, self.directory.identity(user), text, started)
            return
        # Another command leaves the questions (said before its own answer) and runs.
        said = self.handovers.leave(key, asking, self.directory.identity(user).locale) if asking and command else ""
        if post is not None and (command is None or command.name == "note"):
            await self._in_topic(uid, message, user, post, started, said)
            return
        if command is None:  # chatter
            await self.pipeline.once(uid, no_replies, started=started)
            return
        number = (await self.services.queries.get_by_id(post.ticket_id)).number if post is not None else None
        action = command_action(command, number)
        file = file_of(self.bot, message)
        if isinstance(action, Post) and file is not None:
            action = replace(action, files=(await prefetched(file),))
        await self._run(uid, message, self.directory.identity(user), action, started, buttons=post is not None,
                        said=said)

    async def _in_topic(self, uid: str, message: Message, user: User, post: DeskPost, started: float,
                        said: str = "") -> None:
        """An agent's message in a ticket's topic: a reply to the customer, or a note."""
        who = self.directory.identity(user)
        t = translator(who.locale)
        text = message.text if message.text is not None else message.caption
        file = file_of(self.bot, message)
        if text is None and file is None:
            if message.effective_attachment is None:  # a service message (a topic renamed, a pin)
                await self.pipeline.once(uid, no_replies, started=started)
            else:
                await self._say(uid, message, t, t._(
                    "This was not sent to the customer: only text, photos and documents are passed on."), started)
            return
        if not await self.directory.is_agent(who.user_id):
            await self._say(uid, message, t, only_agents_answer(t), started)
            return
        command = command_of(text, self._username()) if text else None
        note = note_of(text) if text and command is None else None
        internal = command is not None or note is not None
        body = command.rest if command is not None else note if note is not None else text or ""
        files = (await prefetched(file),) if file is not None else ()
        number = (await self.services.queries.get_by_id(post.ticket_id)).number
        action = Post(number, body or ("📎" if files else ""), internal, files, via=NAME)
        await self._run(uid, message, who, action, started, quiet=True, said=said)

    async def _on_edit(self, update: Update, message: Message, started: float) -> None:
        uid = str(update.update_id)
        user = message.from_user
        text = message.text if message.text is not None else message.caption
        command = command_of(text, self._username()) if text else None
        post = await self._post_of(message)
        if (user is None or user.is_bot or post is None or (command is not None and command.name != "note")
                or not await self.directory.is_agent(str(user.id))):
            await self.pipeline.once(uid, no_replies, started=started)  # nothing of it reached anyone
            return
        t = translator(self.directory.identity(user).locale)
        if command is not None or (text and note_of(text) is not None):
            said = t._("Edits are not kept: the note stays as it was first written.")
        else:
            said = t._("Your edit was not passed on to the customer: they keep the message as it was first "
                       "sent. To correct it, send a new message.")
        await self._say(uid, message, t, said, started)

    async def _run(self, uid: str, message: Message, who: AgentIdentity, action: Action, started: float, *,
                   quiet: bool = False, buttons: bool = False, said: str = "") -> None:
        """Run an agent's action and answer in the message's topic (with `quiet`, only a refusal;
        `buttons`: in a ticket's topic, with the buttons a result offers there), after `said`."""
        await self._warm(who, action)

        async def work() -> list[Reply]:
            result = await self.agents.run(who, action, self.directory, prefix=PREFIX)
            first = [Reply(part, locale=who.locale) for part in result_html(Done(said))] if said else []
            if quiet and isinstance(result, Done):
                return first
            if isinstance(result, HandoverForm) and buttons:  # in the ticket's topic: asked there
                return first + self.handovers.ask(handover_key(message, who.user_id), result, who.locale)
            return first + result_replies(result, who.locale, buttons=buttons)

        await self.pipeline.take(uid, message.chat_id, work, self._answer_in(message), started=started)

    async def _handover_answer(self, uid: str, message: Message, who: AgentIdentity, text: str,
                               started: float) -> None:
        """The agent's next message in the topic answers the hand-over's question; the last escalates."""
        command = command_of(text, self._username())
        answer = "/cancel" if command is not None and command.name == "cancel" else text
        work = self.handovers.answering(handover_key(message, who.user_id), who, answer,
                                        lambda action: self.agents.run(who, action, self.directory, prefix=PREFIX))
        await self.pipeline.take(uid, message.chat_id, work, self._answer_in(message), started=started)

    async def _say(self, uid: str, message: Message, t: Translator, text: str, started: float) -> None:
        """Answer the message with one of this module's own sentences (no action taken)."""
        replies = [Reply(part, locale=t.locale) for part in result_html(Refused(text))]

        async def work() -> list[Reply]:
            return replies

        await self.pipeline.take(uid, message.chat_id, work, self._answer_in(message), started=started)

    async def _warm(self, who: AgentIdentity, action: Action) -> None:
        """Ask Telegram what the action will need before its transaction opens (the answers are
        kept a while): a Bot API call inside it would hold the database's write lock."""
        await self.directory.is_agent(who.user_id)
        if isinstance(action, Assign):
            target = await self.directory.lookup(action.assignee)
            if target is not None:
                await self.directory.is_agent(target.user_id)

    def _answer_in(self, message: Message) -> Send:
        """Sends answers into the message's topic (or General), as replies to it."""
        thread = message.message_thread_id if message.is_topic_message else None
        to = ReplyParameters(message.message_id, allow_sending_without_reply=True)

        async def send(chat_id: int, reply: Reply) -> Reply | None:
            for attempt in range(ANSWER_TRIES + 1):
                try:
                    keys = InlineKeyboardMarkup([[InlineKeyboardButton(c.label[:64], callback_data=c.key) for c in row]
                                                 for row in reply.choices]) if reply.choices else None
                    await self.bot.send_message(chat_id, reply.text, parse_mode=ParseMode.HTML,
                                                message_thread_id=thread, reply_parameters=to, reply_markup=keys)
                    return None
                except RetryAfter as exc:
                    wait = retry_seconds(exc)
                    if wait > LONGEST_WAIT or attempt == ANSWER_TRIES:
                        log.warning("telegram: an answer in the desk group dropped: flood limit for %.0f s", wait)
                        return None
                    await asyncio.sleep(wait)
                except BadRequest as exc:  # the topic was deleted or closed meanwhile: nowhere to answer
                    log.warning("telegram: an answer in the desk group was refused: %s", exc.message)
                    return None
                except NetworkError:
                    if attempt == ANSWER_TRIES:
                        raise  # the update is released and comes again
                    await asyncio.sleep(0.5 * 2 ** attempt)
            return None

        return send

    # -- buttons ------------------------------------------------------------------------

    async def _on_press(self, update: Update, query: CallbackQuery, started: float) -> None:
        uid = str(update.update_id)
        who = self.directory.identity(query.from_user)
        t = translator(who.locale)
        message = query.message if isinstance(query.message, Message) else None
        post = await self._post_of(message) if message is not None else None
        data = query.data or ""
        menu = parse_menu(data)
        action = decode(data) if menu is None else None
        number = menu[1] if menu is not None else getattr(action, "number", None)
        on_card = message is not None and post is not None and post.card == str(message.message_id)
        # An offer's answer (the time spent), pressed under the bot's message in the topic, takes its place.
        in_offer = not on_card and isinstance(action, TimeMenu | TimeLog | TimeSkip)
        if (message is None or post is None or number is None
                or not (on_card or in_offer or isinstance(action, SendArticle))
                or (await self.services.queries.get_by_id(post.ticket_id)).number != number):
            # An older card's button, or one forged: said, and nothing changes.
            await self._answer_once(uid, query, button_inactive(t), started)
            return
        if not await self.directory.is_agent(who.user_id):
            await self._answer_once(uid, query, t._("Only help-desk agents can do this."), started)
            return
        if menu is not None:
            await self._open_menu(uid, query, message, post, menu[0], started)
            return
        assert action is not None
        if in_offer and isinstance(action, TimeLog):  # logged once, a second tap refused
            action = pressed(action, NAME, f"{message.chat_id}:{message.message_id}")
        await self._warm(who, action)
        results: list[Result] = []

        async def work() -> list[Reply]:
            result = await self.agents.run(who, action, self.directory, prefix=PREFIX)
            results.append(result)
            if isinstance(result, Offer) and not in_offer:  # asked in a message of its own, under the card
                return result_replies(result, who.locale, buttons=True)
            if isinstance(result, HandoverForm):  # asked in the card's topic
                return self.handovers.ask(handover_key(message, who.user_id), result, who.locale)
            return []

        taken = await self.pipeline.take(uid, message.chat_id, work, self._answer_in(message), started=started)
        if not taken or not results:
            return
        result = results[0]
        if in_offer and not isinstance(result, Refused):
            await self._answer(query, None)
            await replace_offer(self.bot, message, result)
            return
        text = result.done if isinstance(result, Offer) else result.text if isinstance(result, Done | Refused) else None
        await self._answer(query, text or None, alert=isinstance(result, Refused))

    async def _open_menu(self, uid: str, query: CallbackQuery, message: Message, post: DeskPost, menu: str,
                         started: float) -> None:
        """The card's buttons replaced by one of its menus (or its own again: `back`)."""
        card = ticket_card(self.desk.t, self.desk.config, await card_state(self.desk.db, post.ticket_id, NAME))
        agents = await self.directory.listed() if menu == "assign" else []
        keyboard = card_keyboard(self.desk.t, card, None if menu == "back" else menu, agents)

        async def work() -> list[Reply]:
            # The card no longer shows what its digest says: its next delivery draws it afresh.
            await update_post(self.desk.db, post, card_digest=card_forgotten(post.card_digest))
            return []

        if not await self.pipeline.once(uid, work, started=started):
            return
        await self._answer(query, None)  # first: the edit waits its turn among the group's messages
        try:
            await self.bot.edit_message_reply_markup(message.chat_id, message.message_id, reply_markup=keyboard)
        except BadRequest as exc:  # not modified (a double tap), or the card is gone
            log.debug("telegram: a card's menu was not shown: %s", exc.message)
        except TelegramError as exc:
            log.warning("telegram: a card's menu was not shown: %s", type(exc).__name__)

    async def _answer_once(self, uid: str, query: CallbackQuery, text: str, started: float) -> None:
        if await self.pipeline.once(uid, no_replies, started=started):
            await self._answer(query, text, alert=True)

    async def _answer(self, query: CallbackQuery, text: str | None, *, alert: bool = False) -> None:
        try:
            await query.answer(text=text[:ANSWER_LIMIT] if text else None, show_alert=alert)
        except TelegramError:  # too old to answer: nothing to do about it
            pass

    # -- helpers ------------------------------------------------------------------------

    async def _post_of(self, message: Message) -> DeskPost | None:
        """The ticket whose topic the message is in, if it is in one."""
        if not message.is_topic_message or message.message_thread_id is None:
            return None
        return await post_at(self.desk.db, NAME, str(message.chat_id), str(message.message_thread_id))

    def _username(self) -> str | None:
        try:
            return self.bot.username
        except RuntimeError:  # not initialised: no name to strip
            return None

