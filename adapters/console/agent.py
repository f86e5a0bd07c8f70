"""`/agent ...` in the console: the agent's side of the desk, for trying the whole loop.

The commands are the agents' core's own (core.agents): this module only names the console's
one agent and prints the results as plain text.
"""

from __future__ import annotations

from core.agents import AgentDesk, AgentIdentity, as_text, parse
from core.services import Services

AGENT_ID = "console-agent"
PREFIX = "/agent "


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

    async def handle(self, line: str, locale: str) -> str:
        """One `/agent` line, answered in `locale`: the console user's language, whichever side
        of the desk they are playing."""
        who = AgentIdentity("console", AGENT_ID, "Console agent", locale)
        return as_text(await self.agents.run(who, parse(line), self.directory, prefix=PREFIX))
