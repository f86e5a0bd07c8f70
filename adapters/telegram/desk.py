"""The agents' desk in a Telegram supergroup with topics: each ticket a topic, its first message
the ticket's card, the topic the ticket's conversation. Delivers the desk's outbox rows
(core.delivery.contract.DeskSender).

Each delivery brings the topic in line with the ticket as it is now (the card, the topic's name,
open or closed), then posts the row's own line. The card is rendered from the current state and
edited only when it changed, so a burst of changes costs one edit. A topic deleted by hand is
made anew, with the card and a summary of the thread, before the row's line is posted there.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from telegram import Bot, InlineKeyboardMarkup

from adapters.telegram import desk_text
from adapters.telegram.card import card_html, card_keyboard, card_part, name_part, pack, topic_name, unpack
from adapters.telegram.desk_text import CAPTION_LIMIT, block, e, mention, message_head
from adapters.telegram.render import TEXT_LIMIT, split_text
from adapters.telegram.startup import NAME
from adapters.telegram.topics import CardGone, ForumCalls, TopicClosed, TopicGone
from core.agents import notices
from core.agents.card import ticket_card
from core.agents.handover import lines as handover_lines
from core.agents.quotes import quote_line
from core.delivery.contract import DeliveryError
from core.delivery.outbox import desk_chat, desk_platform
from core.domain.clock import Clock, utcnow
from core.domain.config import HelpdeskConfig
from core.domain.model import MessageKind, Status
from core.i18n import Translator, translator
from core.metrics import DESK_THREADS_REMADE
from core.reports.weekly import WEEKLY_REPORT, weekly_picture
from core.storage.db import Database
from core.storage.desk import (
    CardState,
    agent_by_id,
    card_state,
    message_with_files,
    messages_on_the_way,
    move_post,
    recent_messages,
    save_post,
    ticket_files,
    update_post,
)
from core.storage.models import Attachment, DeskPost, Ticket

log = logging.getLogger(__name__)
T = TypeVar("T")
SUMMARY_SIZE = 5  # messages a topic made anew recalls
PROGRESS_KEPT = 3600.0  # seconds a failed row's progress is kept for its retry


@dataclass(frozen=True, slots=True)
class Document:
    """A stored file to post into the topic, with its caption (HTML) if it carries one."""

    file: Attachment
    caption: str | None = None


@dataclass
class Progress:
    """What one outbox row's delivery has done, kept while the relay may retry the row here: the
    retry goes on where the failure stopped instead of posting again what went out. (A process
    that takes the row over after a crash starts it over.)"""

    fresh: str | None = None  # the topic this row made (new or anew): the ticket's files to post there
    remade: bool = False  # ... and a summary of the thread, the old topic being gone
    done: set[str] = field(default_factory=set)  # steps done: "line:0", "file:12", ...
    since: float = field(default_factory=time.monotonic)


class TelegramDesk:
    def __init__(
        self, bot: Bot, db: Database, config: HelpdeskConfig, *, default_chat: str | None, locale: str,
        interval: float, clock: Clock = utcnow,
    ) -> None:
        self.bot = bot
        self.db = db
        self.config = config
        self.default_chat = default_chat
        self.clock = clock
        self.interval = interval  # between two deliveries into one group (the group's pace)
        self.t: Translator = translator(locale)  # the group is shared: the desk reads the deployment's language
        self.topics = ForumCalls(bot)
        self.progress: dict[str, Progress] = {}

    def chat_for(self, department: str) -> str | None:
        return desk_chat(self.config, NAME, department, self.default_chat)

    def chats(self) -> set[str]:
        found = {self.chat_for(d.code) for d in self.config.departments}
        return {c for c in found if c}

    async def deliver(self, event: str, params: dict[str, Any], ticket_id: int | None) -> None:
        if ticket_id is None:
            await self._ticketless(event, params)
            return
        key = f"{ticket_id}:{event}:{json.dumps(params, sort_keys=True, default=str)}"
        now = time.monotonic()
        for old in [k for k, p in self.progress.items() if now - p.since > PROGRESS_KEPT]:
            del self.progress[old]  # its row was given up on, or another process delivered it
        progress = self.progress.setdefault(key, Progress())
        try:
            try:
                await self._deliver(event, params, ticket_id, progress)
            except TopicGone:
                await self._remake(ticket_id, progress)
                try:
                    await self._deliver(event, params, ticket_id, progress)
                except TopicGone:
                    raise DeliveryError("telegram desk: the ticket's new topic is gone too") from None
        except (TopicClosed, CardGone) as exc:  # where no step expects it: tried again later
            raise DeliveryError(f"telegram desk: {exc}") from None
        except DeliveryError as exc:
            if exc.permanent:
                self.progress.pop(key, None)
            raise
        self.progress.pop(key, None)

    async def _ticketless(self, event: str, params: dict[str, Any]) -> None:
        """News of no ticket: one message in the group's General topic (no message_thread_id);
        the weekly report, a photo there."""
        text = notices.ticketless(self.t, event, params)
        if text is None and event != WEEKLY_REPORT:
            raise DeliveryError(f"telegram desk: no wording for {event} without a ticket", permanent=True)
        try:
            if event == WEEKLY_REPORT:
                picture = await weekly_picture(self.db, self.config, self.t, params)
                await self.topics.call(params["chat"], self.bot.send_photo(
                    params["chat"], picture.png, caption=picture.caption[:CAPTION_LIMIT], filename=picture.filename))
                return
            await self.topics.send(params["chat"], None, block(text or "", bold=False)[0])
        except (TopicGone, TopicClosed, CardGone) as exc:  # the General topic closed or hidden: later
            raise DeliveryError(f"telegram desk: {exc}") from None

    async def _deliver(self, event: str, params: dict[str, Any], ticket_id: int, progress: Progress) -> None:
        state = await card_state(self.db, ticket_id, NAME)
        post = state.post or await self._open(state.ticket, progress)
        closed = state.ticket.status == Status.CLOSED
        if post.closed and not closed:
            await self._reopen(post)
        await self._show(state, post)
        if progress.fresh == post.ts:
            await self._welcome(state, post, progress)
        for i, item in enumerate(await self._lines(event, params, state)):
            await self._step(post, item, f"line:{i}", progress)
        if event == "escalated" and params.get("checked") is not None:
            await self._to_place(params, state, progress)
        if closed and not post.closed:
            await self.topics.close(post.channel, post.ts)
            await update_post(self.db, post, closed=True)

    # -- the topic ------------------------------------------------------------------------

    def _name(self, ticket: Ticket) -> str:
        return topic_name(ticket.number, ticket.status, ticket.subject)

    async def _open(self, ticket: Ticket, progress: Progress) -> DeskPost:
        chat = self.chat_for(ticket.department)
        if chat is None:
            raise DeliveryError(f"no Telegram desk group for department {ticket.department}", permanent=True)
        name = self._name(ticket)
        thread = await self.topics.create(chat, name)
        # A crash (or an answer lost) between the creation and this record leaves that topic
        # without its ticket, and the retry makes another: the one way to an orphan topic. No
        # other delivery races this one: the relay sends one row per desk group at a time, across
        # processes. The card is posted next (the post's card is its topic until then).
        post = await save_post(self.db, ticket.id, NAME, chat, str(thread), self.clock(),
                               digest=pack(None, name_part(name)))
        progress.fresh = post.ts
        return post

    async def _remake(self, ticket_id: int, progress: Progress) -> None:
        """The ticket's topic is gone (deleted by hand): a new one in the same group."""
        state = await card_state(self.db, ticket_id, NAME)
        post = state.post
        if post is None:  # pragma: no cover - a topic was gone, so the ticket had one
            raise DeliveryError("telegram desk: the ticket's topic is not recorded")
        name = self._name(state.ticket)
        thread = await self.topics.create(post.channel, name)
        # As in _open, a crash here leaves one orphan topic.
        await move_post(self.db, post, post.channel, str(thread), str(thread), self.clock())
        await update_post(self.db, post, card_digest=pack(None, name_part(name)))
        log.info("ticket #%s: its topic in the desk group was gone; made anew", state.ticket.number)
        DESK_THREADS_REMADE.labels(NAME).inc()
        # What this row posted into the topic that is gone goes again; the L3 group keeps its parts.
        progress.done = {step for step in progress.done if step.startswith("place:")}
        progress.fresh, progress.remade = post.ts, True

    async def _reopen(self, post: DeskPost) -> None:
        await self.topics.reopen(post.channel, post.ts)
        await update_post(self.db, post, closed=False)

    async def _in_topic(self, post: DeskPost, send: Callable[[], Awaitable[T]]) -> T:
        try:
            return await send()
        except TopicClosed:
            # A bot that may not write in a closed topic: opened for this, and closed again at the
            # end of the delivery if the ticket is closed.
            await self._reopen(post)
            return await send()

    async def _show(self, state: CardState, post: DeskPost) -> None:
        """The card and the topic's name as the ticket is now, each sent only if it changed."""
        card = ticket_card(self.t, self.config, state)
        text = card_html(card, desk_text.hint(self.t))
        markup = card_keyboard(self.t, card)
        name = self._name(state.ticket)
        shown_card, shown_name = unpack(post.card_digest)
        want_card, want_name = card_part(text, markup), name_part(name)
        if post.card == post.ts:  # no card in the topic yet
            await self._new_card(post, text, markup, want_card, shown_name)
        elif shown_card != want_card:
            try:
                await self.topics.edit_card(post.channel, post.card or "", text, markup)
            except CardGone:  # deleted by hand (a topic deleted with it says so at the next send)
                await self._new_card(post, text, markup, want_card, shown_name)
            else:
                await update_post(self.db, post, card_digest=pack(want_card, shown_name))
        if shown_name != want_name:
            await self.topics.rename(post.channel, post.ts, name)
            await update_post(self.db, post, card_digest=pack(want_card, want_name))

    async def _new_card(self, post: DeskPost, text: str, markup: InlineKeyboardMarkup | None, shown: str,
                        name: str | None) -> None:
        card = await self._in_topic(post, lambda: self.topics.send(post.channel, post.ts, text, markup))
        await update_post(self.db, post, card=str(card), card_digest=pack(shown, name))

    async def _welcome(self, state: CardState, post: DeskPost, progress: Progress) -> None:
        """A topic this row made: the ticket's own files, and a summary of the thread if it was
        made anew."""
        for f in await ticket_files(self.db, state.ticket.id):
            await self._step(post, Document(f), f"file:{f.id}", progress)
        if progress.remade:
            recalled = await self._recent(state)
            for i, text in enumerate(desk_text.summary(self.t, recalled)):
                await self._step(post, text, f"summary:{i}", progress)

    async def _recent(self, state: CardState) -> list[tuple[str, str, str]]:
        """The thread's last messages shown already (those on their way follow in full)."""
        coming = await messages_on_the_way(self.db, state.ticket.id, desk_platform(NAME))
        found = [m for m in await recent_messages(self.db, state.ticket.id, SUMMARY_SIZE + len(coming) + 5)
                 if m.kind != MessageKind.SYSTEM and m.id not in coming][-SUMMARY_SIZE:]
        recalled = []
        for m in found:
            who = await self._agent_name(m.author_agent_id) if m.author_agent_id else \
                state.customer.display_name or ""
            recalled.append((who, m.kind, m.body))
        return recalled

    async def _step(self, post: DeskPost, item: str | Document, step: str, progress: Progress) -> None:
        """Post a message or a file into the topic, once for this row."""
        if step in progress.done:
            return
        if isinstance(item, str):
            await self._in_topic(post, lambda: self.topics.send(post.channel, post.ts, item))
        else:
            f = item.file
            await self._in_topic(post, lambda: self.topics.send_file(
                post.channel, post.ts, f.stored_path, f.filename, item.caption))
        progress.done.add(step)

    # -- the thread's lines ---------------------------------------------------------------

    async def _lines(self, event: str, params: dict[str, Any], state: CardState) -> Sequence[str | Document]:
        """The row's own messages in the topic (a ticket's opening has none: its card says it)."""
        t = self.t
        if event == "agent_message" and params.get("to_agent"):
            return await self._for_contact(params)
        if event == "customer_message" or (event == "agent_message" and params.get("via") != NAME):
            # (the desk's own agents' messages are in the topic already)
            found = await message_with_files(self.db, params["message_id"])
            if found is None:  # taken back by the customer meanwhile
                return []
            msg, files = found
            if event == "customer_message":
                return self._message(message_head(t, state.customer.display_name or "", MessageKind.CUSTOMER),
                                     msg.body, files)
            who = await self._agent_name(msg.author_agent_id) if msg.author_agent_id else await self._who(params)
            return self._message(message_head(t, who, msg.kind), msg.body, files)
        if event == "status_changed":
            return block(notices.status_changed(t, await self._who(params), params["old"], params["new"]),
                         bold=False)
        if event == "priority_changed":
            return block(notices.priority_changed(t, self.config, await self._who(params), params["old"],
                                                  params["new"]), bold=False)
        if event == "escalated":
            reason = notices.escalation_reason(t, params["reason"]) if params.get("reason") else ""
            if params.get("checked") is not None:
                reason = "\n".join([reason, *handover_lines(t, params)]).strip()
            return block(notices.escalated(t, await self._who(params), params["tier"]), reason, bold=False)
        if event == "rated":
            return block(notices.rated(t, params["score"]), params.get("comment") or "", bold=False)
        if event in ("sla_warning", "sla_breach"):
            return [self._sla(event, params, state)]
        if event == "quote":
            return block(quote_line(t, await self._who(params), params), bold=False)
        if event == "message_withdrawn":
            return block(notices.withdrawn(t, params.get("excerpt", ""), params.get("moved_to")), bold=False)
        if event == "customer_unreachable":
            return block(notices.unreachable(t, params.get("platform", "?"), params.get("reason", "?")), bold=False)
        if event == "assigned":
            return await self._assigned(params)
        return []

    async def _for_contact(self, params: dict[str, Any]) -> list[str | Document]:
        """Another agent's answer at L3, kept for the ticket's contact, who is mentioned."""
        found = await message_with_files(self.db, params["message_id"])
        contact = await agent_by_id(self.db, params["to_agent"])
        if found is None or contact is None:
            return []
        msg, files = found
        who = await self._agent_name(msg.author_agent_id) if msg.author_agent_id else self.t._("Someone")
        name = contact.display_name or contact.platform_user_id
        head = desk_text.fill(notices.for_contact(self.t, "\ue000", "\ue001"), e(who),
                              mention(contact.platform_user_id, name) if contact.platform == NAME else e(name))
        if params.get("via") == NAME:  # the answer is in the topic already
            return [f"{desk_text.NOTE_MARK} {head}"]
        body = [e(part) for part in split_text(msg.body, TEXT_LIMIT) if part.strip()]
        return [f"{desk_text.NOTE_MARK} {head}", *body, *(Document(f) for f in files)]

    async def _to_place(self, params: dict[str, Any], state: CardState, progress: Progress) -> None:
        """The top level's group (`escalation.l3`, a chat id) gets the ticket with its hand-over,
        each part once (a retry goes on from the part that failed)."""
        target = self.config.department(state.ticket.department)
        place = target.escalation.get(f"l{params['tier']}") if target else None
        if not place or not place.lstrip("-").isdigit():
            return
        head = notices.handed_over(self.t, state.ticket.number, state.ticket.subject, await self._who(params),
                                   params["tier"])
        for i, part in enumerate(block(head, "\n".join(handover_lines(self.t, params)))):
            if f"place:{i}" in progress.done:
                continue
            try:
                await self.topics.send(place, None, part)
                progress.done.add(f"place:{i}")
            except (TopicGone, TopicClosed, CardGone) as exc:  # its General topic closed: the topic has it
                log.warning("telegram desk: the L%s group was not told: %s", params["tier"], exc)
                return
            except DeliveryError as exc:
                if not exc.permanent:
                    raise
                # A group the bot is not in (misconfigured): the ticket's topic has the hand-over.
                log.warning("telegram desk: the L%s group was not told: %s", params["tier"], exc)
                return

    @staticmethod
    def _message(head: str, body: str, files: list[Attachment]) -> list[str | Document]:
        """A ticket's message: its head and body, then its files (a file alone carries the head)."""
        if not body.strip() and files:
            caption = block(head, limit=CAPTION_LIMIT)[0]
            return [Document(files[0], caption), *(Document(f) for f in files[1:])]
        return [*block(head, body), *(Document(f) for f in files)]

    def _sla(self, event: str, params: dict[str, Any], state: CardState) -> str:
        """A deadline coming or missed, with the assignee mentioned when they work here."""
        zone = ZoneInfo(self.config.calendar_of(state.ticket.department).timezone)
        due = datetime.fromisoformat(params["due"]) if params.get("due") else None
        text = e(notices.sla(self.t, event, params.get("kind") == "first_response",
                             self.t.datetime(due, zone) if due else "—"))
        agent = state.assignee
        if agent is not None and agent.platform == NAME:
            return f"{mention(agent.platform_user_id, agent.display_name)} {text}"
        return text

    async def _assigned(self, params: dict[str, Any]) -> list[str]:
        agent = await agent_by_id(self.db, params["agent_id"])
        if agent is None:
            return []
        name = agent.display_name or agent.platform_user_id
        assignee = mention(agent.platform_user_id, name) if agent.platform == NAME else e(name)
        by_self = params.get("by") == agent.id
        return [desk_text.assigned(self.t, assignee, None if by_self else e(await self._who(params)))]

    async def _agent_name(self, agent_id: int) -> str:
        agent = await agent_by_id(self.db, agent_id)
        return (agent.display_name or agent.platform_user_id) if agent else self.t._("Someone")

    async def _who(self, params: dict[str, Any]) -> str:
        actor, actor_id = params.get("actor"), params.get("by")
        agent = await agent_by_id(self.db, actor_id) if actor not in ("system", "customer") and actor_id else None
        return notices.actor_name(self.t, actor, (agent.display_name or agent.platform_user_id) if agent else None)
