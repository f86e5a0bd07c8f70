"""The agents' desk in Slack: each ticket a card in its department's channel, its thread the
conversation. Delivers the desk's outbox rows (core.delivery.relay.DeskSender)."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import card_blocks
from adapters.slack.mrkdwn import escape, safe, trim
from adapters.slack.pacing import NAME
from core.agents import notices
from core.agents.card import ticket_card
from core.agents.handover import lines as handover_lines
from core.agents.quotes import quote_line
from core.delivery.contract import DeliveryError
from core.delivery.outbox import desk_chat
from core.domain.clock import Clock, utcnow
from core.domain.config import HelpdeskConfig
from core.i18n import Translator, translator
from core.reports.weekly import WEEKLY_REPORT, weekly_picture
from core.storage.db import Database
from core.storage.desk import CardState, agent_by_id, card_state, message_with_files, post_at, save_post
from core.storage.handover import mark_place, ticket_at_place
from core.storage.models import Attachment, Customer, DeskPost, Ticket

log = logging.getLogger(__name__)
PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "not_authed",
             "account_inactive", "token_revoked", "missing_scope", "invalid_blocks", "msg_too_long"}
SENT_KEPT = 3600.0  # seconds a failed row's progress is kept for its retry


def quoted(lines: list[str]) -> str:
    """Lines as a Slack quote, each escaped (a line break inside one stays in the quote)."""
    return "\n".join(">" + escape(line).replace("\n", "\n>") for line in lines)


def slack_failure(exc: SlackApiError) -> DeliveryError:
    """Slack's answer as a delivery outcome: wait (429), give up (permanent), or retry."""
    error = str(exc.response.get("error", "")) if exc.response is not None else ""
    status = exc.response.status_code if exc.response is not None else 0
    if status == 429 or error == "ratelimited":
        retry = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after") or 1
        return DeliveryError("slack: ratelimited", retry_after=float(retry))
    return DeliveryError(f"slack: {error or status}", permanent=error in PERMANENT)


