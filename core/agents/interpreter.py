"""The agents' interpreter: an agent's action in, a result in the agent's language out.

Every desk goes through `AgentDesk.run`; it knows no desk. What differs between desks is passed
in: who the agent is (`AgentIdentity`), how the desk finds other agents (`Directory`), and the
prefix its commands are typed with (for help and examples).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from core.agents import articles as kb
from core.agents import wording as w
from core.agents.actions import (
    REPORT_MAX_DAYS,
    Action,
    AgentIdentity,
    ArticleSearch,
    Assign,
    Claim,
    Escalate,
    HelpRequest,
    Incomplete,
    Mine,
    Org,
    Post,
    Queue,
    ReportRequest,
    SendArticle,
    SetPriority,
    SetStatus,
    Show,
    TimeLog,
    TimeMenu,
    TimeSkip,
)
from core.agents.handover import handover_form, missing, problems
from core.agents.handover import lines as handover_lines
from core.agents.notices import system_line
from core.agents.organisations import org_incomplete, run_org
from core.agents.quote_action import QuoteAction
from core.agents.quotes import quote_incomplete, run_quote
from core.agents.report import render_text
from core.agents.results import Done, Help, Refused, ReportView, Result, ThreadLine, TicketList, TicketRow, TicketView
from core.agents.timecard import resolved_offer, skip_time, time_menu
from core.agents.timelog import run_time, time_incomplete
from core.delivery.attachments import AttachmentStore
from core.domain.errors import DomainError
from core.domain.handover import Handover, required
from core.domain.model import MessageKind, Status, Who
from core.i18n import Translator, translator
from core.services import Services
from core.services.reports import build_report
from core.storage.models import Agent, Ticket

LIST_LIMIT = 30


class Directory(Protocol):
    """Who counts as an agent on a desk, and whom a command names."""

    async def is_agent(self, user_id: str) -> bool: ...

    async def lookup(self, ref: str) -> AgentIdentity | None:
        """The person a desk's reference names (an id, a mention); None when nobody is found."""
        ...


