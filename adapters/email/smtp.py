"""Mail out over SMTP: a few logged-in connections kept and reused, every failure said as a
delivery outcome (give up on this mail, or try again later) with a reason free of the password.

A new connection costs a TLS handshake and a login, and servers limit logins, so connections
are kept between mails and dropped once they fail or sit idle. A mail whose connection broke
is tried once more on a new one before the outbox is told to retry it later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from email.message import EmailMessage

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPDataError,
    SMTPException,
    SMTPNotSupported,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
)

from adapters.email.urls import MailServer
from core.delivery.contract import DeliveryError
from core.startup import ServiceUnreachable, StartupError, network_reason

log = logging.getLogger(__name__)

IDLE_LIMIT = 60.0  # seconds: servers and NAT routers drop quiet sessions; a login costs less than a hang
_FIX_URL = "Correct EMAIL_SMTP_URL, then start again."


class SettingRefused(Exception):
    """The server will not take us as configured (TLS, login, sender): the operator must change
    a setting; no customer is at fault and waiting alone will not help."""

    def __init__(self, kind: str, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.kind, self.reason, self.fix = kind, reason, fix


class Smtp:
    """Sends composed mails through the server of EMAIL_SMTP_URL, at most `connections` at once."""

    def __init__(self, server: MailServer, *, timeout: float = 30.0, connections: int = 2) -> None:
        if server.scheme not in ("smtp", "smtps"):
            raise ValueError("an SMTP server is needed")
        self.server = server
        self.timeout = timeout
        self._slots = asyncio.Semaphore(max(1, connections))
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._told: set[str] = set()  # the setting problems already logged, until a mail goes out
        self._closed = False

    @property
    def _where(self) -> str:
        return f"SMTP server {self.server.address} (EMAIL_SMTP_URL)"

    async def send(self, message: EmailMessage) -> None:
        """Hands the mail to the server; DeliveryError, permanent or not, when it did not take it."""
        async with self._slots:
            for fresh in (False, True):
                client = await self._connection(fresh)
                try:
                    await client.send_message(message)
                except (SMTPServerDisconnected, OSError) as exc:  # the connection failed, not the mail
                    client.close()
                    if fresh:
                        raise DeliveryError(self._scrub(f"{self._where}: {_why(exc)}")) from None
                    continue
                except (SMTPException, ValueError) as exc:
                    self._put_back(client)
                    raise self._refusal(exc) from None
                except BaseException:
                    client.close()
                    raise
                self._put_back(client)
                self._told.clear()
                return

    async def check(self) -> None:
        """Connects, logs in and leaves, for the start: ServiceUnreachable when the server does not
        answer, StartupError when it refuses the settings."""
        try:
            client = await self._open()
        except SettingRefused as exc:
            raise StartupError(self._scrub(exc.reason), exc.fix) from None
        except (SMTPException, OSError) as exc:
            raise ServiceUnreachable(
                self._scrub(f"{self._where} cannot be reached: {_why(exc)}"),
                "Check the host and port of EMAIL_SMTP_URL and the network, then start again.") from None
        await self._quit(client)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._quit(client) for client, _ in idle))

    async def _connection(self, fresh: bool) -> aiosmtplib.SMTP:
        now = asyncio.get_running_loop().time()
        while self._idle and not fresh:
            client, since = self._idle.pop()
            if client.is_connected and now - since < IDLE_LIMIT:
                return client
            client.close()
        try:
            return await self._open()
        except SettingRefused as exc:
            self._tell(exc)
            raise DeliveryError(self._scrub(exc.reason)) from None
        except (SMTPException, OSError) as exc:
            raise DeliveryError(self._scrub(f"{self._where} cannot be reached: {_why(exc)}")) from None

    async def _open(self) -> aiosmtplib.SMTP:
        """A connection, encrypted and logged in as the URL says."""
        server = self.server
        # Made for each connection, so that a changed trust store (SSL_CERT_FILE) is honoured.
        context = await asyncio.to_thread(ssl.create_default_context)
        client = aiosmtplib.SMTP(hostname=server.host, port=server.port, timeout=self.timeout,
                                 use_tls=server.implicit_tls, start_tls=False, tls_context=context)
        try:
            try:
                await client.connect()
            except (SMTPException, OSError) as exc:
                if server.implicit_tls and _tls_error(exc) is not None:
                    raise self._tls_refused(exc) from None
                raise
            if not server.implicit_tls and server.starttls:
                await self._starttls(client)
            if server.user:
                await self._login(client)
        except BaseException:
            client.close()
            raise
        return client

    async def _starttls(self, client: aiosmtplib.SMTP) -> None:
        await client.ehlo()
        if not client.supports_extension("starttls"):
            if self.server.loopback:
                return  # nothing to overhear on this machine's own loopback
            raise SettingRefused(
                "tls", f"the {self._where} does not offer STARTTLS: mail and password would travel unencrypted",
                "Use smtps:// (port 465) if the server offers it, or a server that offers STARTTLS.")
        try:
            await client.starttls()
        except (SMTPException, OSError) as exc:
            if _tls_error(exc) is None and isinstance(exc, (SMTPServerDisconnected, TimeoutError)):
                raise  # the network, not TLS
            raise self._tls_refused(exc) from None

    async def _login(self, client: aiosmtplib.SMTP) -> None:
        """One try per mechanism the server claims, stopping at the first refusal of the password:
        every failed try counts against the account where servers lock out guessers."""
        await client.ehlo()
        ways = {"cram-md5": client.auth_crammd5, "plain": client.auth_plain, "login": client.auth_login}
        refusal: SMTPAuthenticationError | None = None
        for name in client.supported_auth_methods:
            try:
                await ways[name](self.server.user, self.server.password)
                return
            except SMTPAuthenticationError as exc:
                refusal = exc
                if exc.code // 10 == 53:  # 530-539: the credentials, not the mechanism
                    break
        if refusal is not None:
            raise SettingRefused(
                "login", self._scrub(f"the {self._where} refused its user name and password: "
                                     f"{refusal.code} {refusal.message}"[:300]),
                "Correct the user and password in EMAIL_SMTP_URL (percent-encode @ : / ? # in them; "
                "some providers want an app password), then start again.")
        raise SettingRefused(
            "login", f"the {self._where} offers no login (AUTH) we can use on this connection",
            "Leave user:password@ out of EMAIL_SMTP_URL for a server that needs no login, "
            "or use smtps:// or STARTTLS if it offers login only over TLS.")

    def _tls_refused(self, exc: BaseException) -> SettingRefused:
        error = _tls_error(exc)
        if isinstance(error, ssl.SSLCertVerificationError):
            return SettingRefused(
                "tls", self._scrub(f"the certificate of the {self._where} is not trusted: {error.verify_message}"),
                "Check the host name in EMAIL_SMTP_URL against the server's certificate; a certificate "
                "of your own CA needs the CA in SSL_CERT_FILE.")
        detail = error.reason if error is not None and error.reason else _why(exc)
        return SettingRefused(
            "tls", self._scrub(f"TLS with the {self._where} failed: {detail}"),
            "Check that the port speaks TLS as the scheme says: smtps:// for TLS from the start (usually "
            "port 465), smtp:// for STARTTLS (usually port 587).")

    def _refusal(self, exc: SMTPException | ValueError) -> DeliveryError:
        """The server answered, and not with yes: for this mail only (permanent on 5xx), or for
        every mail until a setting changes (sender refused, login required)."""
        if isinstance(exc, SMTPRecipientsRefused):
            codes = [r.code for r in exc.recipients]
            said = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
            return DeliveryError(self._scrub(f"the {self._where} refused the recipient: {said}"[:500]),
                                 permanent=all(500 <= code < 600 for code in codes))
        if isinstance(exc, SMTPSenderRefused) and 500 <= exc.code < 600:
            self._tell(SettingRefused(
                "sender", self._scrub(f"the {self._where} refused the sender {exc.sender}: {exc.code} "
                                      f"{exc.message}"[:300]),
                "Set EMAIL_ADDRESS to an address the SMTP user may send from."))
            return DeliveryError(self._scrub(f"the {self._where} refused the sender (EMAIL_ADDRESS): "
                                             f"{exc.code} {exc.message}"[:500]))
        if isinstance(exc, SMTPDataError):
            return DeliveryError(self._scrub(f"the {self._where} refused the message: {exc.code} {exc.message}"[:500]),
                                 permanent=500 <= exc.code < 600)
        if isinstance(exc, SMTPResponseException):
            return DeliveryError(self._scrub(f"the {self._where} answered {exc.code} {exc.message}"[:500]))
        if isinstance(exc, (SMTPNotSupported, ValueError)):  # an address this server cannot take
            return DeliveryError(self._scrub(f"the mail cannot be sent by the {self._where}: {exc}"[:500]),
                                 permanent=True)
        return DeliveryError(self._scrub(f"{self._where}: {exc}"[:500]))

    def _tell(self, problem: SettingRefused) -> None:
        """Log a setting's problem once, not at every mail the outbox retries."""
        if problem.kind not in self._told:
            self._told.add(problem.kind)
            log.error("%s. %s", self._scrub(problem.reason), problem.fix)

    def _put_back(self, client: aiosmtplib.SMTP) -> None:
        if client.is_connected and not self._closed:
            self._idle.append((client, asyncio.get_running_loop().time()))
        else:
            client.close()

    async def _quit(self, client: aiosmtplib.SMTP) -> None:
        with contextlib.suppress(SMTPException, OSError):
            await asyncio.wait_for(client.quit(), self.timeout)
        client.close()

    def _scrub(self, text: str) -> str:
        """A server may echo what it was sent: the password never goes further than the login."""
        return text.replace(self.server.password, "***") if self.server.password else text


def _tls_error(exc: BaseException) -> ssl.SSLError | None:
    current: BaseException | None = exc
    seen: list[BaseException] = []
    while current is not None and current not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.append(current)
        current = current.__cause__ or current.__context__
    return None


def _why(exc: BaseException) -> str:
    if isinstance(exc, SMTPResponseException):
        return f"it answered {exc.code} {exc.message}"
    if isinstance(exc, SMTPServerDisconnected) and not isinstance(exc.__cause__, OSError):
        return "the server closed the connection"
    return network_reason(exc)