class SlackDesk:
    def __init__(
        self, client: AsyncWebClient, db: Database, config: HelpdeskConfig, *,
        default_channel: str | None, interval: float = 1.0, clock: Clock = utcnow,
    ) -> None:
        self.client = client
        self.db = db
        self.config = config
        self.default_channel = default_channel
        self.clock = clock
        self.t: Translator = translator("en")  # the channel is shared: the desk reads English
        self.interval = interval  # between two deliveries into one channel (the channel's pace)
        # What each row failing for a passing reason had posted: its retry here goes on from there.
        # (A process that takes the row over after a crash starts it over.)
        self.sent: dict[str, tuple[float, set[str]]] = {}

    def channel_for(self, department: str) -> str | None:
        return desk_chat(self.config, NAME, department, self.default_channel)

    def channels(self) -> set[str]:
        found = {self.channel_for(d.code) for d in self.config.departments}
        return {c for c in found if c}

    async def deliver(self, event: str, params: dict[str, Any], ticket_id: int | None) -> None:
        key = f"{ticket_id}:{event}:{json.dumps(params, sort_keys=True, default=str)}"
        now = time.monotonic()
        for old in [k for k, (since, _) in self.sent.items() if now - since > SENT_KEPT]:
            del self.sent[old]  # its row was given up on, or another process delivered it
        sent = self.sent.setdefault(key, (now, set()))[1]
        try:
            if ticket_id is None:
                await self._ticketless(event, params)
            else:
                await self._deliver(event, params, ticket_id, sent)
        except SlackApiError as exc:
            failure = slack_failure(exc)
            if failure.permanent:
                self.sent.pop(key, None)
            raise failure from None
        except DeliveryError as exc:
            if exc.permanent:
                self.sent.pop(key, None)
            raise
        self.sent.pop(key, None)

    async def _ticketless(self, event: str, params: dict[str, Any]) -> None:
        """News of no ticket: a plain message in the channel the row names (no card, no thread);
        the weekly report, a picture uploaded there."""
        if event == WEEKLY_REPORT:
            picture = await weekly_picture(self.db, self.config, self.t, params)
            await self.client.files_upload_v2(channel=params["chat"], content=picture.png, filename=picture.filename,
                                              title=picture.caption, initial_comment=escape(picture.caption))
            return
        text = notices.ticketless(self.t, event, params)
        if text is None:
            raise DeliveryError(f"slack desk: no wording for {event} without a ticket", permanent=True)
        await self.client.chat_postMessage(channel=params["chat"], text=safe(text, 3900),
                                           unfurl_links=False, unfurl_media=False)

    async def _deliver(self, event: str, params: dict[str, Any], ticket_id: int, sent: set[str]) -> None:
        state = await card_state(self.db, ticket_id, NAME)
        ticket, assignee = state.ticket, state.assignee
        channel = self.channel_for(ticket.department)
        if channel is None:
            raise DeliveryError(f"no Slack channel for department {ticket.department}", permanent=True)
        text, blocks = card_blocks(ticket_card(self.t, self.config, state),
                                   assignee.platform_user_id if assignee and assignee.platform == "slack" else None)
        post = state.post
        if post is None:
            reply = await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
            post = await save_post(self.db, ticket_id, NAME, str(reply["channel"]), str(reply["ts"]), self.clock())
        elif event != "ticket_opened":
            await self.client.chat_update(channel=post.channel, ts=post.ts, text=text, blocks=blocks)
        await self._thread(event, params, state, post, sent)

    async def _thread(self, event: str, params: dict[str, Any], state: CardState, post: DeskPost,
                      sent: set[str]) -> None:
        t = self.t
        ticket = state.ticket
        who = await self._who(params)
        line: str | None = None
        place: str | None = None  # the top level's channel, told of a hand-over
        if event == "customer_message":
            await self._customer_message(params["message_id"], state.customer, post)
            return
        if event == "agent_message":
            if params.get("to_agent"):
                await self._for_contact(params, post)
            elif params.get("via") != NAME:  # the thread shows its own agents' messages already
                await self._agent_message(params["message_id"], who, post)
            return
        if event == "status_changed":
            line = escape(notices.status_changed(t, who, params["old"], params["new"]))
        elif event == "priority_changed":
            line = escape(notices.priority_changed(t, self.config, who, params["old"], params["new"]))
        elif event == "escalated":
            line = escape(notices.escalated(t, who, params["tier"]))
            if params.get("reason"):
                line += "\n>" + escape(notices.escalation_reason(t, params["reason"]))
            if params.get("checked") is not None:
                line += "\n" + quoted(handover_lines(t, params))
            target = self.config.department(ticket.department)
            supervisor = target.escalation.get(f"l{params['tier']}") if target else None
            if supervisor:
                line += "\n" + (f"<!subteam^{supervisor}>" if supervisor.startswith("S") else f"<#{supervisor}>")
            if supervisor and supervisor[0] in "CG" and params.get("checked") is not None:
                place = supervisor  # told after the thread line, which a retry of this row does not repeat
            line = trim(line, 3900)
        elif event in ("sla_warning", "sla_breach"):
            await self._sla(event, params, state, post)
            return
        elif event == "rated":
            line = escape(notices.rated(t, params["score"]))
            if params.get("comment"):
                line += "\n>" + escape(params["comment"])
        elif event == "quote":
            line = escape(quote_line(t, who, params))
        elif event == "message_withdrawn":
            line = escape(notices.withdrawn(t, params.get("excerpt", ""), params.get("moved_to")))
        elif event == "customer_unreachable":
            line = escape(notices.unreachable(t, params.get("platform", "?"), params.get("reason", "?")))
        elif event == "assigned":
            await self._assigned(params, ticket, post, who)
            return
        if line and "line" not in sent:
            await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts, text=line,
                                               unfurl_links=False, unfurl_media=False)
            sent.add("line")
        if place:
            await self._to_place(place, who, params, ticket, post, sent)

    async def _sla(self, event: str, params: dict[str, Any], state: CardState, post: DeskPost) -> None:
        """Warn the assignee in the thread, or the whole channel when nobody has the ticket."""
        zone = ZoneInfo(self.config.calendar_of(state.ticket.department).timezone)
        due = datetime.fromisoformat(params["due"]) if params.get("due") else None
        text = notices.sla(self.t, event, params.get("kind") == "first_response",
                           self.t.datetime(due, zone) if due else "—")
        assignee = state.assignee
        if assignee is not None and assignee.platform == "slack":
            await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts,
                                               text=f"<@{assignee.platform_user_id}> {escape(text)}")
        else:
            await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts, reply_broadcast=True,
                                               text=escape(text))

    async def _customer_message(self, message_id: int, customer: Customer, post: DeskPost) -> None:
        found = await message_with_files(self.db, message_id)
        if found is None:  # taken back by the customer meanwhile
            return
        msg, files = found
        head = escape(notices.customer_message_head(self.t, customer.display_name))
        if msg.body:
            await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts,
                                               text=f"*{head}*\n{safe(msg.body, 3900)}",
                                               unfurl_links=False, unfurl_media=False)
        await self._files(files, post)

    async def _agent_message(self, message_id: int, who: str, post: DeskPost) -> None:
        """An agent's message written on another desk (or the console), with its files."""
        found = await message_with_files(self.db, message_id)
        if found is None:
            return
        msg, files = found
        # The news names no actor: the message's author is the agent who wrote it.
        author = await agent_by_id(self.db, msg.author_agent_id) if msg.author_agent_id else None
        if author is not None:
            who = author.display_name or author.platform_user_id
        head = escape(notices.agent_message_head(self.t, who, msg.kind == "note"))
        await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts,
                                           text=f"*{head}*\n{escape(msg.body)}",
                                           unfurl_links=False, unfurl_media=False)
        await self._files(files, post)

    async def _to_place(self, channel: str, who: str, params: dict[str, Any], ticket: Ticket, post: DeskPost,
                        sent: set[str]) -> None:
        """The top level's channel gets the ticket with its hand-over, and a link to its card
        (once: a retry after the post only records where it went)."""
        head = escape(notices.handed_over(self.t, ticket.number, ticket.subject, who, params["tier"]))
        placed = next((s.split(" ") for s in sent if s.startswith("place ")), None)
        if placed is None:
            try:
                link = await self.client.chat_getPermalink(channel=post.channel, message_ts=post.ts)
                reply = await self.client.chat_postMessage(channel=channel, text=trim(
                    f"*{head}*\n{quoted(handover_lines(self.t, params))}\n{link['permalink']}", 3900),
                    unfurl_links=False, unfurl_media=False)
            except SlackApiError as exc:
                if not slack_failure(exc).permanent:
                    raise
                # Not in that channel, or none such: the card's thread has the hand-over and the mention.
                log.warning("slack: the L%s channel was not told: %s", params["tier"], exc.response.get("error"))
                return
            placed = ["place", str(reply["channel"]), str(reply["ts"])]
            sent.add(" ".join(placed))
        await mark_place(self.db, ticket.id, placed[1], placed[2])

    async def _for_contact(self, params: dict[str, Any], post: DeskPost) -> None:
        """Another agent's answer at L3, kept for the ticket's contact: they are mentioned (the
        answer itself is in the thread already when it was written there)."""
        found = await message_with_files(self.db, params["message_id"])
        contact = await agent_by_id(self.db, params["to_agent"])
        if found is None or contact is None:
            return
        msg, files = found
        author = await agent_by_id(self.db, msg.author_agent_id) if msg.author_agent_id else None
        name = escape(author.display_name or author.platform_user_id) if author else escape(self.t._("Someone"))
        mention = f"<@{contact.platform_user_id}>" if contact.platform == NAME \
            else escape(contact.display_name or contact.platform_user_id)
        text = f"🔒 {notices.for_contact(self.t, name, mention)}"
        if params.get("via") != NAME:
            text += f"\n{escape(msg.body)}"
        await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts, text=trim(text, 3900),
                                           unfurl_links=False, unfurl_media=False)
        if params.get("via") != NAME:
            await self._files(files, post)

    async def _files(self, files: list[Attachment], post: DeskPost) -> None:
        for f in files:
            await self.client.files_upload_v2(channel=post.channel, thread_ts=post.ts, file=f.stored_path,
                                              filename=f.filename, title=f.filename)

    async def _assigned(self, params: dict[str, Any], ticket: Ticket, post: DeskPost, who: str) -> None:
        agent = await agent_by_id(self.db, params["agent_id"])
        if agent is None:
            return
        by_self = params.get("by") == agent.id
        if agent.platform != NAME:  # an agent of another desk: named, with no one to mention or tell
            name = escape(agent.display_name or agent.platform_user_id)
            await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts,
                                               text=notices.assigned(self.t, name, None if by_self else escape(who)))
            return
        mention = f"<@{agent.platform_user_id}>"
        text = notices.assigned(self.t, mention, None if by_self else escape(who))
        await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts, text=text)
        if by_self:
            return
        link = await self.client.chat_getPermalink(channel=post.channel, message_ts=post.ts)
        dm = notices.assigned_to_you(translator(agent.locale), ticket.number, ticket.subject)
        opened = await self.client.conversations_open(users=agent.platform_user_id)
        await self.client.chat_postMessage(channel=opened["channel"]["id"],
                                           text=f"{escape(dm)}\n{link['permalink']}")

    async def _who(self, params: dict[str, Any]) -> str:
        actor, actor_id = params.get("actor"), params.get("by")
        agent = await agent_by_id(self.db, actor_id) if actor not in ("system", "customer") and actor_id else None
        return notices.actor_name(self.t, actor, (agent.display_name or agent.platform_user_id) if agent else None)

    async def post_of(self, channel: str, ts: str) -> DeskPost | None:
        return await post_at(self.db, NAME, channel, ts)

    async def placed_at(self, channel: str, ts: str) -> int | None:
        """The ticket whose hand-over was posted as `ts` in the top level's `channel`."""
        return await ticket_at_place(self.db, channel, ts)