class AgentDesk:
    """One interpreter of agent actions, shared by every desk."""

    def __init__(self, services: Services, files: AttachmentStore | None = None) -> None:
        self.desk = services.desk  # agent actions
        self.queries = services.queries  # reading tickets
        self.db = services.db
        self.config = services.config
        self.clock = services.clock
        self.organisations = services.organisations
        self.files = files  # where files agents send are kept (a desk without files passes none)
        self.services = services  # the knowledge base's articles (core.agents.articles)

    async def run(self, who: AgentIdentity, action: Action, directory: Directory, *, prefix: str = "") -> Result:
        """Carry out `action` for `who`; domain errors come back as a `Refused` explanation."""
        t = translator(who.locale)
        if not await directory.is_agent(who.user_id):
            return Refused(t._("Only help-desk agents can do this."))
        try:
            return await self._run(t, who, action, directory, prefix)
        except DomainError as exc:
            return Refused(w.explain(t, exc, [p.code for p in self.config.priorities]))

    async def _run(self, t: Translator, who: AgentIdentity, action: Action, directory: Directory,
                   prefix: str) -> Result:
        match action:
            case HelpRequest(unknown):
                return self.help(t, prefix, unknown)
            case Incomplete():
                return self._incomplete(t, prefix, action)
            case Queue(department):
                return self._list(t, t._("Open tickets, longest-waiting first:"),
                                  await self.queries.queue(department=department, limit=LIST_LIMIT))
            case Show(number):
                return await self._show(t, number)
            case ReportRequest(days, organisation):
                return await self._report(t, days, organisation)
            case Org():
                return await run_org(t, self.organisations, action, prefix)
            case ArticleSearch(words, number):
                return await kb.search(self.services, t, words, number, prefix)
        agent = await self._agent(who)
        by = Who.agent(agent.id)
        match action:
            case Mine():
                return self._list(t, t._("Your open tickets:"),
                                  await self.queries.queue(assignee_id=agent.id, limit=LIST_LIMIT))
            case Claim(number):
                await self.desk.assign(number, agent.id, by)
                return Done(t._("You now handle ticket {ticket}.", ticket=t.ticket(number)))
            case Assign(number, ref):
                return await self._assign(t, number, ref, by, directory)
            case SetStatus(number, value):
                try:
                    target = Status(value.strip().lower())
                except ValueError:
                    return Refused(t._("Unknown status. Use new, accepted, waiting, resolved or closed."))
                await self.desk.change_status(number, target, by)
                done = t._("Ticket {ticket} is now {status}.", ticket=t.ticket(number),
                           status=w.agent_status(t, target))
                if target == Status.RESOLVED:  # and how much time did it take
                    return await resolved_offer(t, self.services, number, done, prefix)
                return Done(done)
            case SetPriority(number, value):
                ticket = await self.desk.set_priority(number, value, by)
                return Done(t._("Ticket {ticket} now has the priority {priority}.", ticket=t.ticket(number),
                                priority=w.priority_name(t, self.config, ticket.priority)))
            case Escalate(number, reason, handover):
                return await self._escalate(t, number, reason, handover, by, prefix)
            case Post():
                return await self._post(t, agent, action, prefix)
            case SendArticle(number, slug):
                return await kb.send(self.services, t, agent.id, number, slug)
            case TimeLog():
                return await run_time(t, self.services, agent.id, action)
            case TimeMenu():
                return await time_menu(t, self.services, action, prefix)
            case TimeSkip():
                return skip_time(t, action)
            case QuoteAction():
                return await run_quote(t, self.services, agent.id, action)
        raise TypeError(type(action).__name__)  # pragma: no cover - every action is matched above

    async def _agent(self, who: AgentIdentity) -> Agent:
        return await self.desk.agent(who.platform, who.user_id, who.name, who.locale)

    async def _assign(self, t: Translator, number: int, ref: str, by: Who, directory: Directory) -> Result:
        target = await directory.lookup(ref)
        if target is None:
            return Refused(t._("Nobody called “{name}” was found.", name=ref))
        if not await directory.is_agent(target.user_id):
            return Refused(t._("{name} is not a help-desk agent.", name=target.name or target.user_id))
        assignee = await self._agent(target)
        await self.desk.assign(number, assignee.id, by)
        return Done(t._("{name} now handles ticket {ticket}.", name=target.name or target.user_id,
                        ticket=t.ticket(number)))

    async def _escalate(self, t: Translator, number: int, reason: str, handover: Handover | None, by: Who,
                        prefix: str) -> Result:
        if handover is None:
            ticket = await self.queries.get(number)
            if required(ticket.tier):
                return handover_form(t, number, ticket.tier + 1, prefix)
        elif wrong := problems(t, handover.values()):
            return Refused("\n".join(wrong.values()))
        ticket = await self.desk.escalate(number, by, reason, handover)
        done = t._("Ticket {ticket} is now at level L{tier}.", ticket=t.ticket(number), tier=ticket.tier)
        if handover is not None:
            done += " " + t._("The specialists have your hand-over; the customer's contact stays the same.")
        return Done(done)

    async def _post(self, t: Translator, agent: Agent, action: Post, prefix: str) -> Result:
        stored = []
        for file in action.files:
            if self.files is None:
                return Refused(t._("Files cannot be sent from here."))
            stored.append(await self.files.receive(file))
        contact = None if action.internal else await self.desk.contact_for(action.number, agent.id)
        await self.desk.add_agent_message(agent.id, action.number, action.body,
                                          internal=action.internal or action.aside or contact is not None,
                                          attachments=stored, via=action.via, to_agent=contact.id if contact else None)
        if contact is not None:
            return Done(t._("Kept as an internal note for {name}, the customer's contact on ticket {ticket}, who "
                            "has been told; the customer does not see it. To answer the customer yourself, take "
                            "the ticket: {example}", name=contact.display_name or contact.platform_user_id,
                            ticket=t.ticket(action.number), example=f"{prefix}claim {action.number}"))
        if action.aside and not action.internal:
            return Done(t._("Kept as an internal note on ticket {ticket}: replies here do not reach the customer. "
                            "To answer the customer, write in the ticket's own thread.",
                            ticket=t.ticket(action.number)))
        return Done(t._("Note saved.") if action.internal else t._("Sent to the customer."))

    def _list(self, t: Translator, title: str, tickets: list[Ticket]) -> TicketList:
        rows = tuple(TicketRow(x.number, x.subject, w.agent_status(t, x.status),
                               w.priority_name(t, self.config, x.priority),
                               w.department_name(t, self.config, x.department)) for x in tickets)
        return TicketList(title, rows, t._("No open tickets."))

    async def _show(self, t: Translator, number: int) -> TicketView:
        ticket = await self.queries.get(number)
        zone = ZoneInfo(self.config.calendar_of(ticket.department).timezone)
        summary = " · ".join([w.agent_status(t, ticket.status), w.priority_name(t, self.config, ticket.priority),
                              w.department_name(t, self.config, ticket.department),
                              w.request_type_name(t, self.config, ticket.request_type), f"L{ticket.tier}"])
        thread = tuple(ThreadLine(w.kind_name(t, m.kind), system_line(t, m.body) if m.kind == MessageKind.SYSTEM
                                  else m.body, m.kind == MessageKind.NOTE)
                       for m in await self.queries.thread(ticket.id, internal=True))
        handed = await self.desk.handover_of(number)
        handover: tuple[str, ...] = ()
        if handed is not None:
            record, author = handed
            name = (author.display_name or author.platform_user_id) if author else t._("Someone")
            handover = (t._("Hand-over to L{tier} by {name}:", tier=record.tier, name=name),
                        *handover_lines(t, {"checked": record.checked, "reproduce": record.reproduce,
                                            "told": record.told}))
        return TicketView(ticket.number, ticket.subject, summary,
                          t._("Opened: {when}", when=t.datetime(ticket.created_at, zone)), ticket.description, thread,
                          handover)

    async def _report(self, t: Translator, days: int, organisation: str = "") -> ReportView:
        end = self.clock()
        report = await build_report(self.db, self.config, end - timedelta(days=days), end,
                                    organisation=organisation or None)
        return ReportView(render_text(t, self.config, report, self.services.knowledge))

    def help(self, t: Translator, prefix: str, unknown: str = "") -> Help:
        intro = t._("Unknown agent command: {command}", command=unknown) if unknown else t._("Agent commands:")
        return Help(intro, w.usage(t, prefix),
                    t._("Departments: {codes}", codes=", ".join(d.code for d in self.config.departments)))

    def _incomplete(self, t: Translator, prefix: str, action: Incomplete) -> Refused:
        command, given = action.command, action.given
        if command == "org":
            return org_incomplete(t, prefix, action)
        if command.startswith("time"):
            return time_incomplete(t, prefix, action)
        if command == "quote":
            return quote_incomplete(t, prefix, action.needs, action.given)
        match action.needs:
            case "handover":
                return Refused(missing(t, given, f"{prefix}escalate 1042 checked: … | reproduce: … | told: …"))
            case "number" if given:
                return Refused(t._("“{given}” is not a ticket number. For example: {example}", given=given,
                                   example=f"{prefix}{command} 1042"))
            case "number":
                return Refused(t._("Give a ticket number, for example: {example}", example=f"{prefix}{command} 1042"))
            case "no_more":
                typed = f"{prefix}{command}"
                form = next((u for u, _ in w.usage(t, prefix) if u == typed or u.startswith(typed + " ")), typed)
                return Refused(t._("Unexpected words after the command: “{extra}”. Usage: {usage}",
                                   extra=given, usage=form))
            case "status":
                return Refused(t._("Unknown status. Use new, accepted, waiting, resolved or closed."))
            case "priority":
                return Refused(t._("Give a priority, one of: {codes}.",
                                   codes=", ".join(p.code for p in self.config.priorities)))
            case "agent":
                return Refused(t._("Name the agent, for example: {example}", example=f"{prefix}{command} 1042 @agent"))
            case "words":
                return Refused(t._("Give a few words to search for, for example: {example}",
                                   example=f"{prefix}kb 1042 password"))
            case "article":
                return Refused(t._("Name the article, for example: {example}",
                                   example=f"{prefix}kb send 1042 reset-password"))
            case "organisation":
                return Refused(t._("Name the organisation, for example: {example}",
                                   example=f'{prefix}{command} 30 org "Acme Corp"'))
        return Refused(t._("Give a number of days from 1 to {limit}, for example: {example}",
                           limit=t.number(REPORT_MAX_DAYS),
                           example=f"{prefix}{command} 7"))
