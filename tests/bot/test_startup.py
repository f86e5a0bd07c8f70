"""Start-up failures of the real process: one or two lines naming the setting and the fix.

`helpdesk-bot run` is started as a subprocess with each thing that can stop it: a token the
fake Bot API or the fake Slack Web API refuses, an API that does not answer (a closed port), a
DATABASE_URL with a driver that is not installed, a PostgreSQL that refuses connections, a
missing signing secret, e-mail settings given in part or wrong, a mailbox or SMTP server that
does not answer or refuses the password (a real Dovecot and an SMTP sink). Each must exit
non-zero without a traceback (2 for a wrong setting, 3 for a service that does not answer),
print at most two lines besides the ordinary INFO log (which says what it was doing), name the
setting, and never show a secret: the whole output is searched for every secret configured, in
every encoding the secrets test knows (tests/reliability/test_secrets.py). And a console chat
left within a second of its start ends quietly, with 0.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from tests.adapters.telegram.conftest import free_port
from tests.conftest import _pg_server_url
from tests.fakes.bale_api import FakeBaleAPI
from tests.fakes.dovecot import Dovecot
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.smtp_sink import SmtpSink
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.reliability.test_secrets import CORES, PROXIES, SECRETS, SETTING_NAMES, SocketModeSlack, find_leaks

DB_PASSWORD = "pw-SECRETdbPassword-4f1e"
ALL_SECRETS = {**SECRETS, "DATABASE_URL password": DB_PASSWORD}
ALL_CORES = {**CORES, "DATABASE_URL password": "SECRETdbPassword"}
# A log record in the text format; at INFO or DEBUG it is the process saying what it does.
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (\w+) ")


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def failure(self) -> list[str]:
        """What stderr holds besides progress (INFO and DEBUG records, each with the lines it
        runs on to): the failure as an operator reads it."""
        lines: list[str] = []
        progress = False
        for line in self.stderr.splitlines():
            record = RECORD.match(line)
            if record is not None:
                progress = record.group(1) in ("INFO", "DEBUG")
            elif line.startswith("helpdesk-bot: "):
                progress = False
            if not progress and line.strip():
                lines.append(line)
        return lines


async def helpdesk_bot(tmp_path: Path, *args: str, **settings: str) -> Run:
    env = {k: v for k, v in os.environ.items()
           if k not in SETTING_NAMES and k.upper() not in PROXIES
           and not k.startswith(("TELEGRAM_", "BALE_", "SLACK_"))}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'startup.db'}", HTTP_HOST="127.0.0.1",
               HTTP_PORT=str(free_port()), ATTACHMENTS_DIR=str(tmp_path / "files"),
               NO_PROXY="127.0.0.1,localhost", PYTHONUNBUFFERED="1")
    env.update(settings)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *(args or ("run",)), env=env, cwd=tmp_path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 90)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError("the process did not stop by itself:\n" + err.decode()[-2000:]) from None
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def assert_explained(run: Run, exit_code: int, *named: str, secrets: dict[str, str] | None = None) -> None:
    """Exit code, no traceback, at most two lines naming every one of `named`, no secret (nor
    any of `secrets`)."""
    output = run.stdout + run.stderr
    leaks = find_leaks(output, {**ALL_SECRETS, **(secrets or {})}, ALL_CORES)
    assert not leaks, leaks  # names only: the output itself would show the secret
    assert "Traceback" not in output and "Unclosed" not in output, output[-3000:]
    assert run.returncode == exit_code, output[-3000:]
    assert 1 <= len(run.failure) <= 2, run.failure
    assert run.failure[0].startswith("helpdesk-bot: "), run.failure
    message = "\n".join(run.failure)
    for name in named:
        assert name in message, (name, message)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXIES:  # the fakes answer on 127.0.0.1; nothing may go through a proxy
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


# -- Telegram -------------------------------------------------------------------------------


async def test_wrong_telegram_token(tmp_path: Path) -> None:
    async with FakeTelegramAPI(token="123456:the-right-one") as tg:
        run = await helpdesk_bot(tmp_path, TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"],
                                 TELEGRAM_API_URL=tg.server_url)
        assert tg.requests_for("getMe"), "the token was tried"
    assert_explained(run, 2, "TELEGRAM_BOT_TOKEN was rejected", "@BotFather")


async def test_wrong_bale_token(tmp_path: Path) -> None:
    """Bale answers a token it does not know with 401, as Telegram does; the start stops naming
    BALE_BOT_TOKEN and where a Bale token comes from, and shows no token even at DEBUG."""
    async with FakeBaleAPI() as bale:
        run = await helpdesk_bot(tmp_path, BALE_BOT_TOKEN=SECRETS["BALE_BOT_TOKEN"],
                                 BALE_API_URL=bale.server_url, LOG_LEVEL="DEBUG")
        refused = [r for r in bale.requests if r.method == "getMe"]
    assert refused and refused[0].status == 401, "the token was tried, and refused as Bale does"
    assert "getMe" in run.stderr  # the DEBUG log was there to leak from
    assert_explained(run, 2, "BALE_BOT_TOKEN was rejected by the Bale Bot API", "@botfather in Bale")


async def test_wrong_bale_token_beside_telegram(tmp_path: Path) -> None:
    async with FakeTelegramAPI(token=SECRETS["TELEGRAM_BOT_TOKEN"]) as tg, FakeBaleAPI() as bale:
        run = await helpdesk_bot(tmp_path, TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"],
                                 TELEGRAM_API_URL=tg.server_url, BALE_BOT_TOKEN=SECRETS["BALE_BOT_TOKEN"],
                                 BALE_API_URL=bale.server_url)
    assert_explained(run, 2, "BALE_BOT_TOKEN")
    assert "TELEGRAM_BOT_TOKEN" not in "\n".join(run.failure)


async def test_wrong_telegram_token_in_webhook_mode_at_debug(tmp_path: Path) -> None:
    """Libraries say the most at DEBUG: the token and the webhook secret stay out all the same."""
    async with FakeTelegramAPI(token="123456:the-right-one") as tg:
        run = await helpdesk_bot(tmp_path, TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"],
                                 TELEGRAM_WEBHOOK_SECRET=SECRETS["TELEGRAM_WEBHOOK_SECRET"],
                                 TELEGRAM_WEBHOOK_URL="https://helpdesk.example.org/telegram/webhook",
                                 TELEGRAM_API_URL=tg.server_url, LOG_LEVEL="DEBUG")
    assert "getMe" in run.stderr  # the DEBUG log was there to leak from
    assert_explained(run, 2, "TELEGRAM_BOT_TOKEN")


async def test_telegram_refusing_the_webhook_url(tmp_path: Path) -> None:
    async with FakeTelegramAPI(token=SECRETS["TELEGRAM_BOT_TOKEN"]) as tg:
        run = await helpdesk_bot(tmp_path, TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"],
                                 TELEGRAM_WEBHOOK_URL="http://helpdesk.example.org/telegram/webhook",
                                 TELEGRAM_API_URL=tg.server_url)
    assert_explained(run, 2, "TELEGRAM_WEBHOOK_URL", "https url must be provided", "https://")


async def test_telegram_unreachable(tmp_path: Path) -> None:
    closed = free_port()
    run = await helpdesk_bot(tmp_path, TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"],
                             TELEGRAM_API_URL=f"http://127.0.0.1:{closed}")
    assert_explained(run, 3, "TELEGRAM_API_URL", f"127.0.0.1:{closed}", "connection refused")


async def test_bale_unreachable(tmp_path: Path) -> None:
    closed = free_port()
    run = await helpdesk_bot(tmp_path, BALE_BOT_TOKEN=SECRETS["BALE_BOT_TOKEN"],
                             BALE_API_URL=f"http://127.0.0.1:{closed}")
    assert_explained(run, 3, "the Bale Bot API", "BALE_API_URL", f"127.0.0.1:{closed}", "connection refused")


# -- Slack ----------------------------------------------------------------------------------


async def test_wrong_slack_token(tmp_path: Path) -> None:
    async with FakeSlackAPI(bot_token="xoxb-the-right-one") as slack:
        run = await helpdesk_bot(tmp_path, SLACK_BOT_TOKEN=SECRETS["SLACK_BOT_TOKEN"],
                                 SLACK_SIGNING_SECRET=SECRETS["SLACK_SIGNING_SECRET"], SLACK_API_URL=slack.base_url)
        assert slack.calls_to("auth.test"), "the token was tried"
    assert_explained(run, 2, "SLACK_BOT_TOKEN was refused", "invalid_auth", "xoxb-")


async def test_wrong_slack_app_token(tmp_path: Path) -> None:
    """Socket Mode's client would retry a refused app-level token for ever, a traceback a try."""
    async with SocketModeSlack("xapp-1-the-right-one", bot_token=SECRETS["SLACK_BOT_TOKEN"]) as slack:
        run = await helpdesk_bot(tmp_path, SLACK_BOT_TOKEN=SECRETS["SLACK_BOT_TOKEN"],
                                 SLACK_SIGNING_SECRET=SECRETS["SLACK_SIGNING_SECRET"],
                                 SLACK_APP_TOKEN=SECRETS["SLACK_APP_TOKEN"], SLACK_API_URL=slack.base_url)
    assert_explained(run, 2, "SLACK_APP_TOKEN was refused", "invalid_auth", "xapp-")


