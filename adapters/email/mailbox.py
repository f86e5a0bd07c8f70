"""The support mailbox over IMAP (aioimaplib): the unread mail in its folder, fetched without
marking it read, marked read once it was taken, or moved aside; woken by IDLE where the server
offers it.

aioimaplib has no STARTTLS of its own: the command is sent and asyncio's start_tls wraps the
connection, as imaplib does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from typing import Any

import aioimaplib

from adapters.email.urls import MailServer
from core.startup import network_reason

log = logging.getLogger(__name__)

_UID = re.compile(rb"UID (\d+)")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


class MailboxError(Exception):
    """The server refused something or the connection failed; the reason names no secret."""


class MailboxRefused(MailboxError):
    """The server answered and refused the settings (the login, the folder): trying again
    unchanged will not help."""


class Mailbox:
    def __init__(self, server: MailServer, *, timeout: float = 30.0) -> None:
        self.server = server
        self.timeout = timeout
        self._client: aioimaplib.IMAP4 | None = None
        self._folders: set[str] = set()

    @property
    def connected(self) -> bool:
        client = self._client
        return client is not None and client.protocol is not None and client.protocol.transport is not None \
            and not client.protocol.transport.is_closing() and client.get_state() == "SELECTED"

    @property
    def idles(self) -> bool:
        return self._client is not None and self._client.has_capability("IDLE")

    async def connect(self) -> None:
        """Log in and select the folder; MailboxError with what went wrong (no password)."""
        await self.close()
        server = self.server
        context = ssl.create_default_context()
        try:
            if server.implicit_tls:
                client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(
                    server.host, server.port, timeout=self.timeout, ssl_context=context)
            else:
                client = aioimaplib.IMAP4(server.host, server.port, timeout=self.timeout)
            self._client = client
            await client.wait_hello_from_server()
            if not server.implicit_tls:
                await self._starttls(client, context)
            response = await self._login(client)
            if response.result != "OK":
                raise MailboxRefused(f"the IMAP server refused the login of {server.user!r} (EMAIL_IMAP_URL): "
                                   f"{_said(response)}")
            response = await client.select(aioimaplib.quoted(server.folder))
            if response.result != "OK":
                raise MailboxRefused(f"the IMAP folder {server.folder!r} (EMAIL_IMAP_URL) cannot be opened: "
                                     f"{_said(response)}")
        except MailboxError:
            await self.close()
            raise
        except (OSError, TimeoutError, aioimaplib.AioImapException, ssl.SSLError) as exc:
            await self.close()
            raise MailboxError(f"the IMAP server {server.safe()} cannot be reached: {_reason(exc)}") from None

    async def _login(self, client: aioimaplib.IMAP4) -> Any:
        """LOGIN, the password hidden in aioimaplib's DEBUG log of the command as it is sent.
        aioimaplib's own login hides the password as given, which is not what it sends when the
        password holds a quote or a backslash (a quoted string escapes them): it would be logged."""
        protocol = client.protocol
        secret = aioimaplib.quoted(self.server.password)
        command = aioimaplib.Command("LOGIN", protocol.new_tag(), self.server.user, secret, loop=protocol.loop)
        async with protocol.state_condition:  # as aioimaplib's own login: waiters see the new state
            response = await asyncio.wait_for(protocol.execute(command, scrub=secret), self.timeout)
            if response.result == "OK":
                protocol.state = aioimaplib.AUTH
                for line in response.lines:  # servers may say their capabilities anew once logged in
                    if isinstance(line, bytes) and b"CAPABILITY" in line:
                        protocol.capabilities |= set(line.decode().replace("CAPABILITY", "").split())
            protocol.state_condition.notify_all()
        return response

    async def _starttls(self, client: aioimaplib.IMAP4, context: ssl.SSLContext) -> None:
        if "STARTTLS" not in client.protocol.capabilities:
            if self.server.host in _LOOPBACK and not self.server.starttls:
                return  # a server on this machine, named so in the URL (?starttls=no)
            raise MailboxError(f"the IMAP server {self.server.safe()} does not offer STARTTLS: use imaps:// "
                               "or a server that encrypts the connection")
        if not self.server.starttls:
            return
        protocol = client.protocol
        response = await asyncio.wait_for(protocol.execute(
            aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)), self.timeout)
        if response.result != "OK":
            raise MailboxError(f"the IMAP server refused STARTTLS: {_said(response)}")
        loop = asyncio.get_running_loop()
        transport = await asyncio.wait_for(loop.start_tls(
            protocol.transport, protocol, context, server_hostname=self.server.host), self.timeout)
        protocol.transport = transport
        await asyncio.wait_for(protocol.capability(), self.timeout)  # they may differ after TLS

    async def unread(self) -> list[str]:
        """The UIDs of the unread mail in the folder, oldest first."""
        response = await self._command("uid_search", "UNSEEN", charset=None)
        uids: list[str] = []
        for line in response.lines[:-1]:  # the last line is the server's "Search completed"
            if isinstance(line, bytes):
                uids.extend(part.decode() for part in line.split() if part.isdigit())
        return sorted(uids, key=int)

    async def fetch(self, uid: str) -> bytes | None:
        """The whole mail, left unread; None when it is gone (taken by another process)."""
        response = await self._command("uid", "fetch", uid, "(BODY.PEEK[])")
        lines = response.lines
        for i, line in enumerate(lines):
            if isinstance(line, bytes) and b"FETCH" in line and _UID.search(line) and i + 1 < len(lines):
                data = lines[i + 1]
                if isinstance(data, (bytes, bytearray)):
                    return bytes(data)
        return None

    async def mark_read(self, uid: str) -> None:
        await self._command("uid", "store", uid, "+FLAGS.SILENT", r"(\Seen)")

    async def set_aside(self, uid: str, folder: str) -> None:
        """Move the mail to `folder` (created if missing), read, so that it stops the rest no longer."""
        if folder not in self._folders:
            await self._command("create", aioimaplib.quoted(folder), check=False)  # refused when it exists
            self._folders.add(folder)
        await self.mark_read(uid)
        client = self._require()
        if client.has_capability("MOVE"):
            await self._command("uid", "move", uid, aioimaplib.quoted(folder))
            return
        await self._command("uid", "copy", uid, aioimaplib.quoted(folder))
        await self._command("uid", "store", uid, "+FLAGS.SILENT", r"(\Deleted)")
        if client.has_capability("UIDPLUS"):
            await self._command("uid", "expunge", uid)
        else:
            await self._command("expunge")

    async def wait(self, seconds: float) -> None:
        """Until new mail may be there: an IDLE push, or `seconds` (polling) where IDLE is not offered."""
        client = self._require()
        if not client.has_capability("IDLE"):
            await asyncio.sleep(seconds)
            return
        try:
            idle = await asyncio.wait_for(client.idle_start(timeout=seconds), self.timeout)
        except (OSError, TimeoutError, aioimaplib.AioImapException) as exc:
            raise MailboxError(f"the IMAP server {self.server.safe()} would not wait for mail (IDLE): "
                               f"{_reason(exc)}") from None
        try:
            while True:
                pushed = await client.wait_server_push(timeout=seconds + 5)
                if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break
                if any(isinstance(line, bytes) and (line.endswith(b"EXISTS") or line.endswith(b"RECENT"))
                       for line in pushed):
                    break
        except TimeoutError:
            pass
        finally:
            if client.has_pending_idle():
                client.idle_done()
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError, aioimaplib.AioImapException):
                await asyncio.wait_for(idle, self.timeout)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):
            if client.has_pending_idle():
                client.idle_done()
            await asyncio.wait_for(client.logout(), 5)
        with contextlib.suppress(Exception):
            if client.protocol.transport is not None:
                client.protocol.transport.close()

    def _require(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise MailboxError("not connected")
        return self._client

    async def _command(self, name: str, *args: str, check: bool = True, **kwargs: Any) -> Any:
        client = self._require()
        try:
            response = await asyncio.wait_for(getattr(client, name)(*args, **kwargs), self.timeout)
        except (OSError, TimeoutError, aioimaplib.AioImapException) as exc:
            raise MailboxError(f"the IMAP server {self.server.safe()} stopped answering: {_reason(exc)}") from None
        if check and response.result != "OK":
            raise MailboxError(f"IMAP {name} {args[0] if args else ''} failed: {_said(response)}")
        return response


def _said(response: Any) -> str:
    lines = [line.decode("utf-8", "replace") for line in response.lines if isinstance(line, bytes)]
    return (lines[-1] if lines else str(response.result))[:200]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "no answer in time"
    if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError):  # not the errno and address
        return network_reason(exc)
    return (str(exc) or type(exc).__name__)[:200]
