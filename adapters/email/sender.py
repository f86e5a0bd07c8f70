"""Mail out: a reply to a customer as a mail of its ticket's thread, sent over SMTP."""

from __future__ import annotations

import asyncio
import mimetypes
from pathlib import Path

from adapters.email.compose import compose
from adapters.email.ids import KEY_NAME, MessageIds
from adapters.email.smtp import Smtp
from core.chat.messages import Reply
from core.chat.quotes import shown_quote
from core.i18n import translator
from core.services import Services
from core.storage.keys import install_key


class EmailSender:
    """Delivers the outbox's notifications to e-mail customers, threaded by ticket."""

    def __init__(self, smtp: Smtp, services: Services, address: str, name: str) -> None:
        self.smtp = smtp
        self.services = services
        self.address = address
        self.name = name
        self.domain = address.rpartition("@")[2]
        self._ids: MessageIds | None = None
        self._loading = asyncio.Lock()

    async def ids(self) -> MessageIds:
        """Our message ids, signed with the installation's key (read once, made at first use)."""
        if self._ids is None:
            async with self._loading:
                if self._ids is None:
                    self._ids = MessageIds(self.domain, await install_key(self.services.db, KEY_NAME))
        return self._ids

    async def send(self, chat_id: str, reply: Reply) -> None:
        await self.deliver(chat_id, reply, automatic=None if reply.personal else "auto-generated")

    async def deliver(self, to: str, reply: Reply, *, automatic: str | None, in_reply_to: str | None = None,
                      references: tuple[str, ...] = (), root: bool = False) -> None:
        """One mail; DeliveryError as the SMTP server refused it. `root`: the first mail of its
        ticket, which every later one refers to so that mail programs keep them in one thread."""
        number = reply.ticket
        ids = await self.ids()
        subject = await self._subject(number, reply.locale)
        thread = ids.thread(number) if number is not None else None
        refs = tuple(r for r in (*references, in_reply_to) if r)
        if thread is not None and not root and thread not in refs:
            refs = (thread, *refs)
        files = [(await asyncio.to_thread(Path(path).read_bytes), name,
                  mimetypes.guess_type(name)[0] or "application/octet-stream") for path, name in reply.files]
        mail = compose(reply, sender=self.address, sender_name=self.name, to=to, subject=subject,
                       message_id=thread if root and thread else ids.new(number, shown_quote(reply)),
                       in_reply_to=in_reply_to or (thread if not root else None), references=refs,
                       automatic=automatic, files=files)
        await self.smtp.send(mail)

    async def _subject(self, number: int | None, locale: str) -> str:
        if number is None:
            return translator(locale)._("Your message to the support team")
        ticket = await self.services.queries.get(number)
        return f"[#{number}] {ticket.subject}"
