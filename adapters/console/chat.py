"""The console chat: you are a customer in the terminal; `/agent ...` lets you act as an agent.

Reads lines from stdin and writes to stdout, so tests drive it as a subprocess. Choices are
numbered; typing the number presses the button. Notifications for the customer (status
changes, agent replies) are printed as they are delivered by the outbox relay.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TextIO

from adapters.console.agent import AgentConsole
from core.chat import Conversation, Inbound, Reply
from core.delivery.attachments import IncomingFile
from core.delivery.relay import Relay

USER_ID = "console-user"


class ConsoleSender:
    """Delivers notifications for console customers by printing them."""

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.chat.show(reply, notification=True)


class ConsoleChat:
    def __init__(
        self,
        conversation: Conversation,
        agent: AgentConsole,
        *,
        language: str | None = None,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
        user_id: str = USER_ID,
    ) -> None:
        self.conversation = conversation
        self.agent = agent
        self.language = language
        self.stdin = stdin
        self.stdout = stdout
        self.user_id = user_id
        self.relay: Relay | None = None
        self._choices: list[str] = []

    def show(self, reply: Reply, *, notification: bool = False) -> None:
        prefix = "🔔 " if notification else ""
        lines = [prefix + reply.text] if reply.text else []
        lines += [f"📎 {name}" for _, name in reply.files]
        choices = reply.flat_choices
        if reply.expects_text:
            # Digits typed here are text, not buttons: offer navigation as commands instead.
            commands = {"nav:back": "/back", "nav:cancel": "/cancel"}
            shown = [f"{commands[c.key]} — {c.label}" for c in choices if c.key in commands]
            if shown:
                lines.append("  " + " · ".join(shown))
        elif choices:
            self._choices = [c.key for c in choices]
            lines += [f"  [{i}] {c.label}" for i, c in enumerate(choices, 1)]
        self.write("\n".join(lines))

    def write(self, text: str) -> None:
        self.stdout.write(text + "\n\n")
        self.stdout.flush()

    async def run(self) -> None:
        if self.language:
            await self._preset_language(self.language)
        self.write("— helpdesk console — type /help, /new, or /agent help; Ctrl-D to quit —")
        await self._send(Inbound("console", self.user_id, self.user_id, "Console user",
                                 self.language, text="/start"))
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                break
            await self.line(line.rstrip("\n"))

    async def line(self, line: str) -> None:
        stripped = line.strip()
        if not stripped:
            return
        if stripped.split(" ", 1)[0] == "/agent":
            self.write(await self.agent.handle(stripped.removeprefix("/agent").strip()))
            await self._flush()
            return
        if stripped.startswith("/file "):
            await self._send_file(Path(stripped.removeprefix("/file ").strip()))
            return
        event = Inbound("console", self.user_id, self.user_id, "Console user", self.language, text=line)
        if stripped.isdigit() and 1 <= int(stripped) <= len(self._choices):
            event = Inbound("console", self.user_id, self.user_id, "Console user", self.language,
                            choice=self._choices[int(stripped) - 1])
        await self._send(event)

    async def _send_file(self, path: Path) -> None:
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
        except OSError as exc:
            self.write(f"(cannot read {path}: {exc.strerror})")
            return
        file = IncomingFile(path.name, size, lambda: asyncio.to_thread(path.read_bytes))
        await self._send(Inbound("console", self.user_id, self.user_id, "Console user",
                                 self.language, file=file))

    async def _send(self, event: Inbound) -> None:
        self._choices = []
        for reply in await self.conversation.handle(event):
            self.show(reply)
        await self._flush()

    async def _flush(self) -> None:
        if self.relay is not None:
            await self.relay.flush()

    async def _preset_language(self, language: str) -> None:
        customer = await self.conversation.services.customers.customer(
            "console", self.user_id, self.user_id, "Console user")
        if customer.locale != language:
            await self.conversation.services.customers.set_locale(customer.id, language)