async def test_slack_unreachable(tmp_path: Path) -> None:
    closed = free_port()
    run = await helpdesk_bot(tmp_path, SLACK_BOT_TOKEN=SECRETS["SLACK_BOT_TOKEN"],
                             SLACK_SIGNING_SECRET=SECRETS["SLACK_SIGNING_SECRET"],
                             SLACK_API_URL=f"http://127.0.0.1:{closed}/api/")
    assert_explained(run, 3, "SLACK_API_URL", "connection refused")


async def test_slack_without_signing_secret(tmp_path: Path) -> None:
    run = await helpdesk_bot(tmp_path, SLACK_BOT_TOKEN=SECRETS["SLACK_BOT_TOKEN"])
    assert_explained(run, 2, "SLACK_SIGNING_SECRET")


# -- e-mail ---------------------------------------------------------------------------------

IMAP_WRONG, SMTP_WRONG = SECRETS["EMAIL_IMAP_URL"], SECRETS["EMAIL_SMTP_URL"]


def _imap_url(dovecot: Dovecot, password: str | None = None) -> str:
    """The mailbox, plain on loopback (?starttls=no), with its password or another."""
    password = dovecot.password if password is None else password
    return f"imap://{quote(dovecot.user, safe='')}:{quote(password, safe='')}@127.0.0.1:{dovecot.port}/INBOX" \
        "?starttls=no"


