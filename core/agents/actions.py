"""What an agent can ask of the desk, as typed actions; command lines and button keys are
parsed here and nowhere else.

A desk turns its own shapes into these: a typed line (`claim 1042`, `status 1042 resolved`) goes
through `parse`; a button press through `button` (a desk that names its controls itself) or
`decode` (a key made by `encode`, short enough for the 64 bytes of a chat button's data).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.agents.handover import parse_handover
from core.agents.quote_action import QuoteAction, parse_quote
from core.agents.timekeys import TIME_KINDS, TimeLog, TimeMenu, TimeSkip, time_button, time_key
from core.delivery.attachments import IncomingFile
from core.domain.handover import Handover
from core.domain.textnorm import ticket_number
from core.domain.timelog import parse_duration

KEY_PREFIX = "ag"  # a button key of the agents' desk; customer keys never start with it
KEY_LIMIT = 64  # bytes: the smallest button payload among the desks
REPORT_DAYS = 30
REPORT_MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class AgentIdentity:
    """An agent as their desk knows them: where they work, their id there, name and language."""

    platform: str
    user_id: str
    name: str = ""
    locale: str = "en"


@dataclass(frozen=True, slots=True)
class Claim:
    number: int


@dataclass(frozen=True, slots=True)
class Assign:
    number: int
    assignee: str  # how the desk names the agent: an id or a mention, resolved by its Directory


@dataclass(frozen=True, slots=True)
class SetStatus:
    number: int
    status: str  # as typed or chosen; checked by the interpreter


@dataclass(frozen=True, slots=True)
class SetPriority:
    number: int
    priority: str


@dataclass(frozen=True, slots=True)
class Escalate:
    number: int
    reason: str = ""
    handover: Handover | None = None  # needed to reach L3 (core.agents.handover)


@dataclass(frozen=True, slots=True)
class Post:
    """A reply to the customer, or an internal note, with files the desk received."""

    number: int
    body: str
    internal: bool = False
    files: tuple[IncomingFile, ...] = ()
    via: str = ""  # the desk that shows the message already (it is not echoed back there)
    # Written where the customer is not answered (under the hand-over in the top level's place):
    # kept as a note, for the ticket's contact when someone else wrote it.
    aside: bool = False


@dataclass(frozen=True, slots=True)
class Queue:
    department: str | None = None


@dataclass(frozen=True, slots=True)
class Mine:
    pass


@dataclass(frozen=True, slots=True)
class Show:
    number: int


@dataclass(frozen=True, slots=True)
class ReportRequest:
    days: int = REPORT_DAYS
    organisation: str = ""  # only the tickets of this organisation's people, when named


@dataclass(frozen=True, slots=True)
class Org:
    """The agents' management of organisations. `op` is one of ORG_OPS; `value` a sharing mode,
    a domain, an address or a ticket (`#1042`); `option` `replies`/`noreplies` after a sharing
    mode, `primary`/`member` after a member's address."""

    op: str
    name: str = ""
    value: str = ""
    option: str = ""


@dataclass(frozen=True, slots=True)
class HelpRequest:
    unknown: str = ""  # the command that was not understood, if that is why help is shown


@dataclass(frozen=True, slots=True)
class ArticleSearch:
    """`kb [1042] words`: the knowledge base's articles, in the language of ticket 1042's customer
    when a ticket is named (or is the thread's), else in the agent's."""

    words: str
    number: int | None = None


@dataclass(frozen=True, slots=True)
class SendArticle:
    """`kb send 1042 slug`: the article into ticket 1042's conversation, in its customer's language."""

    number: int
    slug: str


@dataclass(frozen=True, slots=True)
class Incomplete:
    """A command that cannot be carried out as typed: `needs` is what is missing or wrong
    ("number", "status", "priority", "agent", "days", "duration", "entry", "handover" with the field
    missing as `given`; for `org`: "organisation", "sharing",
    "domain", "address", or "org" for words it does not take), or "no_more" when words follow a
    complete command; `given` is what was typed in its place (empty when nothing was)."""

    command: str
    needs: str
    given: str = ""


