"""`/agent ...` in the console: the agent's side of the desk, for trying the whole loop."""

from __future__ import annotations

from core.domain.errors import DomainError
from core.domain.model import Status, Who
from core.domain.textnorm import ticket_number
from core.i18n import Translator, translator
from core.services import Services

AGENT_ID = "console-agent"


class AgentConsole:
    def __init__(self, services: Services, locale: str = "en") -> None:
        self.services = services
        self.t: Translator = translator(locale)

    def help(self) -> str:
        t = self.t
        return "\n".join([
            t._("Agent commands:"),
            "/agent queue [department]  — " + t._("open tickets, longest-waiting first"),
            "/agent show 1042           — " + t._("a ticket with its thread"),
            "/agent claim 1042          — " + t._("take a ticket"),
            "/agent reply 1042 text     — " + t._("answer the customer"),
            "/agent note 1042 text      — " + t._("internal note, not shown to the customer"),
            "/agent status 1042 STATUS  — " + t._("new, accepted, waiting, resolved or closed"),
            "/agent escalate 1042       — " + t._("pass to the next support level"),
        ])

    async def handle(self, line: str) -> str:
        t = self.t
        words = line.split(maxsplit=2)
        if not words or words[0] == "help":
            return self.help()
        command, rest = words[0], words[1:]
        try:
            if command == "queue":
                return await self._queue(rest[0] if rest else None)
            number = ticket_number(rest[0]) if rest else None
            if number is None:
                return t._("Give a ticket number, for example: /agent {command} 1042", command=command)
            agent = await self.services.desk.agent("console", AGENT_ID, "Console agent")
            who = Who.agent(agent.id)
            arg = rest[1] if len(rest) > 1 else ""
            if command == "show":
                return await self._show(number)
            if command == "claim":
                await self.services.desk.assign(number, agent.id, who)
                return t._("You now handle ticket {ticket}.", ticket=t.ticket(number))
            if command in ("reply", "note"):
                await self.services.desk.add_agent_message(agent.id, number, arg, internal=command == "note")
                return t._("Sent to the customer.") if command == "reply" else t._("Note saved.")
            if command == "status":
                try:
                    target = Status(arg.strip().lower())
                except ValueError:
                    return t._("Unknown status. Use new, accepted, waiting, resolved or closed.")
                await self.services.desk.change_status(number, target, who)
                return t._("Ticket {ticket} is now {status}.", ticket=t.ticket(number), status=target.value)
            if command == "escalate":
                ticket = await self.services.desk.escalate(number, who, arg)
                return t._("Ticket {ticket} is now at level L{tier}.", ticket=t.ticket(number),
                           tier=ticket.tier)
        except DomainError as exc:
            return t._("Not done: {reason}", reason=str(exc))
        return t._("Unknown agent command.") + "\n" + self.help()

    async def _queue(self, department: str | None) -> str:
        t = self.t
        tickets = await self.services.queries.queue(department=department, limit=30)
        if not tickets:
            return t._("The queue is empty.")
        lines = [t._("Open tickets, longest-waiting first:")]
        for x in tickets:
            lines.append(f"{t.ticket(x.number)} [{x.status}] [{x.priority}] {x.department}: {x.subject}")
        return "\n".join(lines)

    async def _show(self, number: int) -> str:
        t = self.t
        ticket = await self.services.queries.get(number)
        lines = [
            f"{t.ticket(ticket.number)} {ticket.subject}",
            f"{ticket.status} · {ticket.priority} · {ticket.department} · {ticket.request_type} · L{ticket.tier}",
            ticket.description,
        ]
        for msg in await self.services.queries.thread(ticket.id, internal=True):
            lines.append(f"[{msg.kind}] {msg.body}")
        return "\n".join(lines)
