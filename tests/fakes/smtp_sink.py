"""A real SMTP server on 127.0.0.1 that keeps what it receives, for the e-mail tests.

aiosmtpd's Controller runs the server in a thread of its own, so a test's event loop is free
while the bot talks to it. The sink can log people in (`user`, `password`), offer STARTTLS
with a certificate made for the test (`self_signed`), refuse a recipient and fail the next
mails on demand, hang up on the next ones to show what a dropped connection does, or hold the
next one's DATA for a while (`delay_next`: a client killed meanwhile leaves nothing kept)::

    sink = SmtpSink(user="bot", password="s3cret")
    await sink.start()
    ... Smtp(smtp_server(sink.url())) ...
    [mail] = await sink.wait_for(1)
    await sink.stop()

Each received mail is parsed with policy.default; `received` keeps its envelope too (sender,
recipients, the connection it came on, whether that was encrypted, who had logged in).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
import warnings
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


class _Controller(Controller):
    def factory(self) -> SMTP:
        with warnings.catch_warnings():  # AUTH without TLS: wanted here, on loopback
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            return super().factory()


@dataclass(frozen=True, slots=True)
class Received:
    message: EmailMessage
    sender: str
    recipients: tuple[str, ...]
    peer: tuple[str, int]  # the client's end: one per connection
    tls: bool
    login: str | None


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1 and its key, made with the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, user: str | None = None,
                 password: str | None = None, tls_cert: Path | None = None, tls_key: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port()
        self.user, self.password = user, password
        self.received: list[Received] = []
        self.logins: list[tuple[str, bool]] = []  # every AUTH tried: (user, accepted)
        self._lock = threading.Lock()
        self._refused: dict[str, int] = {}
        self._failures: list[int] = []
        self._hang_ups = 0
        self._delays: list[float] = []
        self._delay_all: float | None = None
        self._holding = 0
        context = None
        if tls_cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls_cert, tls_key)
        kwargs: dict[str, Any] = {"tls_context": context, "auth_require_tls": context is not None}
        if user is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True)
        self._controller = _Controller(self, hostname=host, port=self.port, server_hostname="sink.test",
                                      ready_timeout=10.0, **kwargs)
        self._running = False

    # -- life ----------------------------------------------------------------------------------
    def start_sync(self) -> None:
        self._controller.start()
        self._running = True

    def stop_sync(self) -> None:
        if self._running:
            self._running = False
            self._controller.stop()

    async def start(self) -> None:
        await asyncio.to_thread(self.start_sync)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_sync)

    async def __aenter__(self) -> SmtpSink:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- what tests ask --------------------------------------------------------------------------
    def url(self, user: str | None = None, password: str | None = None, *, starttls: bool = False) -> str:
        """smtp://user:password@127.0.0.1:port, with ?starttls=no unless `starttls`; the sink's
        own login unless others are given."""
        user = self.user if user is None else user
        password = self.password if password is None else password
        login = f"{quote(user, safe='')}:{quote(password or '', safe='')}@" if user else ""
        return f"smtp://{login}{self.host}:{self.port}" + ("" if starttls else "?starttls=no")

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [r.message for r in self.received]

    def refuse(self, address: str, code: int = 550) -> None:
        """RCPT TO this address is answered with `code` from now on."""
        with self._lock:
            self._refused[address.lower()] = code

    def fail_next(self, code: int, count: int = 1) -> None:
        """The next `count` mails' DATA is answered with `code`."""
        with self._lock:
            self._failures += [code] * count

    def hang_up_next(self, count: int = 1) -> None:
        """The next `count` MAIL FROM commands get no answer: the connection is closed."""
        with self._lock:
            self._hang_ups += count

    def delay_next(self, seconds: float, count: int | None = 1) -> None:
        """The next `count` mails' DATA (every one from now on with None: a slow server) is
        answered `seconds` late, the mail kept only then: a client that goes away meanwhile
        (killed, say) leaves nothing, as with a server that had not yet queued it."""
        with self._lock:
            if count is None:
                self._delay_all = seconds
            else:
                self._delays += [seconds] * count

    @property
    def holding(self) -> int:
        """How many mails' DATA is being held now (see delay_next)."""
        with self._lock:
            return self._holding

    async def wait_for(self, n: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The first `n` mails, once they are in; AssertionError saying what came otherwise."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.messages) < n:
            if asyncio.get_running_loop().time() > deadline:
                got = [(m["To"], m["Subject"]) for m in self.messages]
                raise AssertionError(f"expected {n} mail(s) within {timeout} s, got {len(got)}: {got}")
            await asyncio.sleep(0.02)
        return self.messages[:n]

    # -- aiosmtpd's handler hooks (run in the server's thread) -------------------------------
    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode()
        ok = user == self.user and auth_data.password.decode() == self.password
        with self._lock:
            self.logins.append((user, ok))
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        with self._lock:
            hang_up = self._hang_ups > 0
            self._hang_ups -= hang_up
        if hang_up:
            if server.transport is not None:
                server.transport.close()
            return "421 4.3.0 closing"  # never read: the connection is gone
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        with self._lock:
            code = self._refused.get(address.lower())
        if code is not None:
            return f"{code} 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            code = self._failures.pop(0) if self._failures else None
            delay = None if code is not None else self._delays.pop(0) if self._delays else self._delay_all
            self._holding += delay is not None
        if delay is not None:
            try:
                await asyncio.sleep(delay)  # aiosmtpd cancels this when the client hangs up
            finally:
                with self._lock:
                    self._holding -= 1
        if code is not None:
            return f"{code} {'4.3.0 Try again later' if code < 500 else '5.7.1 Message rejected'}"
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(Received(
                message=message, sender=envelope.mail_from or "", recipients=tuple(envelope.rcpt_tos),
                peer=tuple(session.peer) if session.peer else ("", 0),  # type: ignore[arg-type]
                tls=session.ssl is not None, login=session.auth_data if session.authenticated else None))
        return "250 2.0.0 OK: queued"
