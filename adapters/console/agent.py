"""`/agent ...` in the console: the agent's side of the desk, for trying the whole loop.

The commands are the agents' core's own (core.agents): this module only names the console's
one agent and prints the results as plain text. A hand-over to L3 (`/agent escalate 1042` at
L2) is asked one question after another: the next lines are its answers.
"""

from __future__ import annotations

from core.agents import AgentDesk, AgentIdentity, Escalate, as_text, parse
from core.agents.handover import HandoverForm, Questions, step
from core.i18n import translator
from core.services import Services

AGENT_ID = "console-agent"
PREFIX = "/agent "
CANCEL = "/cancel"


class ConsoleDirectory:
    """The console has one agent, the person at the terminal; nobody else can be named."""

    async def is_agent(self, user_id: str) -> bool:
        return True

    async def lookup(self, ref: str) -> AgentIdentity | None:
        return None


class AgentConsole:
    def __init__(self, services: Services) -> None:
        self.agents = AgentDesk(services)
        self.directory = ConsoleDirectory()
        self.asking: Questions | None = None  # the hand-over being asked for, if any

    def who(self, locale: str) -> AgentIdentity:
        return AgentIdentity("console", AGENT_ID, "Console agent", locale)

    async def handle(self, line: str, locale: str) -> str:
        """One `/agent` line, answered in `locale`: the console user's language, whichever side
        of the desk they are playing."""
        result = await self.agents.run(self.who(locale), parse(line), self.directory, prefix=PREFIX)
        if isinstance(result, HandoverForm):
            self.asking = Questions(result)
            return self.asking.start(translator(locale), CANCEL)
        return as_text(result)

    async def answer(self, line: str, locale: str) -> str:
        """The next answer to the hand-over's questions; the last one escalates."""
        assert self.asking is not None
        t = translator(locale)
        number = self.asking.form.number
        self.asking, said, handover = step(t, self.asking, line)
        if handover is None:
            return said
        return as_text(await self.agents.run(self.who(locale), Escalate(number, "", handover), self.directory,
                                             prefix=PREFIX))