def _mail_settings(dovecot: Dovecot, sink: SmtpSink, **given: str) -> dict[str, str]:
    return {"EMAIL_ADDRESS": "support@example.com", "EMAIL_IMAP_URL": _imap_url(dovecot),
            "EMAIL_SMTP_URL": sink.url(), **given}


def _passwords(dovecot: Dovecot, sink: SmtpSink) -> dict[str, str]:
    assert sink.password is not None
    return {"the mailbox's password": dovecot.password, "the SMTP password": sink.password}


@pytest.mark.parametrize(("given", "missing"), [
    ({"EMAIL_ADDRESS": "support@example.com"}, "set EMAIL_IMAP_URL and EMAIL_SMTP_URL too"),
    ({"EMAIL_IMAP_URL": f"imaps://support:{quote(IMAP_WRONG, safe='')}@127.0.0.1/INBOX",
      "EMAIL_SMTP_URL": f"smtps://support:{quote(SMTP_WRONG, safe='')}@127.0.0.1"}, "set EMAIL_ADDRESS too"),
], ids=["address-only", "no-address"])
async def test_email_settings_in_part(tmp_path: Path, given: dict[str, str], missing: str) -> None:
    run = await helpdesk_bot(tmp_path, **given)
    assert_explained(run, 2, "EMAIL_ADDRESS, EMAIL_IMAP_URL and EMAIL_SMTP_URL", missing)


async def test_email_address_that_is_not_an_address(tmp_path: Path) -> None:
    run = await helpdesk_bot(tmp_path, EMAIL_ADDRESS="Support <support@example.com>",
                             EMAIL_IMAP_URL=f"imaps://s:{quote(IMAP_WRONG, safe='')}@127.0.0.1/INBOX",
                             EMAIL_SMTP_URL=f"smtps://s:{quote(SMTP_WRONG, safe='')}@127.0.0.1")
    assert_explained(run, 2, "EMAIL_ADDRESS", "support@example.com")


async def test_email_imap_url_with_a_wrong_scheme(tmp_path: Path) -> None:
    run = await helpdesk_bot(tmp_path, EMAIL_ADDRESS="support@example.com",
                             EMAIL_IMAP_URL=f"https://support:{quote(IMAP_WRONG, safe='')}@127.0.0.1/INBOX",
                             EMAIL_SMTP_URL=f"smtps://s:{quote(SMTP_WRONG, safe='')}@127.0.0.1")
    assert_explained(run, 2, "EMAIL_IMAP_URL", "imaps://", "imap://")


async def test_imap_server_not_listening(tmp_path: Path) -> None:
    closed = free_port()
    async with SmtpSink(user="bot", password=SMTP_WRONG) as sink:
        run = await helpdesk_bot(
            tmp_path, EMAIL_ADDRESS="support@example.com", EMAIL_SMTP_URL=sink.url(),
            EMAIL_IMAP_URL=f"imap://support:{quote(IMAP_WRONG, safe='')}@127.0.0.1:{closed}/INBOX?starttls=no")
    assert_explained(run, 3, "EMAIL_IMAP_URL", f"127.0.0.1:{closed}", "connection refused")


