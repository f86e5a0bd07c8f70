"""The whole process with a real mailbox (Dovecot over IMAP), a real SMTP server (aiosmtpd),
and the agents in a fake Slack: customers write by e-mail."""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as policy
from pathlib import Path
from typing import Any

from bot.bootstrap import App
from core.delivery.inbound import InboundLog
from tests.adapters.slack.conftest import Desk, start_world
from tests.adapters.telegram.conftest import TOKEN
from tests.fakes.dovecot import Dovecot
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.smtp_sink import SmtpSink
from tests.fakes.telegram_api import FakeTelegramAPI

SUPPORT = "support@example.com"
DOMAIN = "example.com"


def mail(sender: str, subject: str, body: str, *, name: str = "", message_id: str | None = None,
         in_reply_to: str | None = None, references: str | None = None, html: str | None = None,
         headers: dict[str, str] | None = None, to: str = SUPPORT,
         files: tuple[tuple[str, bytes, str], ...] = ()) -> bytes:
    """A mail as a mail program would send it."""
    m = EmailMessage(policy=policy)
    m["From"] = email.utils.formataddr((name, sender)) if name else sender
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = email.utils.formatdate(localtime=True)
    m["Message-ID"] = message_id or email.utils.make_msgid(domain=sender.rpartition("@")[2])
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
        m["References"] = references or in_reply_to
    for key, value in (headers or {}).items():
        m[key] = value
    m.set_content(body)
    if html is not None:
        m.add_alternative(html, subtype="html")
    for filename, data, content_type in files:
        maintype, _, subtype = content_type.partition("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return m.as_bytes()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


@dataclass
class MailWorld:
    desk: Desk
    dovecot: Dovecot
    smtp: SmtpSink

    @property
    def app(self) -> App:
        return self.desk.desk

    def thread(self, number: int) -> str:
        """The Message-ID of a ticket's first mail, as this installation signs it."""
        return str(self.app.served["email"].ids.thread(number))  # type: ignore[attr-defined]

    def sent_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.smtp.messages if address in str(m["To"])]

    async def arrive(self, raw: bytes) -> None:
        """Put a mail into the mailbox and wait until the bot has taken it (marked it read)."""
        before = self._taken()
        await asyncio.to_thread(self.dovecot.append, raw)
        await self.taken(before + 1)

    def _taken(self) -> int:
        return int(self.app.served["email"].taken)  # type: ignore[attr-defined]

    async def taken(self, count: int, timeout: float = 20.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._taken() < count:
            if loop.time() > deadline:
                raise TimeoutError(f"{self._taken()} mails taken, {count} expected")
            await asyncio.sleep(0.02)
        await self.desk.settle()

    async def answers(self, address: str, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """Wait until `address` has `count` mails from the bot; all of them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.sent_to(address)) < count:
            if loop.time() > deadline:
                raise TimeoutError(f"{len(self.sent_to(address))} mails to {address}, {count} expected: "
                                   f"{[str(m['Subject']) for m in self.sent_to(address)]}")
            self.app.relay.wake.set()
            await asyncio.sleep(0.02)
        return self.sent_to(address)

    async def event_state(self, message_id: str) -> str | None:
        return await InboundLog(self.app.db).state("email", message_id.strip("<>"))


async def start_mail_world(tmp_path: Path, dovecot: Dovecot, smtp: SmtpSink, **extra: Any) -> AsyncIterator[MailWorld]:
    async with FakeTelegramAPI(token=TOKEN) as tg, FakeSlackAPI() as slack:
        settings = {"EMAIL_ADDRESS": SUPPORT, "EMAIL_NAME": "Example Support",
                    "EMAIL_IMAP_URL": dovecot.url(), "EMAIL_SMTP_URL": smtp.url(),
                    "EMAIL_POLL_SECONDS": "5", **extra}
        async for world in start_world(tmp_path, tg, slack, **settings):
            yield MailWorld(world, dovecot, smtp)
