"""Tokens never appear in logs (issue #9).

`helpdesk-bot run` runs as a real process at LOG_LEVEL=DEBUG with every secret configured
(Telegram bot token and webhook secret; Slack bot token, signing secret and app-level token,
the latter connecting Socket Mode to a fake WebSocket), against the fake Bot API and the fake
Slack Web API. A full run goes through it: a Telegram customer's whole intake with a file,
follow-ups, the agents' side in Slack (card, claim, thread replies with a file, /helpdesk over
HTTP and over Socket Mode, resolve), a Slack DM customer, a forged Slack signature and a wrong
Telegram webhook secret (401 each), and faults that make libraries talk about URLs and headers:
500s, 429s and a time-out from the Bot API, 429s and 500s from Slack (Web API and file
downloads), then SIGTERM. The whole stdout and stderr are then searched for every secret, raw
and in every encoding a library might log it in.

Bale runs beside Telegram in both: its customer starts through a 500 from the Bale Bot API and a
502 to its polling.

Runs twice: text logs with Telegram in webhook mode, JSON logs with Telegram polling. A short
third run leaves TELEGRAM_WEBHOOK_SECRET unset, so the secret derived from the token is used
(python-telegram-bot logs setWebhook's parameters at DEBUG: it leaked before bot/logs.py
redacted it).

The e-mail channel runs in a run of its own (`test_no_mail_password_in_the_logs`) against a
real Dovecot and an SMTP server: the secret of EMAIL_IMAP_URL and EMAIL_SMTP_URL is the password
inside each URL, with the characters that a URL must percent-encode and an IMAP command must
escape. A first start with a wrong mailbox password stops (exit 2); the second reads a mail and
answers it, then the SMTP server refuses the login for an answer, which goes out once it takes
the login again.

DATABASE_URL is not among the secrets: SQLAlchemy refuses a SQLite URL with a password
("Invalid SQLite URL"), and the run uses SQLite.

Start-up failures (tokens refused, APIs and PostgreSQL unreachable, bad database URLs, with a
password in DATABASE_URL) are scanned with the same `find_leaks` in tests/bot/test_startup.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import signal
import sqlite3
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, ClientTimeout, WSMsgType, web

from bot.settings import Settings
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import free_port
from tests.bench.driver import HELPDESK_FLOW
from tests.fakes.bale_api import FakeBaleAPI
from tests.fakes.dovecot import Dovecot, require_dovecot
from tests.fakes.slack_api import DOWNLOAD, FakeSlackAPI, SlackEventSender
from tests.fakes.smtp_sink import SmtpSink
from tests.fakes.telegram_api import FakeTelegramAPI

# The mail servers' passwords: for a URL setting, the secret is the password inside it. Each holds
# what a URL must percent-encode (space / ? % # @) and what an IMAP quoted string must escape
# (" and \); no ":", which Dovecot's passwd-file cannot hold.
MAIL_PASSWORDS: dict[str, str] = {
    "EMAIL_IMAP_URL": 'imap "pw"/SECRETimapPassword?%\\1',
    "EMAIL_SMTP_URL": 'smtp pw/SECRETsmtpPassword?#@"2',
}
# Distinctive values in the shapes the libraries accept (a Bot API token is digits:[A-Za-z0-9_-]+;
# a webhook secret token [A-Za-z0-9_-]{1,256}). Each holds a "core" no encoding changes.
SECRETS: dict[str, str] = {
    "TELEGRAM_BOT_TOKEN": "7012345678:AAF-SECRETtgBotToken_q9w8e7r6t5y4u3i2",
    "TELEGRAM_WEBHOOK_SECRET": "WH-SECRETtgWebhook_5f3a9c2e1b7d",
    "BALE_BOT_TOKEN": "1480254897:SECRETbaleBotToken-Qv7bLwS9mXr2TdkYpF3n",
    "SLACK_BOT_TOKEN": "xoxb-1234567890-9876543210987-SECRETslackBotToken0a9b8c",
    "SLACK_SIGNING_SECRET": "sig-SECRETslackSigning-8f14e45fceea167a5a36dedd4bea2543",
    "SLACK_APP_TOKEN": "xapp-1-A0FAKE0001-1122334455667-SECRETslackAppToken7d6e5f",
    **MAIL_PASSWORDS,
}
CORES: dict[str, str] = {
    "TELEGRAM_BOT_TOKEN": "SECRETtgBotToken",
    "TELEGRAM_WEBHOOK_SECRET": "SECRETtgWebhook",
    "BALE_BOT_TOKEN": "SECRETbaleBotToken",
    "SLACK_BOT_TOKEN": "SECRETslackBotToken",
    "SLACK_SIGNING_SECRET": "SECRETslackSigning",
    "SLACK_APP_TOKEN": "SECRETslackAppToken",
    "EMAIL_IMAP_URL": "SECRETimapPassword",
    "EMAIL_SMTP_URL": "SECRETsmtpPassword",
}

DESK = "CDESK0001"
AGENT, OUTSIDER, SLACK_CUSTOMER = "UAGENT001", "UOUTSIDE1", "UCUSTOM01"
CUSTOMER, SLOW_CUSTOMER, BALE_CUSTOMER = 700, 701, 702
PROXIES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "WS_PROXY", "WSS_PROXY")
SETTING_NAMES = {Settings.model_fields[f].alias for f in Settings.model_fields}


def encodings(value: str) -> dict[str, str]:
    """Every form a library might print a secret in, by name."""
    quoted = urllib.parse.quote(value, safe="")
    forms = {
        "raw": value,
        "url-encoded": quoted,  # matched ignoring case: %3A or %3a
        "url-encoded twice": urllib.parse.quote(quoted, safe=""),
        "form-encoded": urllib.parse.quote_plus(value),
        "json string": json.dumps(value)[1:-1],
        "json string, ascii": json.dumps(value, ensure_ascii=True)[1:-1],
        "repr": repr(value)[1:-1],
        "hex of its bytes": value.encode().hex(),
        "IMAP quoted string": value.replace("\\", "\\\\").replace('"', '\\"'),
    }
    # SMTP AUTH sends the password in base64 (LOGIN alone, PLAIN after the user name): whatever
    # comes before it, its middle is one of three strings.
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + value.encode()).decode()
        forms[f"base64, at offset {shift}"] = encoded[4 if shift else 0:-4]
    if ":" in value:  # a Bot API token: the part after the bot id is the secret, in any URL
        forms["bot + token in a URL path"] = "bot" + value
        forms["the part after the bot id"] = value.split(":", 1)[1]
    return forms


def find_leaks(text: str, secrets: dict[str, str], cores: dict[str, str]) -> list[str]:
    """Names (never values) of each secret and form found in `text`; percent and hex
    encodings are matched ignoring case."""
    lowered = text.lower()
    found = []
    for name, value in secrets.items():
        for form, encoded in encodings(value).items():
            if encoded in text or (encoded != value and encoded.lower() in lowered):
                found.append(f"{name} ({form})")
        if cores.get(name) and cores[name] in text:
            found.append(f"{name} (a part of it)")
    return found


def redact(text: str, secrets: dict[str, str]) -> str:
    """For failure messages only: the log without any secret in it."""
    for name, value in secrets.items():
        for encoded in encodings(value).values():
            text = re.sub(re.escape(encoded), f"<{name}>", text, flags=re.IGNORECASE)
        text = text.replace(CORES.get(name, "\0"), f"<{name}>")
    return text


def test_every_secret_setting_is_scanned() -> None:
    secret_settings = {f.alias for f in Settings.model_fields.values() if "SecretStr" in str(f.annotation)}
    assert secret_settings == set(SECRETS)


def test_the_scan_finds_every_form() -> None:
    for name, value in SECRETS.items():
        for form, encoded in encodings(value).items():
            for variant in {encoded, encoded.lower()} if encoded != value else {encoded}:
                line = f"2026-01-01 DEBUG lib: GET http://127.0.0.1/x?{variant}&y=1"
                assert f"{name} ({form})" in find_leaks(line, SECRETS, CORES), (name, form)
                assert not find_leaks(redact(line, SECRETS), SECRETS, CORES), (name, form)
    assert not find_leaks("2026-01-01 DEBUG lib: token=*** /bot***/getMe", SECRETS, CORES)


# ------------------------------------------------------------------------------------------
# Slack with Socket Mode: apps.connections.open (authenticated with the app-level token) and a
# WebSocket that says hello, forwards envelopes and records the app's acknowledgements.


class SocketModeSlack(FakeSlackAPI):
    def __init__(self, app_token: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.app_token = app_token
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: list[dict[str, Any]] = []
        self._ws_runner: web.AppRunner | None = None
        self._ws_port = 0

    async def start(self) -> None:
        await super().start()
        app = web.Application()
        app.router.add_get("/link/", self._socket)
        self._ws_runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._ws_runner.setup()
        await web.TCPSite(self._ws_runner, "127.0.0.1", 0).start()
        self._ws_port = self._ws_runner.addresses[0][1]

    async def stop(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._ws_runner is not None:
            await self._ws_runner.cleanup()
        await super().stop()

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] != "apps.connections.open":
            return await super()._handle_api(request)
        token = self._bearer(request)
        call = self._record("apps.connections.open", {}, request, token)
        failure = await self._apply_faults("apps.connections.open")
        headers: dict[str, str] = {}
        if failure is not None:
            status, body, headers = self._failure_response(failure)
        elif token != self.app_token:
            status, body = 200, {"ok": False, "error": "invalid_auth"}
        else:
            status, body = 200, {"ok": True, "url": f"ws://127.0.0.1:{self._ws_port}/link/?ticket="
                                                    f"{uuid.uuid4()}&app_id={self.app_id}"}
        self._finish(call, status, body)
        return web.json_response(body, status=status, headers=headers)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        self._notify()
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "applink-fake", "approximate_connection_time": 18060},
                            "connection_info": {"app_id": self.app_id}})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
                self._notify()
        self.sockets.remove(ws)
        return ws

    async def envelope(self, kind: str, payload: dict[str, Any]) -> str:
        envelope_id = str(uuid.uuid4())
        await self.sockets[-1].send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                          "accepts_response_payload": kind != "events_api",
                                          "retry_attempt": 0, "retry_reason": ""})
        return envelope_id


# ------------------------------------------------------------------------------------------
# The bot process


@dataclass
class BotProcess:
    proc: asyncio.subprocess.Process
    out: bytearray = field(default_factory=bytearray, repr=False)
    err: bytearray = field(default_factory=bytearray, repr=False)
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def start(cls, env: dict[str, str], cwd: Path) -> BotProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        bot = cls(proc)
        # Read both pipes as they fill: a full pipe would block the bot's logging, and the bot.
        assert proc.stdout is not None and proc.stderr is not None
        bot.readers = [asyncio.create_task(bot._pump(proc.stdout, bot.out)),
                       asyncio.create_task(bot._pump(proc.stderr, bot.err))]
        return bot

    @staticmethod
    async def _pump(stream: asyncio.StreamReader, into: bytearray) -> None:
        while chunk := await stream.read(1 << 16):
            into += chunk

    @property
    def text(self) -> str:
        return (self.out + self.err).decode("utf-8", "replace")

    async def wait_log(self, needle: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if self.proc.returncode is not None:
                raise AssertionError(f"the bot exited ({self.proc.returncode}) before logging {needle!r}:\n"
                                     + redact(self.text[-3000:], SECRETS))
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} in the log:\n" + redact(self.text[-3000:], SECRETS))
            await asyncio.sleep(0.05)

    async def terminate(self) -> float:
        started = time.monotonic()
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 20)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        await asyncio.gather(*self.readers)
        return time.monotonic() - started


# ------------------------------------------------------------------------------------------
# The world: both fakes, the bot, and the people using it


@dataclass
class World:
    tg: FakeTelegramAPI
    slack: SocketModeSlack
    events: SlackEventSender
    http: ClientSession
    bot_url: str
    webhook: bool
    db: Path
    bale: FakeBaleAPI | None = None
    steps: list[str] = field(default_factory=list)
    background: list[asyncio.Task[Any]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def step(self, name: str) -> None:
        self.steps.append(name)
        print(f"  {time.monotonic() - self.started:5.1f} s  {name}")  # shown with -s

    # -- Telegram customers -------------------------------------------------------------

    def tg_sends(self, chat: int) -> list[Any]:
        return [r for r in self.tg.requests_for("sendMessage", chat) if r.status == 200]

    async def post_update(self, update: dict[str, Any], secret: str | None = None) -> int:
        headers = self.tg.webhook_headers() if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        async with self.http.post(f"{self.bot_url}/telegram/webhook", json=update, headers=headers) as resp:
            return resp.status

    async def customer(self, user: int, kind: str, value: Any, expect: int, *, lang: str = "cs",
                       wait: bool = True) -> None:
        """A Telegram customer types, taps or sends a file; waits for `expect` new messages."""
        before = len(self.tg_sends(user))
        if kind == "text":
            update = self.tg.user_message(user, value, language_code=lang)
        elif kind == "press":
            message = next((m for m in reversed(self.tg.sent(user)) if any(
                b.get("callback_data") == value
                for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row)), None)
            assert message is not None, f"no button {value} in chat {user}"
            update = self.tg.press_button(user, message["message_id"], value, language_code=lang)
        else:
            name, content, mime = value
            update = self.tg.user_document(user, file_name=name, mime_type=mime, content=content,
                                           language_code=lang)
        if self.webhook:  # Telegram POSTs the update to the bot (with the secret it registered)
            posted = asyncio.create_task(self.post_update(update))
            if not wait:
                self.background.append(posted)
                return
            assert await posted == 200
        if wait:
            await self.tg.wait_for(lambda: len(self.tg_sends(user)) >= before + expect, timeout=20)

    async def tg_said(self, user: int, needle: str, timeout: float = 20) -> None:
        await self.tg.wait_for(lambda: any(needle in (r.params.get("text") or "") for r in self.tg_sends(user)),
                               timeout=timeout)

    # -- Slack --------------------------------------------------------------------------

    def card(self, number: int) -> dict[str, Any] | None:
        for m in self.slack.messages_in(DESK):
            if m.get("thread_ts") in (None, m.get("ts")) and (m.get("text") or "").startswith(f"#{number} "):
                return m
        return None

    async def click(self, user: str, action_id: str, number: int, **kw: Any) -> None:
        card = self.card(number)
        assert card is not None
        response = await self.events.block_action(user, action_id, str(number), block_id=f"desk:{number}",
                                                  channel=DESK, message_ts=card["ts"], message=card, **kw)
        assert response.status == 200

    async def thread_reply(self, user: str, text: str, number: int, **kw: Any) -> None:
        card = self.card(number)
        assert card is not None
        response = await self.events.channel_message(user, text, channel=DESK, thread_ts=card["ts"], **kw)
        assert response.status == 200


def bot_env(tmp_path: Path, tg: FakeTelegramAPI, slack: FakeSlackAPI, port: int, log_format: str,
            webhook: bool, secrets: dict[str, str], bale: FakeBaleAPI | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in SETTING_NAMES and k.upper() not in PROXIES
           and not k.startswith(("TELEGRAM_", "BALE_", "SLACK_"))}
    env.update({k: v for k, v in secrets.items() if k not in MAIL_PASSWORDS})
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'secrets.db'}",
        HELPDESK_CONFIG=str(fast_config(tmp_path)), ATTACHMENTS_DIR=str(tmp_path / "files"),
        HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), LOG_LEVEL="DEBUG", LOG_FORMAT=log_format,
        TELEGRAM_API_URL=tg.server_url, SLACK_API_URL=slack.base_url,
        SLACK_AGENT_CHANNEL=DESK, SLACK_AGENT_USERS=AGENT, NO_PROXY="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    if webhook:
        env["TELEGRAM_WEBHOOK_URL"] = "https://helpdesk.example.org/telegram/webhook"
    if bale is None:
        env.pop("BALE_BOT_TOKEN", None)
    else:
        env["BALE_API_URL"] = bale.server_url
    return env


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing here may leave 127.0.0.1, whatever proxy the environment names.
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


# ------------------------------------------------------------------------------------------
# The run


async def full_run(w: World, bot: BotProcess) -> None:
    tg, slack = w.tg, w.slack
    await bot.wait_log("slack adapter started")
    await slack.wait_for(lambda: slack.sockets, timeout=10)
    w.step("started: Telegram " + ("webhook" if w.webhook else "polling") + ", Slack HTTP + Socket Mode")
    assert tg.webhook is None or tg.webhook.secret_token == SECRETS["TELEGRAM_WEBHOOK_SECRET"]

    # A customer whose answer times out: the Bot API takes the message but answers after the
    # bot's 10-second read time-out. Runs alongside everything below.
    await w.customer(SLOW_CUSTOMER, "text", "/start", 2, lang="en")
    tg.delay_next("sendMessage", 11.0, chat_id=SLOW_CUSTOMER)
    await w.customer(SLOW_CUSTOMER, "press", "lang:en", 0, lang="en", wait=False)
    await tg.wait_for(lambda: len(tg.requests_for("sendMessage", SLOW_CUSTOMER)) >= 3, timeout=10)
    w.step("Telegram send timing out (in the background)")

    # The Telegram customer's whole intake (the benchmark's flow), a file with a failed getFile.
    flow = list(HELPDESK_FLOW)
    files_at = next(i for i, (_, value, _) in enumerate(flow) if value == "att:done")
    for i, (kind, value, expect) in enumerate(flow):
        if i == files_at:
            tg.fail_next("getFile", 500)
            # A failed file is answered "send it again" with the prompt repeated; a received one
            # in one message, with the step's buttons.
            await w.customer(CUSTOMER, "document", ("screen.png", PNG, "image/png"), 2)
            await w.customer(CUSTOMER, "document", ("screen.png", PNG, "image/png"), 1)
            w.step("Telegram file: getFile 500, then sent again")
        if value == "dep:technical":  # the press's answer fails (500), and so does the edit
            tg.fail_next("answerCallbackQuery", 500)  # retiring the prompt's buttons (502)
            tg.fail_next("editMessageText", 502, chat_id=CUSTOMER)
        if value == "pri:normal":
            tg.fail_next("sendMessage", 429, retry_after=1, chat_id=CUSTOMER)  # a flood wait mid-form
        await w.customer(CUSTOMER, kind, value, expect)
    assert tg.downloads, "the customer's file was downloaded"
    w.step(f"Telegram intake: {len(flow)} updates + 2 files")

    if w.bale is not None:  # a Bale customer: the greeting meets a 500, polling a 502
        bale = w.bale

        def bale_sends() -> list[Any]:
            return [r for r in bale.requests_for("sendMessage", BALE_CUSTOMER) if r.status == 200]

        bale.fail_next("sendMessage", 500, chat_id=BALE_CUSTOMER)
        bale.fail_next("getUpdates", 502)
        bale.user_message(BALE_CUSTOMER, "/start")
        await bale.wait_for(lambda: len(bale_sends()) >= 2, timeout=20)
        prompt = next(m for m in bale.sent(BALE_CUSTOMER) if "lang:fa" in str(m.get("reply_markup")))
        bale.press_button(BALE_CUSTOMER, prompt["message_id"], "lang:fa")
        await bale.wait_for(lambda: len(bale_sends()) >= 3, timeout=20)
        w.step("Bale customer: /start through a 500 and a 502, Persian chosen")

    if not w.webhook:  # polling goes on through a 500, a 502 and a 429 answer to getUpdates
        tg.fail_next("getUpdates", 500)
        tg.fail_next("getUpdates", 502)
        tg.fail_next("getUpdates", 429, retry_after=1)

    # The agents' desk: the card arrives through a 429 from Slack.
    await slack.wait_for(lambda: w.card(1001), timeout=20)
    assert "screen.png" in str(w.card(1001))
    w.step("ticket card in the desk channel")

    # Claim; the customer hears it through a 500 and a 429 from the Bot API.
    tg.fail_next("sendMessage", 500, chat_id=CUSTOMER)
    tg.fail_next("sendMessage", 429, retry_after=1, chat_id=CUSTOMER)
    slack.fail_next("chat.update", retry_after=1)  # the card's refresh: a 429 ...
    slack.fail_next("chat.postMessage", status=500)  # ... and a 500 for the note in its thread
    await w.click(AGENT, "desk:claim", 1001)
    await w.tg_said(CUSTOMER, "převzal")
    w.step("claim button (signed), customer told after a 500 and a 429")

    # An outsider's click is refused; the agent answers in the thread, once with a file whose
    # download fails (500), then again.
    before = len(slack.responses)
    await w.click(OUTSIDER, "desk:claim", 1001)
    await slack.wait_for(lambda: len(slack.responses) > before, timeout=10)  # "only agents can ..."
    await w.thread_reply(AGENT, "Jaký prohlížeč používáte?", 1001)
    await w.tg_said(CUSTOMER, "Jaký prohlížeč používáte?")
    before = len(slack.ephemerals)
    slack.fail_next(DOWNLOAD, status=500)
    shared = slack.add_file("fix.txt", b"apply this patch\n", user=AGENT, mimetype="text/plain")
    await w.thread_reply(AGENT, "Tady je oprava", 1001, files=[shared])
    await slack.wait_for(lambda: len(slack.ephemerals) > before, timeout=10)
    shared = slack.add_file("fix.txt", b"apply this patch\n", user=AGENT, mimetype="text/plain")
    await w.thread_reply(AGENT, "Tady je oprava", 1001, files=[shared])
    await tg.wait_for(lambda: [r for r in tg.requests_for("sendDocument", CUSTOMER) if r.status == 200],
                      timeout=15)
    w.step("agent thread replies (signed events), a file after a failed download")

    # The customer answers; the message lands in the card's thread.
    await w.customer(CUSTOMER, "text", "Firefox 133", 0)
    await slack.wait_for(lambda: any("Firefox 133" in (m.get("text") or "")
                                     for m in slack.messages_in(DESK, thread_ts=w.card(1001)["ts"])),
                         timeout=15)
    w.step("customer reply in the thread")

    # /helpdesk over HTTP (signed) and over Socket Mode.
    response = await w.events.slash_command(AGENT, text="mine", channel_id=DESK)
    assert response.status == 200
    await slack.wait_for(lambda: any("#1001" in str(r) for r in slack.responses), timeout=10)
    before = len(slack.responses)
    fields = w.events.slash_command_fields(AGENT, text="show 1001", channel_id=DESK)
    envelope = await slack.envelope("slash_commands", fields)
    await slack.wait_for(lambda: any(a.get("envelope_id") == envelope for a in slack.acks), timeout=10)
    await slack.wait_for(lambda: len(slack.responses) > before, timeout=10)
    w.step("/helpdesk over HTTP and over Socket Mode")

    # Resolve; the customer confirms.
    await w.click(AGENT, "desk:status", 1001, selected_option="resolved")
    await tg.wait_for(lambda: any(b.get("callback_data") == "confirm:1001"
                                  for m in tg.sent(CUSTOMER)
                                  for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row),
                      timeout=15)
    await w.customer(CUSTOMER, "press", "confirm:1001", 1)
    w.step("resolved (signed select), confirmed by the customer")

    # A Slack user as a customer, in the bot's DM.
    dm = slack.open_dm(SLACK_CUSTOMER)
    response = await w.events.dm_message(SLACK_CUSTOMER, "Olá, preciso de ajuda")
    assert response.status == 200
    await slack.wait_for(lambda: any("lang:pt" in str(m.get("blocks")) for m in slack.messages_in(dm)), timeout=10)
    message = next(m for m in slack.messages_in(dm) if "lang:pt" in str(m.get("blocks")))
    action = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["value"] == "lang:pt")
    before = len(slack.messages_in(dm))
    response = await w.events.block_action(SLACK_CUSTOMER, action["action_id"], "lang:pt", channel=dm,
                                           message_ts=message["ts"], message=message)
    assert response.status == 200
    await slack.wait_for(lambda: len(slack.messages_in(dm)) > before, timeout=10)
    w.step("Slack DM customer")

    # Forgeries: a Slack request signed with the wrong secret, and Telegram updates with a wrong
    # or no webhook secret, are refused and change nothing.
    forged = await w.events.block_action(AGENT, "desk:status", "1001", block_id="desk:1001", channel=DESK,
                                         message_ts=w.card(1001)["ts"], selected_option="new",
                                         forge_signature=True)
    forged_event = await w.events.channel_message(AGENT, "forged", channel=DESK, thread_ts=w.card(1001)["ts"],
                                                  forge_signature=True)
    assert (forged.status, forged_event.status) == (401, 401)
    fake_update = {"update_id": 1, "message": {"message_id": 1, "date": int(time.time()), "text": "/start",
                                               "chat": {"id": 5, "type": "private"},
                                               "from": {"id": 5, "is_bot": False, "first_name": "Mallory"}}}
    statuses = (await w.post_update(fake_update, secret="WH-wrong-secret"), await w.post_update(fake_update, ""))
    assert statuses == (401, 401)
    assert not tg.sent(5)
    w.step("forged Slack signature 401, wrong/missing Telegram webhook secret 401")

    # The slow customer's send has timed out by now, and every notification went out (a SIGTERM
    # in the middle of a send would leave its row leased for the next process).
    await asyncio.gather(*w.background)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (timed_out(bot.text) and outbox_settled(w.db)):
        await asyncio.sleep(0.1)
    w.step("timed-out send logged, outbox drained")


def outbox_settled(path: Path) -> bool:
    with contextlib.closing(sqlite3.connect(path, timeout=5)) as db:
        return db.execute("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')").fetchone() == (0,)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x01" * 300


def timed_out(log: str) -> bool:
    return "TimedOut" in log or "Timed out" in log


@pytest.mark.parametrize(("log_format", "webhook"), [("text", True), ("json", False)],
                         ids=["text-webhook", "json-polling"])
async def test_no_secret_in_the_logs_of_a_full_run(tmp_path: Path, log_format: str, webhook: bool) -> None:
    started = time.monotonic()
    async with FakeTelegramAPI(token=SECRETS["TELEGRAM_BOT_TOKEN"]) as tg, \
            FakeBaleAPI(token=SECRETS["BALE_BOT_TOKEN"]) as bale, \
            SocketModeSlack(SECRETS["SLACK_APP_TOKEN"], bot_token=SECRETS["SLACK_BOT_TOKEN"]) as slack, \
            ClientSession(timeout=ClientTimeout(total=30)) as http:
        slack.add_user(AGENT, "eva", real_name="Eva Agent", locale="cs-CZ")
        slack.add_user(OUTSIDER, "olaf", real_name="Olaf Outsider")
        slack.add_user(SLACK_CUSTOMER, "carla", real_name="Carla Customer", locale="pt-BR")
        slack.add_channel(DESK, "helpdesk", members=[AGENT, OUTSIDER])
        # Socket Mode starts through a 429: the adapter's check of the app-level token meets the
        # first and lets Socket Mode's own connect wait out the second.
        slack.fail_next("apps.connections.open", retry_after=1, count=2)
        slack.fail_next("chat.postMessage", retry_after=1)  # the first card: a 429
        port = free_port()
        env = bot_env(tmp_path, tg, slack, port, log_format, webhook, SECRETS, bale)
        bot = await BotProcess.start(env, tmp_path)
        events = SlackEventSender(SECRETS["SLACK_SIGNING_SECRET"], f"http://127.0.0.1:{port}/slack/events",
                                  fake=slack)
        world = World(tg, slack, events, http, f"http://127.0.0.1:{port}", webhook, tmp_path / "secrets.db", bale)
        try:
            await full_run(world, bot)
        finally:
            stop_seconds = await bot.terminate()
            (tmp_path / "bot.log").write_bytes(bot.out + bot.err)  # for a human, after a failure
            await events.close()
            for task in world.background:
                task.cancel()
        world.step("SIGTERM")
        tg_faults = [r for r in tg.requests if (r.status or 0) >= 429]
        slack_faults = [c for c in slack.calls if (c.status or 0) >= 429]

    log = bot.text
    lines = log.splitlines()

    # Not vacuous: the run happened, at DEBUG, and each step left its mark in the log.
    assert bot.proc.returncode == 0, redact(log[-3000:], SECRETS)
    assert stop_seconds < 10
    if log_format == "json":
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        assert len(entries) == len(lines), "every line is one JSON object"
        levels = [e["level"] for e in entries]
        messages = "\n".join(" ".join([e["message"], e.get("exception", "")] + [
            f"{k}={v}" for k, v in e.items() if k not in ("time", "level", "logger", "message", "exception")])
            for e in entries)
    else:
        levels = [m.group(1) for m in (re.match(r"\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ", ln)
                                       for ln in lines) if m]
        messages = log
    # Each step left its mark in the log (bodies are logged by the libraries at DEBUG).
    evidence = {
        "DEBUG lines": levels.count("DEBUG") >= 200,
        "Telegram mode": ("telegram: webhook mode" if webhook else "telegram: polling") in messages,
        "Bale polling, through a 500 and a 502": "bale: polling" in messages
        and "bale: a reply failed" in messages and "lang:fa" in messages,
        "Slack authenticated": "slack: connected as UBOT00001" in messages,
        "Socket Mode, after a 429": "slack: socket mode" in messages
        and "Rate limited. Retrying in 1 seconds" in messages and "has been established" in messages,
        "the token was in a line, and redacted": "Set Bot API URL: http://127.0.0.1" in messages
        and "/bot***" in messages,
        "polling through 500/502/429": webhook or messages.count("polling failed (NetworkError)") >= 2,
        "Bot API time-out, with its traceback": "telegram.error.TimedOut" in messages,
        "flood wait in the form": "RetryAfter" in messages,
        "failed button retirement": "could not retire buttons: NetworkError" in messages,
        "intake": "ticket opened" in messages and "getFile" in messages,
        "Slack 429 and 500 answers": "status: 429" in messages and "status: 500" in messages,
        "claim told to the customer": "převzal" in messages,
        "outsider refused": "Only help-desk agents can do this." in messages,
        "agent reply": "Jaký prohlížeč používáte?" in messages and "sendDocument" in messages,
        "customer reply": "Firefox 133" in messages,
        "/helpdesk": "slash_commands" in messages and "/helpdesk" in messages,
        "resolved, confirmed": ("new=resolved" in messages or "'new': 'resolved'" in messages)
        and "confirm:1001" in messages,
        "Slack DM customer": "UCUSTOM01" in messages and "lang:pt" in messages,
        "forged signatures": messages.count("Invalid request signature detected") == 2,
        "SIGTERM": "stopping: finishing what is in hand" in messages,
    }
    assert all(evidence.values()), [k for k, v in evidence.items() if not v]
    assert len(tg_faults) >= (5 if webhook else 8) and len(slack_faults) >= 5, (len(tg_faults), len(slack_faults))
    with contextlib.closing(sqlite3.connect(tmp_path / "secrets.db")) as db:
        assert db.execute("SELECT status FROM tickets WHERE number = 1001").fetchone() == ("closed",)
        assert db.execute("SELECT count(*) FROM attachments").fetchone()[0] >= 2
        outbox = dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
    assert set(outbox) == {"sent"}, outbox  # everything delivered through the faults, nothing dead

    # The point: no secret, in any encoding, anywhere in stdout or stderr.
    leaked = find_leaks(log, SECRETS, CORES)
    assert not leaked, leaked

    print(f"\n[{log_format}, {'webhook' if webhook else 'polling'}] {len(lines)} log lines "
          f"({levels.count('DEBUG')} DEBUG), {len(world.steps)} steps, {len(tg_faults)} Bot API faults + "
          f"1 time-out, {len(slack_faults)} Slack faults, {time.monotonic() - started:.1f} s; "
          f"{sum(outbox.values())} notifications; scanned {len(SECRETS)} secrets in "
          f"{sum(len(encodings(v)) + 1 for v in SECRETS.values())} forms")


async def test_no_derived_webhook_secret_in_the_logs(tmp_path: Path) -> None:
    """Without TELEGRAM_WEBHOOK_SECRET the webhook secret is derived from the token: it guards
    /telegram/webhook as well as a configured one, and must stay out of the logs too."""
    from adapters.telegram.adapter import derive_webhook_secret

    secrets = {k: v for k, v in SECRETS.items() if k != "TELEGRAM_WEBHOOK_SECRET"}
    derived = derive_webhook_secret(SECRETS["TELEGRAM_BOT_TOKEN"])
    async with FakeTelegramAPI(token=SECRETS["TELEGRAM_BOT_TOKEN"]) as tg, \
            SocketModeSlack(SECRETS["SLACK_APP_TOKEN"], bot_token=SECRETS["SLACK_BOT_TOKEN"]) as slack, \
            ClientSession(timeout=ClientTimeout(total=30)) as http:
        port = free_port()
        bot = await BotProcess.start(bot_env(tmp_path, tg, slack, port, "text", True, secrets), tmp_path)
        world = World(tg, slack, SlackEventSender(secrets["SLACK_SIGNING_SECRET"], "", fake=slack), http,
                      f"http://127.0.0.1:{port}", True, tmp_path / "secrets.db")
        try:
            await bot.wait_log("slack adapter started")
            registered = tg.webhook is not None and tg.webhook.secret_token == derived
            await world.customer(CUSTOMER, "text", "/start", 2)  # POSTed with the derived secret
            refused = await world.post_update(tg.user_message(CUSTOMER, "/help"), secret="WH-wrong-secret")
        finally:
            stop_seconds = await bot.terminate()
            (tmp_path / "bot.log").write_bytes(bot.out + bot.err)
    log = bot.text
    assert registered and refused == 401
    assert bot.proc.returncode == 0 and stop_seconds < 10, redact(log[-3000:], {**SECRETS, "derived": derived})
    assert "Calling Bot API endpoint `setWebhook`" in log and "/bot***" in log  # logged, and redacted
    leaked = find_leaks(log, {**secrets, "derived webhook secret": derived}, CORES)
    assert not leaked, leaked


# ------------------------------------------------------------------------------------------
# The e-mail channel: the mail servers' passwords


MAILER = "helpdesk@example.test"  # the SMTP user
JANA = "jana.novakova@example.cz"


def _mail_in(subject: str, body: str, number: int) -> bytes:
    return (f"From: Jana Novakova <{JANA}>\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
            f"Message-ID: <jana.{number}@example.cz>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0100\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


def mail_env(tmp_path: Path, dovecot: Dovecot, sink: SmtpSink, imap_password: str) -> dict[str, str]:
    quote = urllib.parse.quote
    assert dovecot.cert is not None
    env = {k: v for k, v in os.environ.items()
           if k not in SETTING_NAMES and k.upper() not in PROXIES
           and not k.startswith(("TELEGRAM_", "BALE_", "SLACK_"))}
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'secrets.db'}",
        HELPDESK_CONFIG=str(fast_config(tmp_path)), ATTACHMENTS_DIR=str(tmp_path / "files"),
        HTTP_HOST="127.0.0.1", HTTP_PORT=str(free_port()), LOG_LEVEL="DEBUG", LOG_FORMAT="text",
        EMAIL_ADDRESS="support@example.com", EMAIL_POLL_SECONDS="1",
        # STARTTLS with the test server's own certificate: the password goes over TLS, as it must.
        EMAIL_IMAP_URL=f"imap://{quote(dovecot.user, safe='')}:{quote(imap_password, safe='')}"
                       f"@127.0.0.1:{dovecot.port}/INBOX",
        EMAIL_SMTP_URL=sink.url(),
        SSL_CERT_FILE=str(dovecot.cert), NO_PROXY="127.0.0.1,localhost", PYTHONUNBUFFERED="1",
    )
    return env


async def test_no_mail_password_in_the_logs(tmp_path: Path) -> None:
    require_dovecot()
    imap_password, smtp_password = MAIL_PASSWORDS["EMAIL_IMAP_URL"], MAIL_PASSWORDS["EMAIL_SMTP_URL"]
    with Dovecot(tmp_path / "dovecot", password=imap_password) as dovecot:
        async with SmtpSink(user=MAILER, password=smtp_password) as sink:
            # A wrong mailbox password: the start stops, saying so.
            refused = await BotProcess.start(mail_env(tmp_path, dovecot, sink, "wrong" + imap_password), tmp_path)
            await asyncio.wait_for(refused.proc.wait(), 60)
            await asyncio.gather(*refused.readers)

            bot = await BotProcess.start(mail_env(tmp_path, dovecot, sink, imap_password), tmp_path)
            try:
                await bot.wait_log("email: reading")
                await asyncio.to_thread(dovecot.append, _mail_in("Nelze se přihlásit", "Hlásí to chybu 500.", 1))
                await sink.wait_for(1, timeout=20)  # the acknowledgement: a login, a mail
                # The server stops taking the password: the pooled connection is dropped, the
                # new one's login refused, and the answer waits in the outbox ...
                sink.password = smtp_password + "-changed"
                sink.hang_up_next()
                await asyncio.to_thread(dovecot.append, _mail_in("Faktura", "Faktura má špatnou částku.", 2))
                await bot.wait_log("refused its user name and password")
                # ... until the server takes it again.
                sink.password = smtp_password
                await sink.wait_for(2, timeout=30)
            finally:
                await bot.terminate()
                (tmp_path / "bot.log").write_bytes(refused.out + refused.err + bot.out + bot.err)

    first, log = refused.text, bot.text
    assert refused.proc.returncode == 2, redact(first[-3000:], SECRETS)
    assert "refused the login" in first and "EMAIL_IMAP_URL" in first, redact(first[-3000:], SECRETS)
    assert bot.proc.returncode == 0, redact(log[-3000:], SECRETS)
    # Not vacuous: the libraries spoke at DEBUG about the login, the mail and the refusal.
    evidence = {
        "IMAP commands logged": "Sending : b'" in log and " LOGIN " in log and "STARTTLS" in log,
        "mail read": "UID FETCH" in log.upper() and "Nelze se p" in log,
        "SMTP login refused": "535" in log,
        "accepted after the refusal": sum(ok for _, ok in sink.logins) >= 3,
    }
    assert all(evidence.values()), [k for k, v in evidence.items() if not v]
    assert [(r.sender, r.login) for r in sink.received] == [("support@example.com", MAILER)] * 2
    leaked = find_leaks(first + log, SECRETS, CORES)
    assert not leaked, leaked