async def test_imap_password_refused(tmp_path: Path, dovecot: Dovecot, smtp_sink: SmtpSink) -> None:
    run = await helpdesk_bot(tmp_path, **_mail_settings(dovecot, smtp_sink,
                                                        EMAIL_IMAP_URL=_imap_url(dovecot, IMAP_WRONG)))
    assert_explained(run, 2, "EMAIL_IMAP_URL", "refused the login", "password",
                     secrets=_passwords(dovecot, smtp_sink))


async def test_smtp_server_not_listening(tmp_path: Path, dovecot: Dovecot, smtp_sink: SmtpSink) -> None:
    closed = free_port()
    run = await helpdesk_bot(tmp_path, **_mail_settings(
        dovecot, smtp_sink, EMAIL_SMTP_URL=f"smtp://bot:{quote(SMTP_WRONG, safe='')}@127.0.0.1:{closed}?starttls=no"))
    assert_explained(run, 3, "EMAIL_SMTP_URL", f"127.0.0.1:{closed}", "connection refused",
                     secrets=_passwords(dovecot, smtp_sink))


async def test_smtp_password_refused(tmp_path: Path, dovecot: Dovecot, smtp_sink: SmtpSink) -> None:
    run = await helpdesk_bot(tmp_path, **_mail_settings(
        dovecot, smtp_sink, EMAIL_SMTP_URL=smtp_sink.url(password=SMTP_WRONG)))
    assert smtp_sink.logins and not any(ok for _, ok in smtp_sink.logins), "the password was tried"
    assert_explained(run, 2, "EMAIL_SMTP_URL", "refused its user name and password", "password",
                     secrets=_passwords(dovecot, smtp_sink))


async def test_email_default_department_that_does_not_exist(tmp_path: Path) -> None:
    config = tmp_path / "helpdesk.toml"
    text = (Path(__file__).parents[2] / "core" / "domain" / "default_config.toml").read_text(encoding="utf-8")
    text = text.replace("[channels.email]\n", '[channels.email]\ndefault_department = "nope"\n', 1)
    assert 'default_department = "nope"' in text
    config.write_text(text, encoding="utf-8")
    checked = await helpdesk_bot(tmp_path, "check-config", str(config))
    assert_explained(checked, 2, "[channels.email] default_department", "'nope'")
    run = await helpdesk_bot(tmp_path, HELPDESK_CONFIG=str(config), EMAIL_ADDRESS="support@example.com",
                             EMAIL_IMAP_URL=f"imaps://s:{quote(IMAP_WRONG, safe='')}@127.0.0.1/INBOX",
                             EMAIL_SMTP_URL=f"smtps://s:{quote(SMTP_WRONG, safe='')}@127.0.0.1")
    assert_explained(run, 2, "[channels.email] default_department", "'nope'")