Action = (Claim | Assign | SetStatus | SetPriority | Escalate | Post | Queue | Mine | Show | ReportRequest | Org
          | TimeLog | TimeMenu | TimeSkip | QuoteAction | HelpRequest | ArticleSearch | SendArticle | Incomplete)

ORG_OPS = ("list", "new", "show", "sharing", "approvers", "domain_add", "domain_remove", "member_add",
           "member_remove", "delete")
SHARING_MODES = ("none", "primary", "everybody")
_ORG_WORDS = frozenset({"sharing", "approvers", "domain", "member", "delete"})  # what ends an unquoted name
# Quotes as phones and keyboards type them: a name in any of them is one word.
_QUOTES = str.maketrans({c: '"' for c in "\u201c\u201d\u201e\u00ab\u00bb"})

_WITH_NUMBER = frozenset({"show", "claim", "assign", "reply", "note", "status", "priority", "escalate"})
_NUMBER_ONLY = frozenset({"show", "claim"})
_ALIASES = {"stats": "report"}


def parse(line: str) -> Action:
    """An agent's command line (without the desk's own prefix such as a slash command's name)."""
    words = line.strip().split(maxsplit=2)
    if not words:
        return HelpRequest()
    command = words[0].lower().lstrip("/")
    command = _ALIASES.get(command, command)
    rest = words[1:]
    if command == "help":
        return HelpRequest()
    if command == "org":
        return _org(words_of(line.strip().split(maxsplit=1)[1] if len(words) > 1 else ""))
    if command == "queue":
        if len(rest) > 1:
            return Incomplete(command, "no_more", rest[1])
        return Queue(rest[0] if rest else None)
    if command == "mine":
        return Incomplete(command, "no_more", " ".join(rest)) if rest else Mine()
    if command == "report":
        return _report(rest)
    if command == "kb":
        return _kb(rest)
    if command == "time":
        return _time(line.strip().split(maxsplit=1)[1] if rest else "")
    if command == "quote":
        found = parse_quote(line.strip().split(maxsplit=1)[1] if rest else "")
        return found if isinstance(found, QuoteAction) else Incomplete("quote", *found)
    if command not in _WITH_NUMBER:
        return HelpRequest(unknown=command)
    if not rest:
        return Incomplete(command, "number")
    number = ticket_number(rest[0])
    if number is None:
        return Incomplete(command, "number", rest[0])
    arg = rest[1].strip() if len(rest) > 1 else ""
    if arg and command in _NUMBER_ONLY:
        return Incomplete(command, "no_more", arg)
    match command:
        case "show":
            return Show(number)
        case "claim":
            return Claim(number)
        case "escalate":
            handover = parse_handover(arg)
            if isinstance(handover, str):
                return Incomplete(command, "handover", handover)
            return Escalate(number, "", handover) if handover else Escalate(number, arg)
        case "reply" | "note":
            return Post(number, arg, internal=command == "note")
    # status, priority and assign take one word after the number
    value, *extra = arg.split(maxsplit=1) or [""]
    if extra:
        return Incomplete(command, "no_more", extra[0])
    match command:
        case "status":
            return SetStatus(number, value.lower()) if value else Incomplete(command, "status")
        case "priority":
            return SetPriority(number, value.lower()) if value else Incomplete(command, "priority")
        case _:  # assign
            return Assign(number, value) if value else Incomplete(command, "agent")


