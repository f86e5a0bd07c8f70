"""The agents' desk in Slack: each ticket a card in its department's channel, its thread the
conversation. Delivers the desk's outbox rows (core.delivery.relay.DeskSender)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from adapters.slack.blocks import ticket_card
from adapters.slack.mrkdwn import escape, safe
from adapters.slack.pacing import NAME
from core.chat.views import agent_status as desk_status
from core.delivery.relay import DeliveryError
from core.domain.clock import Clock, utcnow
from core.domain.config import HelpdeskConfig
from core.i18n import Translator, translator
from core.storage.db import Database
from core.storage.models import Agent, Attachment, Customer, DeskPost, Ticket, TicketMessage

log = logging.getLogger(__name__)
PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "not_authed",
             "account_inactive", "token_revoked", "missing_scope", "invalid_blocks", "msg_too_long"}


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
        default_channel: str | None, clock: Clock = utcnow,
    ) -> None:
        self.client = client
        self.db = db
        self.config = config
        self.default_channel = default_channel
        self.clock = clock
        self.t: Translator = translator("en")  # the channel is shared: the desk reads English

    def channel_for(self, department: str) -> str | None:
        dep = self.config.department(department)
        return (dep.desks.get(NAME) if dep else None) or self.default_channel

    def channels(self) -> set[str]:
        found = {self.channel_for(d.code) for d in self.config.departments}
        return {c for c in found if c}

    async def deliver(self, event: str, params: dict[str, Any], ticket_id: int) -> None:
        try:
            await self._deliver(event, params, ticket_id)
        except SlackApiError as exc:
            raise slack_failure(exc) from None

    async def _deliver(self, event: str, params: dict[str, Any], ticket_id: int) -> None:
        async with self.db.read() as session:
            ticket = await session.get_one(Ticket, ticket_id)
            customer = await session.get_one(Customer, ticket.customer_id)
            assignee = await session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
            post = await session.get(DeskPost, ticket_id)
            names = list((await session.execute(
                select(Attachment.filename).where(Attachment.ticket_id == ticket_id, Attachment.message_id.is_(None))
            )).scalars())
        channel = self.channel_for(ticket.department)
        if channel is None:
            raise DeliveryError(f"no Slack channel for department {ticket.department}", permanent=True)
        text, blocks = ticket_card(self.t, self.config, ticket, customer,
                                   assignee.platform_user_id if assignee and assignee.platform == "slack" else None,
                                   names)
        if post is None:
            reply = await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
            post = DeskPost(ticket_id=ticket_id, channel=str(reply["channel"]), ts=str(reply["ts"]),
                            created_at=self.clock())
            async with self.db.write() as session:
                session.add(post)
        elif event != "ticket_opened":
            await self.client.chat_update(channel=post.channel, ts=post.ts, text=text, blocks=blocks)
        await self._thread(event, params, ticket, customer, post)

    async def _thread(self, event: str, params: dict[str, Any], ticket: Ticket, customer: Customer,
                      post: DeskPost) -> None:
        t = self.t
        who = await self._who(params)
        line: str | None = None
        if event == "customer_message":
            await self._customer_message(params["message_id"], customer, post)
            return
        if event == "agent_message" and params.get("via") != "slack":
            async with self.db.read() as session:
                msg = await session.get_one(TicketMessage, params["message_id"])
            label = t._("{who} (internal note):", who=who) if msg.kind == "note" else \
                t._("{who} replied to the customer:", who=who)
            line = f"*{escape(label)}*\n{escape(msg.body)}"
        elif event == "status_changed":
            line = t._("{who} changed the status: {old} → {new}", who=who,
                       old=desk_status(t, params["old"]), new=desk_status(t, params["new"]))
            line = escape(line)
        elif event == "priority_changed":
            old, new = self.config.priority(params["old"]), self.config.priority(params["new"])
            line = escape(t._("{who} changed the priority: {old} → {new}", who=who,
                              old=old.name.get(t.locale) if old else params["old"],
                              new=new.name.get(t.locale) if new else params["new"]))
        elif event == "escalated":
            line = escape(t._("{who} escalated the ticket to L{tier}.", who=who, tier=params["tier"]))
            reasons = {
                "first_response_overdue": t._("The first response is overdue."),
                "resolution_overdue": t._("The resolution is overdue."),
                "customer_request": t._("The customer asked for it: the first response is overdue."),
            }
            if params.get("reason"):
                line += "\n>" + escape(reasons.get(params["reason"], params["reason"]))
            target = (self.config.department(ticket.department) or None)
            supervisor = target.escalation.get(f"l{params['tier']}") if target else None
            if supervisor:
                line += "\n" + (f"<!subteam^{supervisor}>" if supervisor.startswith("S") else f"<#{supervisor}>")
        elif event in ("sla_warning", "sla_breach"):
            await self._sla(event, params, ticket, post)
            return
        elif event == "rated":
            line = escape(t._("The customer rated this ticket {score} of 5.", score=params["score"]))
            if params.get("comment"):
                line += "\n>" + escape(params["comment"])
        elif event == "customer_unreachable":
            line = escape(t._("The customer cannot be reached on {platform} any more ({reason}); "
                              "notifications to them are kept as dead letters.",
                              platform=params.get("platform", "?"), reason=params.get("reason", "?")))
        elif event == "assigned":
            await self._assigned(params, ticket, post, who)
            return
        if line:
            await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts, text=line,
                                               unfurl_links=False, unfurl_media=False)

    async def _sla(self, event: str, params: dict[str, Any], ticket: Ticket, post: DeskPost) -> None:
        """Warn the assignee in the thread, or the whole channel when nobody has the ticket."""
        t = self.t
        zone = ZoneInfo(self.config.calendar_of(ticket.department).timezone)
        due = datetime.fromisoformat(params["due"]) if params.get("due") else None
        when = t.datetime(due, zone) if due else "—"
        first = params.get("kind") == "first_response"
        if event == "sla_warning":
            text = t._("⏰ The first response to this ticket is due {when}.", when=when) if first else \
                t._("⏰ The resolution of this ticket is due {when}.", when=when)
        else:
            text = t._("The first-response deadline of this ticket was missed.") if first else \
                t._("The resolution deadline of this ticket was missed.")
        async with self.db.read() as session:
            assignee = await session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
        if assignee is not None and assignee.platform == "slack":
            await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts,
                                               text=f"<@{assignee.platform_user_id}> {escape(text)}")
        else:
            await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts, reply_broadcast=True,
                                               text=escape(text))

    async def _customer_message(self, message_id: int, customer: Customer, post: DeskPost) -> None:
        async with self.db.read() as session:
            msg = await session.get_one(TicketMessage, message_id)
            files = list((await session.execute(
                select(Attachment).where(Attachment.message_id == message_id))).scalars())
        head = escape(self.t._("{who} wrote:", who=customer.display_name or self.t._("The customer")))
        if msg.body:
            await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts,
                                               text=f"*{head}*\n{safe(msg.body, 3900)}",
                                               unfurl_links=False, unfurl_media=False)
        for f in files:
            await self.client.files_upload_v2(channel=post.channel, thread_ts=post.ts, file=f.stored_path,
                                              filename=f.filename, title=f.filename)

    async def _assigned(self, params: dict[str, Any], ticket: Ticket, post: DeskPost, who: str) -> None:
        async with self.db.read() as session:
            agent = await session.get(Agent, params["agent_id"])
        if agent is None or agent.platform != "slack":
            return
        mention = f"<@{agent.platform_user_id}>"
        by_self = params.get("by") == agent.id
        text = self.t._("{assignee} is now handling this ticket.", assignee=mention) if by_self else \
            self.t._("{assignee} is now handling this ticket (assigned by {who}).", assignee=mention, who=escape(who))
        await self.client.chat_postMessage(channel=post.channel, thread_ts=post.ts, text=text)
        if by_self:
            return
        link = await self.client.chat_getPermalink(channel=post.channel, message_ts=post.ts)
        at = translator(agent.locale)
        dm = at._("You have been assigned ticket #{number}: {subject}", number=ticket.number,
                  subject=ticket.subject)
        opened = await self.client.conversations_open(users=agent.platform_user_id)
        await self.client.chat_postMessage(channel=opened["channel"]["id"],
                                           text=f"{escape(dm)}\n{link['permalink']}")

    async def _who(self, params: dict[str, Any]) -> str:
        actor_id = params.get("by")
        if params.get("actor") == "system":
            return self.t._("The system")
        if params.get("actor") == "customer":
            return self.t._("The customer")
        if actor_id is None:
            return self.t._("Someone")
        async with self.db.read() as session:
            agent = await session.get(Agent, actor_id)
        return agent.display_name or agent.platform_user_id if agent else self.t._("Someone")

    async def post_of(self, channel: str, ts: str) -> DeskPost | None:
        async with self.db.read() as session:
            return (await session.execute(
                select(DeskPost).where(DeskPost.channel == channel, DeskPost.ts == ts))).scalar_one_or_none()
