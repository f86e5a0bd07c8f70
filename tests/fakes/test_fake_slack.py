"""Tests for the fake Slack Web API and the request signer, driven by the real slack_sdk and slack_bolt."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.context.say.async_say import AsyncSay
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from .slack_api import (
    DOWNLOAD,
    RESPONSE_URL,
    UPLOAD,
    FakeSlackAPI,
    SlackEventSender,
    serve_bolt_app,
    validate_blocks,
)

TOKEN = "xoxb-test"
SECRET = "test-signing-secret"
ALICE, BORIS, DARIUSH = "U0ALICE01", "U0BORIS01", "U0DARIU01"
HELPDESK, PRIVATE = "C0HELPDSK", "C0PRIVATE"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack_sdk routes through HTTP(S)_PROXY and ignores NO_PROXY, which would send 127.0.0.1 traffic to a proxy.
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def api() -> AsyncIterator[FakeSlackAPI]:
    async with FakeSlackAPI(bot_token=TOKEN) as fake:
        fake.add_user(ALICE, "alice", real_name="Alice Nováková", locale="cs-CZ", tz="Europe/Prague")
        fake.add_user(BORIS, "boris", real_name="Борис", locale="ru-RU", tz="Europe/Moscow")
        fake.add_user(DARIUSH, "dariush", real_name="داریوش", locale="fa-IR", tz="Asia/Tehran")
        fake.add_channel(HELPDESK, "helpdesk", members=[ALICE, BORIS])
        fake.add_channel(PRIVATE, "agents-only", members=[ALICE], is_private=True, bot_is_member=False)
        fake.add_usergroup("S0AGENTS1", "agents", [ALICE, BORIS])
        yield fake


@pytest.fixture
def client(api: FakeSlackAPI) -> AsyncWebClient:
    # No retry handlers: faults must surface as errors, not be retried away.
    return AsyncWebClient(token=TOKEN, base_url=api.base_url, retry_handlers=[])


async def api_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as excinfo:
        await call
    return excinfo.value


# ----------------------------------------------------------------------------------------
# Web API through the real AsyncWebClient


async def test_post_message_returns_ts_and_is_recorded(api: FakeSlackAPI, client: AsyncWebClient) -> None:
    first = await client.chat_postMessage(channel=HELPDESK, text="hello", blocks=[section("*hello*")])
    second = await client.chat_postMessage(channel="#helpdesk", text="again")

    assert first["ok"] and first["channel"] == HELPDESK
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["message"]["bot_id"] == api.bot_id
    call = api.calls_to("chat.postMessage")[0]
    assert call.token == TOKEN and call.http_method == "POST"
    assert call.params["blocks"] == [section("*hello*")]  # decoded, not a JSON string
    assert [m["text"] for m in api.messages_in(HELPDESK)] == ["hello", "again"]


async def test_block_kit_limits(client: AsyncWebClient) -> None:
    too_many = await api_error(client.chat_postMessage(channel=HELPDESK, text="x", blocks=[section("b")] * 51))
    assert too_many.response["error"] == "invalid_blocks"

    too_long = await api_error(client.chat_postMessage(channel=HELPDESK, text="x", blocks=[section("a" * 3001)]))
    assert too_long.response["error"] == "invalid_blocks"
    assert "json-pointer:/blocks/0/text/text" in too_long.response["response_metadata"]["messages"][0]

    ok = await client.chat_postMessage(channel=HELPDESK, text="x", blocks=[section("a" * 3000)] * 50)
    assert ok["ok"]

    huge = await api_error(client.chat_postMessage(channel=HELPDESK, text="a" * 40_001))
    assert huge.response["error"] == "msg_too_long"


def test_validate_blocks_element_limits() -> None:
    button = {"type": "button", "action_id": "take", "text": {"type": "plain_text", "text": "Take"}, "value": "T-1"}
    assert validate_blocks([{"type": "actions", "elements": [button]}]) == []
    bad = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}},
        {"type": "actions", "elements": [{**button, "value": "v" * 2001}]},
        {"type": "actions", "elements": [{**button, "action_id": "a" * 256}]},
        {"type": "actions", "elements": [{**button, "text": {"type": "plain_text", "text": "t" * 76}}]},
        {"type": "actions", "elements": [{**button, "action_id": f"b{i}"} for i in range(26)]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c" * 3001}]},
    ]
    for block in bad:
        assert validate_blocks([block]), block


async def test_channel_errors(api: FakeSlackAPI, client: AsyncWebClient) -> None:
    missing = await api_error(client.chat_postMessage(channel="C0NOPE", text="x"))
    assert missing.response["error"] == "channel_not_found"
    outside = await api_error(client.chat_postMessage(channel=PRIVATE, text="x"))
    assert outside.response["error"] == "not_in_channel"
    assert missing.response.status_code == 200  # Slack reports method errors in a 200 body


async def test_auth_and_unknown_method(api: FakeSlackAPI) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=api.base_url, retry_handlers=[])
    assert (await api_error(wrong.auth_test())).response["error"] == "invalid_auth"
    anonymous = AsyncWebClient(base_url=api.base_url, retry_handlers=[])
    assert (await api_error(anonymous.auth_test())).response["error"] == "not_authed"

    client = AsyncWebClient(token=TOKEN, base_url=api.base_url, retry_handlers=[])
    unknown = await api_error(client.api_call("chat.teleport"))
    assert unknown.response.status_code == 404 and unknown.response["error"] == "unknown_method"

    auth = await client.auth_test()
    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == (api.bot_user_id, api.bot_id, api.team_id)
    # A token passed as a form field (not a header) is accepted too.
    assert (await AsyncWebClient(base_url=api.base_url).api_call("auth.test", data={"token": TOKEN}))["ok"]


async def test_rate_limit_surfaces_with_retry_after(api: FakeSlackAPI, client: AsyncWebClient) -> None:
    api.fail_next("chat.postMessage", retry_after=7)
    limited = await api_error(client.chat_postMessage(channel=HELPDESK, text="x"))
    assert limited.response.status_code == 429
    assert limited.response.headers["Retry-After"] == "7"
    assert limited.response["error"] == "ratelimited"
    assert (await client.chat_postMessage(channel=HELPDESK, text="x"))["ok"]  # only the next call failed
    assert [m["text"] for m in api.messages_in(HELPDESK)] == ["x"]

    api.fail_next("chat.postMessage", retry_after=0)
    retrying = AsyncWebClient(token=TOKEN, base_url=api.base_url, retry_handlers=[AsyncRateLimitErrorRetryHandler()])
    assert (await retrying.chat_postMessage(channel=HELPDESK, text="y"))["ok"]
    assert [c.status for c in api.calls_to("chat.postMessage")] == [429, 200, 429, 200]


async def test_server_error_plain_error_and_delay(api: FakeSlackAPI, client: AsyncWebClient) -> None:
    api.fail_next("users.info", status=500)
    assert (await api_error(client.users_info(user=ALICE))).response.status_code == 500

    api.fail_next("chat.postMessage", error="is_archived", count=2)
    for _ in range(2):
        failed = await api_error(client.chat_postMessage(channel=HELPDESK, text="x"))
        assert (failed.response.status_code, failed.response["error"]) == (200, "is_archived")

    api.delay_next("users.info", 0.3)
    started = time.monotonic()
    await client.users_info(user=ALICE)
    assert time.monotonic() - started >= 0.3
    # timeout is annotated int, but it only feeds aiohttp.ClientTimeout, which takes a float.
    short_timeout: Any = 0.2
    slow_timeout = AsyncWebClient(token=TOKEN, base_url=api.base_url, timeout=short_timeout, retry_handlers=[])
    api.delay_next("auth.test", 0.4)
    with pytest.raises(asyncio.TimeoutError):
        await slow_timeout.auth_test()


async def test_files_upload_v2_end_to_end(api: FakeSlackAPI, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel=HELPDESK, text="ticket #1")
    result = await client.files_upload_v2(
        channel=HELPDESK,
        thread_ts=parent["ts"],
        filename="log.txt",
        content=b"line 1\nline 2\n",
        title="Server log",
        initial_comment="Here is the log",
    )
    file_id = result["file"]["id"]
    assert [c.method for c in api.calls[-3:]] == ["files.getUploadURLExternal", UPLOAD, "files.completeUploadExternal"]
    assert api.file_content(file_id) == b"line 1\nline 2\n"

    thread = api.messages_in(HELPDESK, parent["ts"])
    assert [m["text"] for m in thread] == ["ticket #1", "Here is the log"]
    assert thread[1]["files"][0]["id"] == file_id
    info = (await client.files_info(file=file_id))["file"]
    assert info["title"] == "Server log" and info["size"] == 14
    assert HELPDESK in info["shares"]["public"]

    async with aiohttp.ClientSession() as http:
        url = info["url_private_download"]
        async with http.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
            assert resp.status == 200 and await resp.read() == b"line 1\nline 2\n"
        async with http.get(url) as resp:  # no token: Slack's sign-in page, not the file
            assert resp.content_type == "text/html"
    assert [c.status for c in api.calls_to(DOWNLOAD)] == [200, 302]


async def test_user_uploaded_file_download(api: FakeSlackAPI) -> None:
    file = api.add_file("screenshot.png", b"\x89PNG...", user=ALICE)
    assert file["mimetype"] == "image/png" and file["url_private_download"].startswith(api.root_url)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        async with http.get(file["url_private_download"]) as resp:
            assert await resp.read() == b"\x89PNG..."


async def test_conversations_members_paginates(api: FakeSlackAPI, client: AsyncWebClient) -> None:
    for i in range(5):
        api.add_user(f"U0MEMB{i:03d}", f"member{i}")
    api.add_channel("C0BIG0001", "big", members=[f"U0MEMB{i:03d}" for i in range(5)])

    members: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        page = await client.conversations_members(channel="C0BIG0001", limit=2, cursor=cursor)
        members += page["members"]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert members == [*(f"U0MEMB{i:03d}" for i in range(5)), api.bot_user_id]
    bad = await api_error(client.conversations_members(channel="C0BIG0001", cursor="garbage"))
    assert bad.response["error"] == "invalid_cursor"
    hidden = await api_error(client.conversations_members(channel=PRIVATE))
    assert hidden.response["error"] == "channel_not_found"


async def test_workspace_methods(api: FakeSlackAPI, client: AsyncWebClient) -> None:
    alice = (await client.users_info(user=ALICE, include_locale=True))["user"]
    assert (alice["locale"], alice["tz"], alice["real_name"]) == ("cs-CZ", "Europe/Prague", "Alice Nováková")
    assert "locale" not in (await client.users_info(user=ALICE))["user"]  # as Slack: only on request
    assert (await api_error(client.users_info(user="U0NOBODY"))).response["error"] == "user_not_found"
    everyone = (await client.users_list(include_locale=True))["members"]
    assert {u["id"]: u["locale"] for u in everyone}[DARIUSH] == "fa-IR"

    assert (await client.usergroups_users_list(usergroup="S0AGENTS1"))["users"] == [ALICE, BORIS]
    assert (await api_error(client.usergroups_users_list(usergroup="S0NOPE"))).response["error"] == "no_such_subteam"

    dm = (await client.conversations_open(users=BORIS))["channel"]["id"]
    again = await client.conversations_open(users=[BORIS])
    assert dm.startswith("D") and again["channel"]["id"] == dm and again["already_open"]
    dm_info = (await client.conversations_info(channel=dm))["channel"]
    assert dm_info["is_im"] and dm_info["user"] == BORIS
    posted = await client.chat_postMessage(channel=BORIS, text="to the DM")  # a user id posts into the DM
    assert posted["channel"] == dm

    api.add_channel("C0OTHER01", "other", bot_is_member=False)
    joined = await client.conversations_join(channel="C0OTHER01")
    assert joined["channel"]["is_member"]

    parent = await client.chat_postMessage(channel=HELPDESK, text="parent")
    reply = await client.chat_postMessage(channel=HELPDESK, text="reply", thread_ts=parent["ts"])
    orphan = await client.chat_postMessage(channel=HELPDESK, text="orphan", thread_ts="1600000000.000001")
    assert api.unknown_thread_posts == [(HELPDESK, "1600000000.000001", orphan["ts"])]
    replies = (await client.conversations_replies(channel=HELPDESK, ts=parent["ts"]))["messages"]
    assert [m["text"] for m in replies] == ["parent", "reply"] and replies[0]["reply_count"] == 1

    await client.chat_update(channel=HELPDESK, ts=reply["ts"], text="edited reply")
    assert api.messages_in(HELPDESK, parent["ts"])[1]["text"] == "edited reply"
    gone = await api_error(client.chat_update(channel=HELPDESK, ts="1.2", text="x"))
    assert gone.response["error"] == "message_not_found"
    link = (await client.chat_getPermalink(channel=HELPDESK, message_ts=reply["ts"]))["permalink"]
    assert link.startswith("https://") and f"thread_ts={parent['ts']}" in link

    ephemeral = await client.chat_postEphemeral(channel=HELPDESK, user=ALICE, text="psst")
    assert api.ephemerals[-1]["user"] == ALICE and api.ephemerals[-1]["message_ts"] == ephemeral["message_ts"]
    stranger = await api_error(client.chat_postEphemeral(channel=HELPDESK, user=DARIUSH, text="psst"))
    assert stranger.response["error"] == "user_not_in_channel"

    await client.chat_delete(channel=HELPDESK, ts=orphan["ts"])
    assert "orphan" not in [m["text"] for m in api.messages_in(HELPDESK)]

    modal = {"type": "modal", "title": {"type": "plain_text", "text": "New ticket"}, "blocks": [section("hi")]}
    opened = await client.views_open(trigger_id="123.456.abc", view=modal)
    assert opened["view"]["id"].startswith("V") and api.views[-1]["title"]["text"] == "New ticket"


async def test_wait_for_times_out_with_context(api: FakeSlackAPI) -> None:
    with pytest.raises(TimeoutError):
        await api.wait_for(lambda: api.messages_in(HELPDESK), timeout=0.05)


# ----------------------------------------------------------------------------------------
# A real Bolt app driven through signed HTTP requests


@pytest.fixture
async def bolt(api: FakeSlackAPI) -> AsyncIterator[tuple[AsyncApp, SlackEventSender]]:
    # The client carries the token; passing token= as well only makes Bolt log a warning.
    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=api.base_url), signing_secret=SECRET)
    async with serve_bolt_app(app) as url, SlackEventSender(SECRET, url, fake=api) as sender:
        yield app, sender


async def test_bolt_message_event_gets_a_threaded_reply(
    api: FakeSlackAPI, bolt: tuple[AsyncApp, SlackEventSender]
) -> None:
    app, sender = bolt
    seen: list[dict[str, Any]] = []

    @app.event("message")
    async def on_message(event: dict[str, Any], say: AsyncSay) -> None:
        seen.append(event)
        await say(text=f"Got it: {event['text']}", thread_ts=event.get("thread_ts") or event["ts"])

    sent = await sender.channel_message(ALICE, "my printer is on fire", channel=HELPDESK)
    assert sent.status == 200
    ts = sent.payload["event"]["ts"]
    replies = await api.wait_for(lambda: api.messages_in(HELPDESK, ts)[1:])
    assert replies[0]["text"] == "Got it: my printer is on fire"
    assert replies[0]["user"] == api.bot_user_id

    dm = await sender.dm_message(BORIS, "hello?", files=[api.add_file("a.txt", b"a", user=BORIS)])
    assert dm.status == 200
    await api.wait_for(lambda: len(seen) == 2)
    assert seen[1]["channel_type"] == "im" and seen[1]["subtype"] == "file_share"
    assert seen[1]["files"][0]["url_private_download"].startswith(api.root_url)
    assert len(api.calls_to("auth.test")) == 1  # Bolt calls it lazily on the first request, then caches it


async def test_bolt_rejects_bad_signatures(api: FakeSlackAPI, bolt: tuple[AsyncApp, SlackEventSender]) -> None:
    app, sender = bolt
    handled: list[tuple[str, list[str] | None]] = []

    @app.event("message")
    async def on_message(event: dict[str, Any], request: AsyncBoltRequest) -> None:
        # Bolt does not drop Slack's retries by itself; the headers reach listeners lower-cased, as lists.
        handled.append((event["text"], request.headers.get("x-slack-retry-num")))

    forged = await sender.channel_message(ALICE, "forged", channel=HELPDESK, forge_signature=True)
    stale = await sender.channel_message(ALICE, "stale", channel=HELPDESK, timestamp_shift=-360)
    unsigned = await sender.channel_message(ALICE, "unsigned", channel=HELPDESK, omit_signature=True)
    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    assert forged.json() == {"error": "invalid request"}

    retried = await sender.channel_message(ALICE, "retried", channel=HELPDESK, retry_num=1, retry_reason="http_timeout")
    assert retried.status == 200
    await api.wait_for(lambda: handled == [("retried", ["1"])])

    challenge = await sender.url_verification("c-123")
    assert (challenge.status, challenge.json()) == (200, {"challenge": "c-123"})


async def test_bolt_block_action(
    api: FakeSlackAPI, bolt: tuple[AsyncApp, SlackEventSender], client: AsyncWebClient
) -> None:
    app, sender = bolt
    posted = await client.chat_postMessage(channel=HELPDESK, text="Ticket #7", blocks=[section("Ticket #7")])

    @app.action("take_ticket")
    async def take(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await respond(text=f"Taken by <@{body['user']['id']}> ({action['value']})", replace_original=True)

    resp = await sender.block_action(ALICE, "take_ticket", "ticket-7", channel=HELPDESK, message_ts=posted["ts"])
    assert resp.status == 200
    assert resp.payload["message"]["text"] == "Ticket #7" and resp.payload["user"]["username"] == "alice"
    await api.wait_for_call(RESPONSE_URL)
    assert api.responses[0]["replace_original"] is True
    assert api.messages_in(HELPDESK)[0]["text"] == f"Taken by <@{ALICE}> (ticket-7)"


async def test_bolt_slash_command(api: FakeSlackAPI, bolt: tuple[AsyncApp, SlackEventSender]) -> None:
    app, sender = bolt

    @app.command("/helpdesk")
    async def helpdesk(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await ack(f"Opening a ticket: {command['text']}")
        await respond(text="Ticket T-1 created", response_type="in_channel")

    resp = await sender.slash_command(DARIUSH, "/helpdesk", "VPN is down", channel_id=HELPDESK)
    assert resp.status == 200
    assert resp.body == "Opening a ticket: VPN is down"
    await api.wait_for(lambda: [m for m in api.messages_in(HELPDESK) if m["text"] == "Ticket T-1 created"])
    assert resp.payload["user_name"] == "dariush" and resp.payload["channel_name"] == "helpdesk"