def _kb(rest: list[str]) -> Action:
    """`kb words`, `kb 1042 words`, `kb send 1042 slug`."""
    if not rest:
        return Incomplete("kb", "words")
    if rest[0].lower() != "send":
        number = ticket_number(rest[0])
        if number is None:
            return ArticleSearch(" ".join(rest))
        return ArticleSearch(rest[1], number) if len(rest) > 1 else Incomplete("kb", "words")
    given, *more = rest[1].split(maxsplit=1) if len(rest) > 1 else [""]
    number = ticket_number(given) if given else None
    if number is None:
        return Incomplete("kb send", "number", given)
    slug, *extra = more[0].split(maxsplit=1) if more else [""]
    if extra:
        return Incomplete("kb send", "no_more", extra[0])
    return SendArticle(number, slug.lower()) if slug else Incomplete("kb send", "article")


def _time(text: str) -> Action:
    """`time 1042`, `time 1042 DURATION [ACTIVITY|-] [note]`, `time fix ENTRY DURATION`, `time delete ENTRY`."""
    first, *more = text.split(maxsplit=1) or [""]
    op = first.lower() if first.lower() in ("fix", "delete") else ""
    if op:
        first, *more = more[0].split(maxsplit=1) if more else [""]
    number = ticket_number(first) if first else None
    if number is None:
        return Incomplete(f"time {op}".strip(), "entry" if op else "number", first)
    if op == "delete":
        return Incomplete("time delete", "no_more", more[0]) if more else TimeLog("delete", number)
    if not more:
        return Incomplete("time fix", "duration") if op else TimeLog("list", number)
    given, *tail = more[0].split(maxsplit=1)
    minutes = parse_duration(given)
    if minutes is None:
        return Incomplete(f"time {op}".strip(), "duration", given)
    if op:
        return Incomplete("time fix", "no_more", tail[0]) if tail else TimeLog("fix", number, minutes)
    activity, *note = tail[0].split(maxsplit=1) if tail else [""]
    return TimeLog("log", number, minutes, "" if activity == "-" else activity, note[0].strip() if note else "")


def _report(rest: list[str]) -> Action:
    """`report [days] [org NAME]`."""
    if not rest:
        return ReportRequest()
    if rest[0].lower() == "org":
        name = " ".join(w for w, _ in words_of(rest[1])) if len(rest) > 1 else ""
        return ReportRequest(REPORT_DAYS, name) if name else Incomplete("report", "organisation")
    days = ticket_number(rest[0])
    if days is None or not 1 <= days <= REPORT_MAX_DAYS:
        return Incomplete("report", "days", rest[0])
    if len(rest) < 2:
        return ReportRequest(days)
    first, _, name = rest[1].partition(" ")
    if first.lower() != "org":
        return Incomplete("report", "no_more", rest[1])
    name = " ".join(w for w, _ in words_of(name))
    return ReportRequest(days, name) if name else Incomplete("report", "organisation")


def words_of(text: str) -> list[tuple[str, bool]]:
    """The words of a line, each with whether it was quoted: a quoted part (a name with spaces,
    "Acme Corp") is one word. An unclosed quote runs to the end of the line."""
    found: list[tuple[str, bool]] = []
    for i, part in enumerate(text.translate(_QUOTES).split('"')):
        if i % 2:
            if part.strip():
                found.append((" ".join(part.split()), True))
        else:
            found += [(w, False) for w in part.split()]
    return found


