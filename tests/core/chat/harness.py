"""A scripted customer for conversation tests: says things, presses buttons, sends files."""

from __future__ import annotations

from pathlib import Path

from core.chat import Conversation, Inbound, Reply
from core.chat.drafts import DraftStore
from core.delivery.attachments import AttachmentStore, IncomingFile
from core.domain.config import HelpdeskConfig
from core.services import Services


def make_conversation(service: Services, config: HelpdeskConfig, files_dir: Path) -> Conversation:
    return Conversation(
        service, DraftStore(service.db, service.clock), AttachmentStore(files_dir), config,
        clock=service.clock,
    )


class Customer:
    def __init__(self, conversation: Conversation, user_id: str = "u1", language_code: str | None = "en",
                 platform: str = "telegram") -> None:
        self.conversation = conversation
        self.user_id = user_id
        self.language_code = language_code
        self.platform = platform
        self.last: list[Reply] = []
        self.transcript: list[Reply] = []
        self.fetches = 0

    def _event(self, **kw: object) -> Inbound:
        return Inbound(self.platform, self.user_id, f"chat-{self.user_id}", "Test Customer",
                       self.language_code, **kw)  # type: ignore[arg-type]

    async def _run(self, event: Inbound) -> list[Reply]:
        self.last = await self.conversation.handle(event)
        self.transcript += self.last
        return self.last

    async def say(self, text: str) -> list[Reply]:
        return await self._run(self._event(text=text))

    async def press(self, key: str) -> list[Reply]:
        offered = {c.key for r in self.last for c in r.flat_choices}
        assert key in offered, f"{key!r} not offered; offered: {sorted(offered)}"
        return await self.press_any(key)

    async def press_any(self, key: str) -> list[Reply]:
        """Press a button that may not be on screen (an old message, a forged payload)."""
        return await self._run(self._event(choice=key))

    async def send_file(self, name: str, data: bytes, *, declared_size: int | None = None,
                        caption: str | None = None) -> list[Reply]:
        async def fetch() -> bytes:
            self.fetches += 1
            return data

        file = IncomingFile(name, declared_size if declared_size is not None else len(data), fetch)
        return await self._run(self._event(file=file, text=caption))

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    def keys(self) -> list[str]:
        return [c.key for r in self.last for c in r.flat_choices]


async def open_ticket(c: Customer, *, subject: str = "Login fails", department: str = "technical",
                      request_type: str = "bug", priority: str | None = "high",
                      description: str = "The login page answers 500 since 9:00.") -> int:
    """Walk the whole form with buttons and typed text; returns the new ticket's number."""
    await c.say("/new")
    if "resume:restart" in c.keys():
        await c.press("resume:restart")
    await c.press(f"dep:{department}")
    await c.press(f"rt:{request_type}")
    await c.say(subject)
    if "dup:new" in c.keys():
        await c.press("dup:new")
    if priority is not None and any(k.startswith("pri:") for k in c.keys()):
        await c.press(f"pri:{priority}")
    await c.say(description)
    await c.press("att:done")
    await c.press("rev:submit")
    view = next(k for k in c.keys() if k.startswith("t:"))
    return int(view[2:])
