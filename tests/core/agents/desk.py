"""What the agents' core tests share: two agents, a desk on which everyone is an agent and
nobody can be named, and a typed command run as one of them (the `agents` fixture is in conftest)."""

from __future__ import annotations

from core.agents import AgentDesk, AgentIdentity, Result, parse

EVA = AgentIdentity("desk", "eva", "Eva", "en")
JANA = AgentIdentity("desk", "jana", "Jana", "cs")


class People:
    async def is_agent(self, user_id: str) -> bool:
        return True

    async def lookup(self, ref: str) -> AgentIdentity | None:
        return None


async def run(agents: AgentDesk, line: str, who: AgentIdentity = EVA) -> Result:
    return await agents.run(who, parse(line), People(), prefix="/agent ")
