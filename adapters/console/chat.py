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
from core.delivery.contract import Pacing
from core.delivery.relay import Relay
from core.i18n import Translator, translator

NAME = "console"
USER_ID = "console-user"


def help_lines(t: Translator) -> tuple[tuple[str, str], ...]:
    """The console's own commands, added to the customer's help."""
    return (
        ("/file PATH", t._("attach a file from this computer, by its path")),
        ("/agent help", t._("use the agents' commands (act as an agent)")),
    )


class ConsoleScreen:
    """The console channel: the terminal that shows the customer their replies, and prints
    their notifications as the outbox relay delivers them."""

    name = NAME
    pacing = Pacing()  # a terminal has no limits
    desk = None

    def __init__(self, stdout: TextIO = sys.stdout) -> None:
        self.stdout = stdout
        self.choices: list[str] = []  # the keys of the buttons last shown, by their number

    @property
    def sender(self) -> ConsoleScreen:
        return self

    def is_group(self, chat_id: str) -> bool:
        return False

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.show(reply, notification=True)

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
            self.choices = [c.key for c in choices]
            lines += [f"  [{i}] {c.label}" for i, c in enumerate(choices, 1)]
        self.write("\n".join(lines))

    def write(self, text: str) -> None:
        self.stdout.write(text + "\n\n")
        self.stdout.flush()


class ConsoleChat:
    """The customer's side of the terminal: reads lines, hands them to the conversation."""

    def __init__(
        self,
        conversation: Conversation,
        agent: AgentConsole,
        screen: ConsoleScreen,
        relay: Relay,
        *,
        language: str | None = None,
        stdin: TextIO = sys.stdin,
        user_id: str = USER_ID,
    ) -> None:
        self.conversation = conversation
        self.agent = agent
        self.screen = screen
        self.relay = relay
        self.language = language
        self.stdin = stdin
        self.user_id = user_id

    def write(self, text: str) -> None:
        self.screen.write(text)

    async def run(self) -> None:
        if self.language:
            await self._preset_language(self.language)
        t = translator(await self.locale())
        self.write(t._("— help-desk console — type /help, /new, /file PATH or /agent help; Ctrl-D to quit —"))
        await self._send(Inbound(NAME, self.user_id, self.user_id, "Console user",
                                 self.language, text="/start"))
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                break
            await self.line(line.rstrip("\n"))

    async def line(self, line: str) -> None:
        stripped = line.strip()
        if self.agent.asking:  # the agent's side asked something: this line answers it (empty: skip)
            if self.agent.takes(stripped):
                self.write(await self.agent.answer(stripped, await self.locale()))
                await self.relay.flush()
                return
            if said := self.agent.forget(await self.locale()):  # a command leaves the question, then runs
                self.write(said)
        if not stripped:
            return
        if stripped.split(" ", 1)[0] == "/agent":
            self.write(await self.agent.handle(stripped.removeprefix("/agent").strip(), await self.locale()))
            await self.relay.flush()
            return
        if stripped.startswith("/file "):
            await self._send_file(Path(stripped.removeprefix("/file ").strip()))
            return
        event = Inbound(NAME, self.user_id, self.user_id, "Console user", self.language, text=line)
        choices = self.screen.choices
        if stripped.isdigit() and 1 <= int(stripped) <= len(choices):
            event = Inbound(NAME, self.user_id, self.user_id, "Console user", self.language,
                            choice=choices[int(stripped) - 1])
        await self._send(event)

    async def _send_file(self, path: Path) -> None:
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
        except OSError as exc:
            t = translator(await self.locale())
            self.write(t._("The file {path} cannot be read: {reason}.", path=str(path),
                           reason=exc.strerror or type(exc).__name__))
            return
        file = IncomingFile(path.name, size, lambda: asyncio.to_thread(path.read_bytes))
        await self._send(Inbound(NAME, self.user_id, self.user_id, "Console user",
                                 self.language, file=file))

    async def _send(self, event: Inbound) -> None:
        self.screen.choices = []
        for reply in await self.conversation.handle(event):
            self.screen.show(reply)
        await self.relay.flush()

    async def locale(self) -> str:
        """The console user's language, which the agent's side speaks too."""
        customer = await self.conversation.services.customers.customer(
            NAME, self.user_id, self.user_id, "Console user")
        return self.conversation.locale_of(customer.locale, self.language)

    async def _preset_language(self, language: str) -> None:
        customer = await self.conversation.services.customers.customer(
            NAME, self.user_id, self.user_id, "Console user")
        if customer.locale != language:
            await self.conversation.services.customers.set_locale(customer.id, language)
