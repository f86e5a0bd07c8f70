"""`/helpdesk` for agents: mine, queue [department], show 1042, stats."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from adapters.slack.agents import AgentDirectory
from adapters.slack.mrkdwn import escape
from core.chat.views import agent_status as desk_status
from core.domain.config import HelpdeskConfig
from core.domain.errors import DomainError
from core.domain.textnorm import ticket_number
from core.i18n import Translator, translator
from core.services import Services
from core.services.reports import build_report, render_text
from core.storage.models import Ticket


def explain_for_agent(t: Translator, error: DomainError) -> str:
    p = error.params
    match error.code:
        case "illegal_transition":
            return t._("Ticket #{number} cannot go from “{old}” to “{new}”.", number=p["number"],
                       old=desk_status(t, p["current"]), new=desk_status(t, p["target"]))
        case "ticket_not_found":
            return t._("There is no ticket #{number}.", number=p["number"])
        case "top_tier_reached":
            return t._("Ticket #{number} is already at L3.", number=p["number"])
        case "empty_field":
            return t._("An empty message cannot be sent.")
        case "field_too_long":
            return t._("The message is too long: at most {limit} characters.", limit=p["limit"])
        case "unknown_department":
            return t._("There is no department “{department}”.", department=p["department"])
        case "file_too_large" | "file_type_not_allowed" | "empty_file" | "file_unavailable":
            return t._("A file could not be taken (too large, empty, unreadable or of a type we do not accept).")
        case _:
            return t._("That did not work.")


class DeskCommands:
    def __init__(self, services: Services, config: HelpdeskConfig, agents: AgentDirectory) -> None:
        self.services = services
        self.config = config
        self.agents = agents

    async def run(self, user: str, text: str) -> str:
        name, locale = await self.agents.profile(user)
        t = translator(locale)
        if not await self.agents.is_agent(user):
            return t._("Only help-desk agents can do this.")
        words = text.split()
        command = words[0].lower() if words else "help"
        try:
            if command == "mine":
                agent = await self.services.desk.agent("slack", user, name, locale)
                return self._list(t, t._("Your open tickets:"), await self.services.queries.queue(assignee_id=agent.id))
            if command == "queue":
                department = words[1] if len(words) > 1 else None
                return self._list(t, t._("Open tickets, longest-waiting first:"),
                                  await self.services.queries.queue(department=department))
            if command == "show" and len(words) > 1 and (number := ticket_number(words[1])) is not None:
                return await self._show(t, number)
            if command == "stats":
                return await self._stats(t)
        except DomainError as exc:
            return explain_for_agent(t, exc)
        return "\n".join([
            t._("Usage:"),
            "`/helpdesk mine` — " + t._("your open tickets"),
            "`/helpdesk queue [department]` — " + t._("open tickets, longest-waiting first"),
            "`/helpdesk show 1042` — " + t._("one ticket"),
            "`/helpdesk stats` — " + t._("the last 30 days: tickets, response times, SLA, satisfaction"),
            t._("Departments: {codes}", codes=", ".join(d.code for d in self.config.departments)),
        ])

    def _list(self, t: Translator, title: str, tickets: list[Ticket]) -> str:
        if not tickets:
            return t._("No open tickets.")
        lines = [title]
        for x in tickets[:30]:
            pri = self.config.priority(x.priority)
            lines.append(f"• *#{x.number}* {escape(x.subject)} — {desk_status(t, x.status)}, "
                         f"{pri.name.get(t.locale) if pri else x.priority}, {x.department}")
        return "\n".join(lines)

    async def _show(self, t: Translator, number: int) -> str:
        ticket = await self.services.queries.get(number)
        zone = ZoneInfo(self.config.calendar_of(ticket.department).timezone)
        lines = [f"*#{ticket.number}* {escape(ticket.subject)}",
                 f"{desk_status(t, ticket.status)} · {ticket.priority} · {ticket.department} · L{ticket.tier}",
                 t._("Opened: {when}", when=t.datetime(ticket.created_at, zone)),
                 escape(ticket.description[:1500])]
        for msg in (await self.services.queries.thread(ticket.id, internal=True))[-10:]:
            lines.append(f"_{msg.kind}_: {escape(msg.body[:500])}")
        return "\n".join(lines)

    async def _stats(self, t: Translator, days: int = 30) -> str:
        end = self.services.clock()
        report = await build_report(self.services.db, self.config, end - timedelta(days=days), end)
        return "```" + escape(render_text(t, self.config, report)) + "```"
