"""The e-mail channel: customers write to the support address and get their answers by e-mail.

The mailbox's unread mail is taken one at a time, oldest first: each mail is one inbound event
(its Message-ID, or a hash of it when it has none), handled once across restarts and processes
(core.delivery.pipeline), and marked read only once its ticket is committed. A mail that cannot
be read, or that fails to be handled three times, is moved to the quarantine folder and the
agents are told: it never holds up the mail behind it.

Automatic mail (out-of-office answers, lists, bounces, our own) is never answered. A bounce of
one of our mails marks its customer unreachable by e-mail; other automatic mail that answers no
ticket opens one, silently, so that nothing sent to the support address is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from adapters.email.mailbox import Mailbox, MailboxError, MailboxRefused
from adapters.email.options import NAME, Options
from adapters.email.parse import Mail, Unreadable, detect_language, parse_mail, ticket_tag, topic
from adapters.email.sender import EmailSender
from adapters.email.smtp import Smtp
from adapters.email.urls import MailServer
from core.chat.letters import Letter, Letters
from core.chat.messages import Reply
from core.delivery.attachments import IncomingFile
from core.delivery.contract import DeliveryError, DeskSender, Pacing
from core.delivery.inbound import InboundLog
from core.delivery.pipeline import Pipeline
from core.metrics import IGNORED
from core.services import Services
from core.services.news import DeskNews
from core.startup import ServiceUnreachable, StartupError

log = logging.getLogger(__name__)
ATTEMPTS = 3  # a mail whose handling failed this often is set aside
# Larger mails are set aside unread: the files a ticket takes are 10 MB each, and parsing a
# huge mail would hold the event loop.
MAX_MAIL_BYTES = 50 * 1024 * 1024


class _Later(Exception):
    """Handling a mail failed for a reason that is not the mail's (the database is away): the
    mailbox is looked at again after a pause, and the mail does not count as failing."""


@dataclass(frozen=True, slots=True)
class _Answering:
    """Where the answers to one mail go, and the thread they belong to (the pipeline's chat)."""

    address: str
    mail: Mail
    ticket: int | None  # the ticket the mail answered, when it answered one

    def __str__(self) -> str:  # the chat of an answer handed to the outbox
        return self.address


class EmailChannel:
    """A served channel: the mailbox's reader in a task, the SMTP sender for the relay."""

    name = NAME

    def __init__(self, letters: Letters, inbound: InboundLog, services: Services, options: Options, *,
                 address: str, display_name: str, imap: MailServer, smtp: MailServer,
                 poll_seconds: float, pacing: Pacing) -> None:
        self.letters = letters
        self.services = services
        self.options = options
        self.address = address
        self.domain = address.rpartition("@")[2]
        self.imap = imap
        self.poll_seconds = poll_seconds
        self._pacing = pacing
        # A database or file that fails after the commit leaves the answers kept: the mail, still
        # unread, is fetched again and they are sent then.
        self.pipeline = Pipeline(inbound, NAME, release_on=(DBAPIError, OSError))
        self.smtp = Smtp(smtp)
        self._sender = EmailSender(self.smtp, services, address, display_name)
        self.mailbox = Mailbox(imap)
        self._reader: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._failures: dict[str, int] = {}  # Message ids whose handling failed here, and how often
        self._ok = False
        self.taken = 0  # mails handled or set aside since the start (for tests and benchmarks)

    # -- the channel contract ----------------------------------------------------------------

    @property
    def pacing(self) -> Pacing:
        return self._pacing

    @property
    def sender(self) -> EmailSender:
        return self._sender

    @property
    def desk(self) -> DeskSender | None:
        return None

    def is_group(self, chat_id: str) -> bool:
        return False

    def routes(self) -> list[web.RouteDef]:
        return []

    def health(self) -> tuple[bool, str]:
        return self._ok, "imap idle" if self.mailbox.idles else "imap polling"

    async def start(self, http: web.Application | None = None) -> None:
        try:
            await self.mailbox.connect()
        except MailboxRefused as exc:  # a wrong setting: starting again unchanged fails again
            raise StartupError(f"{exc}", "Correct the user, password and folder in EMAIL_IMAP_URL (percent-encode "
                                         "@ : / ? # in them; some providers want an app password), then start "
                                         "again.") from None
        except MailboxError as exc:
            raise ServiceUnreachable(f"{exc}",
                                     "Check the host and port of EMAIL_IMAP_URL and the network, then start "
                                     "again.") from None
        await self.smtp.check()
        self.ids = await self._sender.ids()  # the sender's, read now: the key is in the database
        self._ok = True
        log.info("email: reading %s, sending as %s", self.imap.safe(), self.address)
        self._reader = asyncio.create_task(self._read(), name="email-reader")
        self._reader.add_done_callback(self._reader_ended)

    def _reader_ended(self, task: asyncio.Task[None]) -> None:
        self._ok = False  # the health check says so: nothing reads the mailbox any more
        if not task.cancelled() and task.exception() is not None:
            log.error("email: the mailbox reader stopped", exc_info=task.exception())

    async def stop(self) -> None:
        self._stopping.set()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self.pipeline.log.flush()

    async def close(self) -> None:
        await self.mailbox.close()
        await self.smtp.close()

    # -- reading -----------------------------------------------------------------------------

    async def _read(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            try:
                if not self.mailbox.connected:
                    await self.mailbox.connect()
                    self._ok = True
                unread = await self.mailbox.unread()
                for uid in unread:
                    if self._stopping.is_set():
                        return
                    await self._one(uid)
                    backoff = 1.0  # a mail went through: whatever failed before is back
                if not unread:  # after a pass, look again: mail may have come meanwhile
                    await self.mailbox.wait(self.poll_seconds)
                    backoff = 1.0
            except Exception as exc:  # the reader must outlive anything: it is the mailbox's only one
                self._ok = False
                if isinstance(exc, (MailboxError, _Later)):
                    log.warning("email: %s; trying again in %.0f s", exc, backoff)
                else:
                    log.exception("email: the mailbox could not be read; trying again in %.0f s", backoff)
                await self.mailbox.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                backoff = min(backoff * 2, 60.0)

    async def _one(self, uid: str) -> None:
        raw = await self.mailbox.fetch(uid)
        if raw is None:
            return  # gone meanwhile: another process took it
        started = time.monotonic()
        if len(raw) > MAX_MAIL_BYTES:
            await self._set_aside(uid, raw, f"larger than {MAX_MAIL_BYTES // (1024 * 1024)} MB")
            return
        try:
            mail = await asyncio.to_thread(parse_mail, raw)
        except Unreadable as exc:
            await self._set_aside(uid, raw, str(exc))
            return
        if len(mail.sender) > 254:  # no address is longer (RFC 5321), nor may an identity be
            await self._set_aside(uid, raw, "the sender's address is longer than 254 characters", mail)
            return
        try:
            await self._take(mail, raw, started)
        except (MailboxError, asyncio.CancelledError):
            raise
        except (OperationalError, InterfaceError, OSError) as exc:
            # The database or the disk is away, not the mail's fault: it waits, uncounted.
            raise _Later(f"a mail could not be handled now: {type(exc).__name__}") from None
        except Exception as exc:  # this mail fails (a value the database refuses, a bug): counted
            failures = self._failures.get(mail.event_id, 0) + 1
            self._failures[mail.event_id] = failures
            log.exception("email: a mail could not be handled (attempt %s of %s)", failures, ATTEMPTS)
            if failures >= ATTEMPTS:
                self._failures.pop(mail.event_id, None)
                await self._set_aside(uid, raw, type(exc).__name__, mail)
            return
        self._failures.pop(mail.event_id, None)
        await self.mailbox.mark_read(uid)  # only now: the ticket is committed
        self.taken += 1

    async def _take(self, mail: Mail, raw: bytes, started: float) -> None:
        event_id = _event_id(mail)
        sender = mail.sender
        if not sender or sender == self.address or sender in self.options.claims:
            IGNORED.labels(NAME, "own").inc()
            log.info("email: a mail from our own address is not taken (a loop)")
            await self.pipeline.once(event_id, _nothing, started=started)
            return
        if mail.bounce is not None:
            await self._bounced(event_id, mail, started)
            return
        number = self._ticket_of(mail)
        ours = any(self.ids.ours(ref) for ref in (*mail.in_reply_to, *mail.references))
        if mail.automatic and (number is not None or ours):
            IGNORED.labels(NAME, "automatic").inc()
            log.info("email: an automatic mail (%s) about ticket #%s is not taken", mail.automatic, number)
            await self.pipeline.once(event_id, _nothing, started=started)
            return
        # An answer to a mail of ours (a ticket's, or the question which department) brings
        # our words quoted: only what is new counts, and only its language.
        text = mail.reply_text if number is not None or ours else mail.text
        offered = self.letters.config.languages
        letter = Letter(
            platform=NAME, sender=sender, name="".join(c for c in mail.sender_name if c.isprintable()),
            subject=topic(mail.subject), text=text,
            files=tuple(_incoming(f.name, f.data, f.content_type) for f in mail.files),
            record=_incoming("original.eml", raw, "message/rfc822"),
            ticket=number, quote=self._quote_of(mail), department=self._department(mail),
            language=detect_language(text, offered=offered),
            language_hint=detect_language("", mail.content_language, offered), automatic=mail.automatic is not None,
            address=True)
        answering = _Answering(sender, mail, number)
        async with self.pipeline.in_order(sender):
            await self.pipeline.take(event_id, answering, lambda: self.letters.take(letter), self._answer,
                                     started=started)

    def _ticket_of(self, mail: Mail) -> int | None:
        """The ticket a mail answers: our Message-ID in its In-Reply-To or References, else the
        [#1042] tag of its subject (Letters checks that its sender may write to it)."""
        for ref in (*mail.in_reply_to, *reversed(mail.references)):
            number = self.ids.ticket_of(ref)
            if number:
                return number
        return ticket_tag(mail.subject)

    def _quote_of(self, mail: Mail) -> int | None:
        """The quote whose mail this one answers: named by the id in its In-Reply-To alone (a
        reply to a later mail of the thread answers that one, whatever its References hold)."""
        return next((q for q in map(self.ids.quote_of, mail.in_reply_to) if q is not None), None)

    def _department(self, mail: Mail) -> str | None:
        return next((self.options.claims[r] for r in mail.recipients if r in self.options.claims), None)

    async def _answer(self, answering: Any, reply: Reply) -> Reply | None:
        """Send one answer to a mail; handed to the outbox (returned) when the SMTP server is
        away, so that the mailbox goes on."""
        assert isinstance(answering, _Answering)
        mail = answering.mail
        root = reply.ticket is not None and reply.ticket != answering.ticket  # the ticket's first mail
        try:
            await self._sender.deliver(answering.address, reply, automatic="auto-replied",
                                       in_reply_to=mail.message_id, references=mail.references, root=root)
        except DeliveryError as exc:
            if exc.permanent:
                log.warning("email: the answer to a mail was refused for good: %s", exc)
                return None
            return reply
        return None

    async def _bounced(self, event_id: str, mail: Mail, started: float) -> None:
        bounce = mail.bounce
        assert bounce is not None
        # Only a bounce of a mail of ours (its signed id) to that ticket's requester counts: a
        # made-up one must not cut a customer off.
        numbers = [n for n in (self.ids.ticket_of(m) for m in bounce.message_ids) if n]
        recipient = bounce.recipient

        async def work() -> list[Reply]:
            if bounce.permanent and recipient and numbers:
                await self.services.customers.unreachable(NAME, recipient.lower(), "bounced", numbers[0])
            return []

        await self.pipeline.once(event_id, work, started=started)

    async def _set_aside(self, uid: str, raw: bytes, reason: str, mail: Mail | None = None) -> None:
        folder = self.options.quarantine_folder
        log.warning("email: a mail was set aside in %s: %s", folder, reason)
        await self.mailbox.set_aside(uid, folder)
        self.taken += 1
        sender = mail.sender if mail else _header(raw, b"from")
        subject = mail.subject if mail else _header(raw, b"subject")
        try:
            await self.services.desk.tell_agents(
                DeskNews.SET_ASIDE, place=f"{folder} ({self.address})", reason=reason[:200],
                sender=sender[:200], subject=subject[:200])
        except Exception:  # the mail is aside all the same; the log says what the agents missed
            log.exception("email: the agents could not be told of the mail set aside")


async def _nothing() -> list[Reply]:
    return []


def _event_id(mail: Mail) -> str:
    """The mail's id as an inbound event's (at most 128 characters: a longer one is hashed)."""
    found = mail.event_id
    return found if len(found) <= 128 else "sha256:" + hashlib.sha256(found.encode()).hexdigest()


def _incoming(name: str, data: bytes, content_type: str) -> IncomingFile:
    async def fetch() -> bytes:
        return data

    return IncomingFile(filename=name, size=len(data), fetch=fetch, declared_mime=content_type)


def _header(raw: bytes, name: bytes) -> str:
    """A header of a mail the parser refused, as far as it can be read."""
    for line in raw[:20_000].splitlines():
        if line.lower().startswith(name + b":"):
            return line.split(b":", 1)[1].strip().decode("utf-8", "replace")
    return ""
