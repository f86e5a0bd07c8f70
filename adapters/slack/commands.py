"""Agents in Slack: `/helpdesk` and the card's controls go to the agents' core (core.agents);
this module only turns Slack's shapes into actions and lays the results out in mrkdwn."""

from __future__ import annotations

from adapters.slack.agents import AgentDirectory
from adapters.slack.blocks import Block, article_blocks, offer_blocks
from adapters.slack.inbound import as_typed, to_plain
from adapters.slack.mrkdwn import escape
from core.agents import (
    Action,
    AgentDesk,
    AgentIdentity,
    ArticleList,
    Details,
    Done,
    Escalate,
    Help,
    Offer,
    Post,
    Refused,
    ReportView,
    Result,
    TicketList,
    TicketView,
    parse,
)
from core.agents.handover import HandoverForm
from core.domain.handover import Handover

PLATFORM = "slack"
PREFIX = "/helpdesk "
THREAD_LINES = 10  # the end of a thread is what an agent needs in an ephemeral answer


def render(result: Result) -> str:
    """A result in Slack mrkdwn: every text that is not ours escaped."""
    match result:
        case Done(text) | Refused(text):
            return escape(text)
        case ReportView(text):
            return "```" + escape(text) + "```"
        case TicketList(title, rows, empty):
            if not rows:
                return escape(empty)
            return "\n".join([escape(title), *(f"• *#{r.number}* {escape(r.subject)} — {escape(r.status)}, "
                                               f"{escape(r.priority)}, {escape(r.department)}" for r in rows)])
        case TicketView():
            lines = [f"*#{result.number}* {escape(result.subject)}", escape(result.summary), escape(result.opened),
                     escape(result.description[:1500])]
            lines += [f"_{escape(m.kind)}_: {escape(m.body[:500])}" for m in result.thread[-THREAD_LINES:]]
            return "\n".join(lines)
        case ArticleList(title, rows, _, hint, empty, _):
            if not rows:
                return escape(empty)
            return "\n".join([escape(title), *(f"• `{escape(r.slug)}` — {escape(r.title)}" for r in rows),
                              escape(hint)])
        case Details(title, lines):
            return "\n".join([f"*{escape(title)}*", *(escape(line) for line in lines)])
        case Help(intro, usage, footer):
            return "\n".join([escape(intro), *(f"`{u}` — {escape(what)}" for u, what in usage), escape(footer)])
        case Offer(done, question, _, hint):
            return "\n".join([*([escape(done)] if done else []), f"*{escape(question)}*", escape(hint)])
        case HandoverForm():  # a modal asks for it; this is said when the modal cannot open
            return f"{escape(result.intro)}\n{escape(result.how)}"
    raise TypeError(type(result).__name__)  # pragma: no cover - the union is closed


class DeskCommands:
    """One Slack user's actions, as the agents' core sees them."""

    def __init__(self, agents: AgentDesk, directory: AgentDirectory) -> None:
        self.agents = agents
        self.directory = directory

    async def who(self, user: str) -> AgentIdentity:
        """The user as the agents' core sees them (their Slack profile, cached: ask before a
        transaction, not inside one)."""
        name, locale = await self.directory.profile(user)
        return AgentIdentity(PLATFORM, user, name, locale)

    async def act(self, who: AgentIdentity, action: Action) -> Result:
        return await self.agents.run(who, action, self.directory, prefix=PREFIX)

    async def run(self, user: str, text: str) -> str:
        """`/helpdesk <text>` (Slack escapes mentions in it: see the manifest's should_escape)."""
        return (await self.answer(user, text))[0]

    async def answer(self, user: str, text: str) -> tuple[str, list[Block] | None]:
        """`/helpdesk <text>` answered: mrkdwn, and blocks when it has buttons (the articles
        found for a ticket, each with a button that sends it; the time spent on a ticket resolved)."""
        return shown(await self.result(user, text))

    async def result(self, user: str, text: str) -> Result:
        """`/helpdesk <text>` carried out."""
        if text.split(maxsplit=1)[:1] in (["org"], ["report"], ["stats"], ["time"], ["quote"]):  # names, notes
            text = as_typed(text)
        action = parse(text)
        if isinstance(action, Post):  # a reply typed here reaches the customer as plain text
            action = Post(action.number, to_plain(action.body), action.internal, via=action.via)
        elif isinstance(action, Escalate) and action.handover is not None:  # typed: its fields as plain text
            action = Escalate(action.number, action.reason, Handover(
                *(to_plain(v) for v in action.handover.values().values())))
        return await self.act(await self.who(user), action)


def shown(result: Result) -> tuple[str, list[Block] | None]:
    """A result as an ephemeral answer: mrkdwn, and blocks when it has buttons."""
    said = render(result)
    if isinstance(result, Offer):
        return said, offer_blocks(said, result)
    return said, article_blocks(said, result) if isinstance(result, ArticleList) and result.rows else None