def _org(words: list[tuple[str, bool]]) -> Action:
    """`org`, `org new NAME [MODE]`, `org NAME [sharing MODE [replies|noreplies] | domain add|remove
    DOMAIN | member add ADDRESS|#1042 [primary] | member remove ADDRESS|#1042 | delete]`. An unquoted name
    runs up to the first of those words."""
    if not words:
        return Org("list")
    if not words[0][1] and words[0][0].lower() == "new":
        rest = words[1:]
        mode = ""
        if len(rest) > 1 and not rest[-1][1] and rest[-1][0].lower() in SHARING_MODES:
            mode = rest.pop()[0].lower()
        name = " ".join(w for w, _ in rest)
        return Org("new", name, mode) if name else Incomplete("org", "organisation")
    # A quoted name is the first word alone; an unquoted one runs up to an operation's word.
    cut = 1 if words[0][1] else next(
        (i for i, (w, quoted) in enumerate(words) if i and not quoted and w.lower() in _ORG_WORDS), len(words))
    name = " ".join(w for w, _ in words[:cut])
    tail = [w for w, _ in words[cut:]]
    if not tail:
        return Org("show", name)
    what, args = tail[0].lower(), tail[1:]
    if what not in _ORG_WORDS:
        return Incomplete("org", "org", " ".join(tail))
    if what == "delete":
        return Incomplete("org", "no_more", " ".join(args)) if args else Org("delete", name)
    if what == "approvers":
        return Org("approvers", name, args[0].lower()) if len(args) == 1 else Incomplete(
            "org", "approvers", " ".join(args))
    if what == "sharing":
        if not args:
            return Incomplete("org", "sharing")
        option = args[1].lower() if len(args) > 1 else ""
        if option not in ("", "replies", "noreplies") or len(args) > 2:
            return Incomplete("org", "org", " ".join(args[1:]))
        return Org("sharing", name, args[0].lower(), option)
    verb = args[0].lower() if args else ""
    if verb not in ("add", "remove"):
        return Incomplete("org", "org", " ".join(tail))
    if len(args) < 2:
        return Incomplete("org", "domain" if what == "domain" else "address")
    value, extra = args[1], [a.lower() for a in args[2:]]
    if what == "member" and verb == "add" and extra in ([], ["primary"], ["member"]):
        return Org("member_add", name, value, extra[0] if extra else "member")
    if extra:
        return Incomplete("org", "no_more", " ".join(args[2:]))
    return Org(f"{what}_{verb}", name, value)


def button(kind: str, number: int, value: str = "") -> Action | None:
    """A card's control: its kind (claim, assign, status, priority, escalate), ticket and choice;
    `kbsend` with an article's slug: send it into the ticket (the buttons of `kb` results); the
    time logged by pressing (core.agents.timekeys)."""
    if kind in TIME_KINDS:
        return time_button(kind, number, value)
    match kind:
        case "kbsend" if value:
            return SendArticle(number, value)
        case "claim":
            return Claim(number)
        case "escalate":
            return Escalate(number)
        case "status":
            return SetStatus(number, value)
        case "priority":
            return SetPriority(number, value)
        case "assign" if value:
            return Assign(number, value)
    return None


def encode(action: Action) -> str:
    """The button key of a card's control (for desks whose buttons carry one string)."""
    match action:
        case Claim(number):
            key = f"{KEY_PREFIX}:claim:{number}"
        case Escalate(number):
            key = f"{KEY_PREFIX}:escalate:{number}"
        case SetStatus(number, status):
            key = f"{KEY_PREFIX}:status:{number}:{status}"
        case SetPriority(number, priority):
            key = f"{KEY_PREFIX}:priority:{number}:{priority}"
        case Assign(number, assignee):
            key = f"{KEY_PREFIX}:assign:{number}:{assignee}"
        case SendArticle(number, slug):
            key = f"{KEY_PREFIX}:kbsend:{number}:{slug}"
        case TimeLog("log", _, _, _, "") | TimeMenu() | TimeSkip():
            key = f"{KEY_PREFIX}:{time_key(action)}"
        case _:
            raise ValueError(f"{type(action).__name__} is not a button")
    if len(key.encode()) > KEY_LIMIT:
        raise ValueError(f"button key over {KEY_LIMIT} bytes: {key!r}")
    return key


def decode(key: str) -> Action | None:
    """The action of a key made by `encode`; None for anything else."""
    parts = key.split(":", 3)
    if len(parts) < 3 or parts[0] != KEY_PREFIX or not parts[2].isdigit():
        return None
    return button(parts[1], int(parts[2]), parts[3] if len(parts) > 3 else "")
