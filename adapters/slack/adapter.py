"""The Slack adapter: Bolt (AsyncApp) on /slack/events, or Socket Mode.

Agents work tickets in channels (cards, threads, controls, /helpdesk); workspace members who
write to the bot in a DM are customers like any other. Only agents act on tickets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.agents import AgentDirectory
from adapters.slack.blocks import CUSTOMER_ACTION, OFFER_KEY, Block, answered_blocks, offer_blocks
from adapters.slack.commands import DeskCommands, render, shown
from adapters.slack.customers import SlackCustomerSender
from adapters.slack.desk import SlackDesk
from adapters.slack.handover import CALLBACK, HandoverModal
from adapters.slack.inbound import incoming_files, to_plain
from adapters.slack.mrkdwn import escape
from adapters.slack.pacing import NAME, is_group
from core.agents import AgentDesk, Offer, Post, Refused, Result, TimeLog, button, decode
from core.agents.handover import HandoverForm
from core.agents.notices import button_inactive, only_agents_answer
from core.agents.timekeys import pressed
from core.chat import Conversation, Inbound, Reply
from core.delivery.attachments import AttachmentStore, prefetched
from core.delivery.contract import Pacing
from core.delivery.inbound import InboundLog, no_replies
from core.delivery.pipeline import Pipeline
from core.domain.config import HelpdeskConfig
from core.i18n import translator
from core.services import Services
from core.startup import ServiceUnreachable, StartupError, network_reason

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
# Web API errors that mean the token itself is wrong (not Slack having a bad moment).
REFUSED_TOKEN = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                           "token_expired", "not_allowed_token_type", "invalid_token", "missing_scope"})


class _NoTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and warns at every start that the
    client given here wins over it: the same token, and nothing for an operator to do."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_NO_TOKEN_NOTICE = _NoTokenNotice()


class SlackAdapter:
    name = NAME

    def __init__(
        self,
        conversation: Conversation,
        services: Services,
        config: HelpdeskConfig,
        inbound_log: InboundLog,
        files: AttachmentStore,
        *,
        token: str,
        signing_secret: str,
        pacing: Pacing,
        api_url: str = "https://slack.com/api/",
        app_token: str | None = None,
        agent_channel: str | None = None,
        agent_users: str | None = None,
        agent_group: str | None = None,
    ) -> None:
        self.conversation = conversation
        self.services = services
        self.pacing = pacing
        # No release on failure: an event acknowledged to Slack is never delivered again.
        self.pipeline = Pipeline(inbound_log, NAME)
        self.files = files
        self.token = token
        self.app_token = app_token
        self.client = AsyncWebClient(token=token, base_url=api_url)
        self._dms: dict[str, str] = {}  # user id -> the bot's DM channel with them
        logging.getLogger("slack_bolt.AsyncApp").addFilter(_NO_TOKEN_NOTICE)
        self.app = AsyncApp(client=self.client, signing_secret=signing_secret,
                            process_before_response=False, raise_error_for_unhandled_request=False)
        self.desk = SlackDesk(self.client, services.db, config, default_channel=agent_channel,
                              interval=pacing.chat_interval, clock=services.clock)
        self.agents = AgentDirectory(self.client, users=(agent_users or "").split(","), group=agent_group,
                                     channels=self.desk.channels())
        self.sender = SlackCustomerSender(self.client)  # the relay's: it paces and reschedules itself
        # Replies to a customer's DM: the customer is waiting, and Slack will not send the event
        # again (it was acknowledged), so a 5xx, a dropped connection or a short rate limit is
        # retried in the call, by slack_sdk's own handlers.
        self.replies = SlackCustomerSender(AsyncWebClient(token=token, base_url=api_url, retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=3),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2)]))
        self.commands = DeskCommands(AgentDesk(services, files), self.agents)
        self.handover = HandoverModal(self.client, self.commands)
        self._socket: Any = None
        self._auth_ok = False
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._register()

    @contextlib.contextmanager
    def _working(self) -> Iterator[None]:
        """Counts handlers in flight (they run after the HTTP ack), for a clean stop and for tests."""
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def drained(self) -> None:
        await self._idle.wait()

    # -- lifecycle ----------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        return [web.post(EVENTS_PATH, self.events)]

    async def events(self, request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def start(self, http: web.Application | None = None) -> None:
        identity = await self._check("SLACK_BOT_TOKEN", "the app's Bot User OAuth Token (xoxb-...)",
                                     self.client.auth_test())
        self._auth_ok = True
        log.info("slack: connected as %s", identity.get("user_id"))
        if self.app_token:
            # Checked here: Socket Mode's client retries a refused token for ever, logging each try.
            await self._check("SLACK_APP_TOKEN", "an app-level token (xapp-...) with the "
                              "connections:write scope", self.client.apps_connections_open(app_token=self.app_token))
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self.app_token)
            await self._socket.connect_async()
            log.info("slack: socket mode")

    async def _check(self, setting: str, expected: str, call: Awaitable[Any]) -> Any:
        """A Web API call of the start, its failure said as a StartupError naming `setting`."""
        try:
            return await call
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if error == "ratelimited":  # passing: Socket Mode's own connect waits it out
                return exc.response
            if error in REFUSED_TOKEN:
                raise StartupError(f"{setting} was refused by the Slack Web API ({error})",
                                   f"Set it to {expected}, from the app's settings at api.slack.com/apps.") from None
            raise ServiceUnreachable(f"the Slack Web API at {self.client.base_url} failed at start-up ({error})",
                                     "Check SLACK_API_URL, then start again.") from None
        except (aiohttp.ClientError, OSError) as exc:  # TimeoutError too
            raise ServiceUnreachable(
                f"the Slack Web API at {self.client.base_url} cannot be reached: {network_reason(exc)}",
                "Check the network (a proxy in HTTPS_PROXY?) and SLACK_API_URL, then start again.") from None

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close_async()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drained(), 10)
        await self.pipeline.log.flush()

    async def close(self) -> None:
        """Nothing to release: the Web API clients open a session per call."""

    def is_group(self, chat_id: str) -> bool:
        return is_group(chat_id)

    # -- listeners ----------------------------------------------------------------------

    def _register(self) -> None:
        self.app.event("message")(self._on_message)
        self.app.action(re.compile(rf"^{CUSTOMER_ACTION}:\d+$"))(self._on_customer_button)
        self.app.action(re.compile(r"^desk:"))(self._on_desk_action)
        self.app.command("/helpdesk")(self._on_command)
        self.app.view(CALLBACK)(self._on_handover)

    async def _on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        with self._working():
            await self._on_message_body(body, event, time.monotonic())

    def health(self) -> tuple[bool, str]:
        return self._auth_ok, "socket mode" if self.app_token else "http"

    async def _on_message_body(self, body: dict[str, Any], event: dict[str, Any], started: float) -> None:
        if event.get("bot_id") or event.get("subtype") not in (None, "file_share", "thread_broadcast"):
            return
        event_id = str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")
        if event.get("channel_type") == "im":
            await self._customer_message(event_id, event, started)
        elif event.get("thread_ts") and event.get("thread_ts") != event.get("ts"):
            await self._thread_reply(event_id, event, started)
        else:
            await self._once(event_id, no_replies, started)

    async def _customer_message(self, event_id: str, event: dict[str, Any], started: float) -> None:
        user, channel = event["user"], event["channel"]
        # Locked before the first await: one customer's messages are handled in the order they came.
        async with self.pipeline.in_order(user):
            await self._customer_message_in_order(event_id, event, user, channel, started)

    async def _customer_message_in_order(self, event_id: str, event: dict[str, Any], user: str, channel: str,
                                         started: float) -> None:
        name, _ = await self.agents.profile(user)
        locale = await self.agents.language(user)
        files = [await prefetched(f) for f in incoming_files(event, self.token)]
        text = event.get("text") or None
        events = [Inbound("slack", user, channel, name, locale, text=to_plain(text) if text else None,
                          file=files[0] if files else None)]
        events += [Inbound("slack", user, channel, name, locale, file=f) for f in files[1:]]

        async def work() -> list[Reply]:
            return [reply for inbound in events for reply in await self.conversation.handle(inbound)]

        await self.pipeline.take(event_id, channel, work, self.replies.send, started=started)

    async def _thread_reply(self, event_id: str, event: dict[str, Any], started: float) -> None:
        post = await self.desk.post_of(event["channel"], event["thread_ts"])
        # A reply under a hand-over in the top level's channel is the ticket's too: an internal note there.
        ticket_id = post.ticket_id if post is not None else await self.desk.placed_at(event["channel"],
                                                                                     event["thread_ts"])
        if ticket_id is None:  # a thread that is not a ticket's
            await self._once(event_id, no_replies, started)
            return
        user = event["user"]
        if not await self.agents.is_agent(user):
            if await self._once(event_id, no_replies, started):
                _, locale = await self.agents.profile(user)
                await self._ephemeral(event["channel"], user, escape(only_agents_answer(translator(locale))))
            return
        text = to_plain(event.get("text") or "").strip()
        internal = text.lower().startswith("note:")
        if internal:
            text = text[5:].strip()
        files = tuple([await prefetched(f) for f in incoming_files(event, self.token)])
        refused: list[Result] = []
        who = await self.commands.who(user)
        via, aside = ("slack", False) if post is not None else ("", True)  # in the L3 channel: a note

        async def work() -> list[Reply]:
            ticket = await self.services.queries.get_by_id(ticket_id)
            result = await self.commands.act(who, Post(ticket.number, text or "📎", internal, files, via, aside))
            if isinstance(result, Refused) or post is None:  # said there: the card's thread is elsewhere
                refused.append(result)
            return []

        if not await self._once(event_id, work, started):
            return
        for result in refused:
            await self._ephemeral(event["channel"], user, render(result))

    async def _once(self, event_id: str, work: Callable[[], Awaitable[list[Reply]]], started: float) -> bool:
        """Handle an event that sends no replies once; False when it was handled already."""
        return await self.pipeline.once(event_id, work, started=started)

    async def _on_customer_button(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        # No event id to claim (Slack does not redeliver an acknowledged press), but the press
        # takes its user's turn, so its replies never cross those of the user's messages.
        with self._working():
            async with self.pipeline.in_order(body["user"]["id"]):
                await self._on_customer_button_body(ack, body, action)

    async def _on_customer_button_body(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or body["container"]["channel_id"]
        if not await self._is_dm_of(user, channel):
            # A customer's chat is only ever their own DM with the bot: a press from anywhere
            # else (misrouted or forged) must neither answer there nor move their stored chat.
            log.warning("slack: a customer button pressed outside the presser's DM was ignored")
            return
        message = body.get("message") or {}
        label = (action.get("text") or {}).get("text", "")
        if message.get("ts"):
            try:
                await self.client.chat_update(channel=channel, ts=message["ts"], text=message.get("text", ""),
                                              blocks=answered_blocks(message.get("blocks") or [], label))
            except SlackApiError as exc:
                log.debug("slack: could not retire buttons: %s", exc.response.get("error"))
        name, _ = await self.agents.profile(user)
        locale = await self.agents.language(user)
        for reply in await self.conversation.handle(
                Inbound("slack", user, channel, name, locale, choice=str(action.get("value", "")))):
            await self.replies.send(channel, reply)

    async def _is_dm_of(self, user: str, channel: str) -> bool:
        """Whether `channel` is the bot's DM with `user` (conversations.open names it; kept)."""
        if user not in self._dms:
            try:
                opened = await self.client.conversations_open(users=user)
            except SlackApiError as exc:
                log.warning("slack: could not look up a customer's DM: %s", exc.response.get("error"))
                return False
            self._dms[user] = str((opened.get("channel") or {}).get("id", ""))
        return self._dms[user] == channel

    async def _on_desk_action(self, ack: Any, body: dict[str, Any], action: dict[str, Any],
                              respond: Any) -> None:
        with self._working():
            await self._on_desk_action_body(ack, body, action, respond)

    async def _on_desk_action_body(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        block = str(action.get("block_id") or "")
        raw = block.split(":", 1)[1] if block.startswith("desk:") else str(action.get("value") or "")
        choice = action.get("selected_user") or (action.get("selected_option") or {}).get("value", "") \
            or (str(action.get("value") or "") if block.startswith("desk:") else "")  # a found article's slug
        kind = str(action["action_id"]).split(":")[1]  # desk:claim, desk:kbsend:2 (one of several)
        if kind == OFFER_KEY:  # an offer's button carries the agents' core's own key
            decoded = decode(str(action.get("value") or ""))
        else:
            decoded = button(kind, int(raw), str(choice)) if raw.isdigit() else None
        if decoded is None:  # an older card's control, or a forged one: said, and nothing changes
            _, locale = await self.agents.profile(user)
            await self._tell(respond, channel, user, escape(button_inactive(translator(locale))))
            return
        container = body.get("container") or {}
        in_offer = kind == OFFER_KEY and bool(container.get("is_ephemeral"))
        if in_offer and isinstance(decoded, TimeLog):  # logged once, a second click refused
            decoded = pressed(decoded, "slack", f"{channel}:{container.get('message_ts')}")
        result = await self.commands.act(await self.commands.who(user), decoded)
        if isinstance(result, HandoverForm) and await self.handover.open(str(body.get("trigger_id")), result, channel):
            return
        if isinstance(result, Offer):  # for the agent alone; a step of an offer takes its place
            said = render(result)
            await self._tell(respond, channel, user, said, offer_blocks(said, result), replace=in_offer)
        elif isinstance(result, Refused | HandoverForm):  # a change shows on the card and in its thread
            await self._tell(respond, channel, user, render(result))
        elif in_offer:  # the offer answered: what was done in its place
            await self._tell(respond, channel, user, render(result), replace=True)

    async def _on_command(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        with self._working():
            await self._on_command_body(ack, command, respond)

    async def _on_command_body(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()
        result = await self.commands.result(command["user_id"], command.get("text") or "")
        if isinstance(result, HandoverForm) and await self.handover.open(
                str(command.get("trigger_id")), result, str(command.get("channel_id") or "")):
            return
        text, blocks = shown(result)
        await respond(text=text, blocks=blocks, response_type="ephemeral")

    async def _on_handover(self, ack: Any, body: dict[str, Any]) -> None:
        with self._working():
            await self.handover.submit(ack, body, self._ephemeral)

    async def _tell(self, respond: Any, channel: str, user: str, text: str, blocks: list[Block] | None = None, *,
                    replace: bool = False) -> None:
        """An ephemeral answer to whoever clicked (through the response URL when there is one);
        `replace`: in place of the ephemeral message whose button was pressed."""
        try:
            await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=replace)
        except Exception:
            await self._ephemeral(channel, user, text, blocks)

    async def _ephemeral(self, channel: str, user: str, text: str, blocks: list[Block] | None = None) -> None:
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.warning("slack: ephemeral message failed: %s", exc.response.get("error"))