# -- the database ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    f"postgresql+psycopg2://postgres:{DB_PASSWORD}@127.0.0.1:5432/helpdesk",
    f"mysql://root:{DB_PASSWORD}@127.0.0.1/helpdesk",
    f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:not-a-port/helpdesk",
], ids=["driver-not-installed", "unsupported-database", "not-a-url"])
async def test_bad_database_url(tmp_path: Path, url: str) -> None:
    run = await helpdesk_bot(tmp_path, DATABASE_URL=url, TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"])
    assert_explained(run, 2, "DATABASE_URL", "postgresql://")


async def test_postgresql_refusing_connections(tmp_path: Path) -> None:
    closed = free_port()
    run = await helpdesk_bot(tmp_path, DATABASE_URL=f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:{closed}/helpdesk",
                             TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"])
    assert_explained(run, 3, "DATABASE_URL", f"127.0.0.1:{closed}", "connection refused", "Start PostgreSQL")


async def test_postgresql_without_the_database(tmp_path: Path) -> None:
    if _pg_server_url() is None:
        pytest.skip("PostgreSQL not available on 127.0.0.1:5432")
    run = await helpdesk_bot(tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:5432/helpdesk_no_such_database",
                             TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"])
    assert_explained(run, 2, "DATABASE_URL", 'database "helpdesk_no_such_database" does not exist')


async def test_sqlite_file_that_cannot_be_created(tmp_path: Path) -> None:
    run = await helpdesk_bot(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'no-such-folder' / 'h.db'}",
                             TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"])
    assert_explained(run, 2, "DATABASE_URL", "no-such-folder")


async def test_plain_postgresql_url_is_used_through_asyncpg(tmp_path: Path, pg_database: str) -> None:
    """As PostgreSQL's own tools and hosting providers write it (it used to fail: no psycopg)."""
    plain = "postgresql://" + pg_database.split("://", 1)[1]
    run = await helpdesk_bot(tmp_path, "db", "upgrade", DATABASE_URL=plain)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "database is at revision" in run.stdout


@pytest.mark.parametrize(("given", "used"), [
    ("postgresql://u:p@db.example.org:5433/helpdesk?ssl=require",
     "postgresql+asyncpg://u:p@db.example.org:5433/helpdesk?ssl=require"),
    ("postgres://u@db/helpdesk", "postgresql+asyncpg://u@db/helpdesk"),
    ("postgresql+asyncpg://u@db/helpdesk", "postgresql+asyncpg://u@db/helpdesk"),
    ("sqlite:///./helpdesk.db", "sqlite+aiosqlite:///./helpdesk.db"),
    ("sqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ("sqlite+aiosqlite:////var/lib/helpdesk/h.db", "sqlite+aiosqlite:////var/lib/helpdesk/h.db"),
])
def test_database_url_gets_the_async_driver(given: str, used: str) -> None:
    assert Settings(DATABASE_URL=given).database_url == used


def test_a_refused_database_url_is_not_echoed() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(DATABASE_URL=f"postgresql+psycopg2://u:{DB_PASSWORD}@db/helpdesk")
    assert "psycopg2" in str(info.value) and DB_PASSWORD not in str(info.value)


# -- the console ----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [("run",), ("console",)])
async def test_console_left_at_once_ends_quietly(tmp_path: Path, args: tuple[str, ...]) -> None:
    """stdin closed at once: the chat ends while the first timer sweep may still be running
    (it starts with the process); that sweep finishes rather than dying with a traceback."""
    run = await helpdesk_bot(tmp_path, *args)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr and "CancelledError" not in run.stderr, run.stderr[-3000:]
    assert len(run.failure) <= 1, run.failure  # at most the note that no messenger is configured


# -- the HTTP server ------------------------------------------------------------------------


async def test_http_port_in_use(tmp_path: Path) -> None:
    async with FakeTelegramAPI(token=SECRETS["TELEGRAM_BOT_TOKEN"]) as tg:
        taken = urlsplit(tg.server_url).port  # the fake listens there
        run = await helpdesk_bot(tmp_path, TELEGRAM_BOT_TOKEN=SECRETS["TELEGRAM_BOT_TOKEN"],
                                 TELEGRAM_API_URL=tg.server_url, HTTP_PORT=str(taken))
    assert_explained(run, 2, "HTTP_PORT", f"127.0.0.1:{taken}", "address already in use")


# -- the agents' desks ----------------------------------------------------------------------


def test_which_desks_are_connected(tmp_path: Path) -> None:
    """A channel serves a desk when it has a chat for one: the setting's, or a department's own
    (`telegram_desk_chat`, `slack_channel`). Telegram alone serves customers and no desk."""
    from bot.bootstrap import check_channel_keys, desks
    from core.domain.config import load_config

    config = load_config(None)
    token = {"TELEGRAM_BOT_TOKEN": "123:ABC"}
    assert desks(Settings(**token), config) == {}  # type: ignore[arg-type]
    assert desks(Settings(**token, TELEGRAM_DESK_CHAT="-1001"), config) == {"telegram": "-1001"}  # type: ignore[arg-type]
    text = (Path(__file__).parents[2] / "core" / "domain" / "default_config.toml").read_text(encoding="utf-8")
    first = text.index("[[departments]]")
    code_at = text.index("\n", text.index("code =", first))
    own = tmp_path / "own.toml"
    own.write_text(text[:code_at] + '\ntelegram_desk_chat = "-1002"' + text[code_at:], encoding="utf-8")
    config = load_config(str(own))
    check_channel_keys(config)
    assert config.departments[0].desks == {"telegram": "-1002"}
    assert desks(Settings(**token), config) == {"telegram": None}  # type: ignore[arg-type]
    slack = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_AGENT_CHANNEL": "C1"}
    assert desks(Settings(**token, **slack, TELEGRAM_DESK_CHAT="-1001"), config) == \
        {"telegram": "-1001", "slack": "C1"}  # type: ignore[arg-type]


@pytest.mark.parametrize(("name", "value"), [("TELEGRAM_DESK_CHAT", "@helpdesk"),
                                             ("TELEGRAM_AGENT_USERS", "123, eva")])
def test_telegram_desk_settings_are_checked(name: str, value: str) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(**{name: value})  # type: ignore[arg-type]
    assert name in str(info.value)
