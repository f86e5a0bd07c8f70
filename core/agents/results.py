"""What the agents' interpreter answers: texts already in the agent's language, and lists and
ticket views as data that each desk lays out in its own markup (`as_text` is the plain layout)."""

from __future__ import annotations

from dataclasses import dataclass

from core.agents.actions import Action
from core.agents.handover import HandoverForm


@dataclass(frozen=True, slots=True)
class Done:
    """The action was carried out; `text` says what changed."""

    text: str


@dataclass(frozen=True, slots=True)
class Refused:
    """Nothing was changed; `text` says why."""

    text: str


@dataclass(frozen=True, slots=True)
class TicketRow:
    number: int
    subject: str
    status: str  # the names in the agent's language
    priority: str
    department: str


@dataclass(frozen=True, slots=True)
class TicketList:
    title: str
    rows: tuple[TicketRow, ...]
    empty: str  # what to say when there are no rows


@dataclass(frozen=True, slots=True)
class ThreadLine:
    kind: str  # who wrote it, in the agent's language (customer, agent, internal note, system)
    body: str
    internal: bool


@dataclass(frozen=True, slots=True)
class TicketView:
    number: int
    subject: str
    summary: str  # status · priority · department · request type · level
    opened: str
    description: str
    thread: tuple[ThreadLine, ...]
    handover: tuple[str, ...] = ()  # its hand-over to L3, when it has one: a title, then the fields


@dataclass(frozen=True, slots=True)
class ReportView:
    text: str  # a fixed-width table: desks show it as preformatted text


@dataclass(frozen=True, slots=True)
class Details:
    """Something shown as a title and its lines (an organisation, the list of them)."""

    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Help:
    intro: str
    usage: tuple[tuple[str, str], ...]  # (the command as typed on this desk, what it does)
    footer: str


@dataclass(frozen=True, slots=True)
class ArticleRow:
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class ArticleList:
    """Articles found for an agent: `number` is the ticket they may be sent into (a desk shows a
    button per article to send it), None when no ticket was named; `hint` says how to send one."""

    title: str
    rows: tuple[ArticleRow, ...]
    number: int | None
    hint: str
    empty: str
    send: str  # a send button's label


@dataclass(frozen=True, slots=True)
class Pick:
    """One button of an offer: its label and the action it carries (a desk puts
    `core.agents.actions.encode` of it on the button)."""

    label: str
    action: Action


@dataclass(frozen=True, slots=True)
class Offer:
    """What was done, if anything (`done`), and a question answered by a press: the picks, row by
    row, and `hint`, how to type any other answer. `number` is the ticket it is about; `duration`
    says a typed duration answers it (a desk without buttons asks for one), `skip` the pick that
    answers nothing (None when there is none)."""

    done: str
    question: str
    picks: tuple[tuple[Pick, ...], ...]
    hint: str
    number: int
    duration: bool = False
    skip: Pick | None = None


Result = (Done | Refused | TicketList | TicketView | ReportView | Details | Help | ArticleList | Offer
          | HandoverForm)


def as_text(result: Result) -> str:
    """A result as plain text, for desks without markup."""
    match result:
        case Done(text) | Refused(text) | ReportView(text):
            return text
        case TicketList(title, rows, empty):
            if not rows:
                return empty
            return "\n".join([title, *(f"#{r.number} {r.subject} — {r.status}, {r.priority}, {r.department}"
                                       for r in rows)])
        case TicketView():
            lines = [f"#{result.number} {result.subject}", result.summary, result.opened, *result.handover,
                     result.description]
            return "\n".join(lines + [f"[{m.kind}] {m.body}" for m in result.thread])
        case ArticleList(title, rows, _, hint, empty, _):
            return "\n".join([title, *(f"{r.slug} — {r.title}" for r in rows), hint]) if rows else empty
        case Details(title, lines):
            return "\n".join([title, *lines])
        case Offer():
            return "\n".join(part for part in (result.done, result.question, result.hint) if part)
        case HandoverForm():
            return "\n".join([result.intro, result.how])
        case Help(intro, usage, footer):
            width = max((len(u) for u, _ in usage), default=0)
            return "\n".join([intro, *(f"{u.ljust(width)}  — {what}" for u, what in usage), footer])
    raise TypeError(type(result).__name__)  # pragma: no cover - the union is closed
