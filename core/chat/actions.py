"""Typed keys of the customer's buttons and commands, encoded and decoded here and nowhere else.

A button's key travels as the platform's callback data (1-64 bytes on the strictest) and comes
back when it is pressed, possibly long after it was sent: the encoded strings must stay exactly
as they are, or buttons already in customers' chats stop working. `decode` is syntactic only
(is this one of our keys, with a number where a number goes); whether the action makes sense
now (a known language, a ticket of this customer, the right state) is for the engine to say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from core.chat.selfservice_keys import (
    ArticleContinue,
    ArticleHelpful,
    ArticleNoComment,
    ArticleOpen,
    ArticleSolved,
    ForgetAddress,
    OtherAddress,
    QuoteAnswer,
    SendCode,
    article_key,
    quote_key,
)
from core.domain.model import TicketFilter
from core.domain.textnorm import ticket_number

KEY_MAX_BYTES = 64  # the strictest channel's limit on a button's data


@dataclass(frozen=True, slots=True)
class SetLanguage:
    code: str

    def encode(self) -> str:
        return f"lang:{self.code}"


@dataclass(frozen=True, slots=True)
class SetZone:
    """A time zone chosen for the customer's times, by its IANA name (at most 32 bytes)."""

    name: str

    def encode(self) -> str:
        return f"tz:{self.name}"


@dataclass(frozen=True, slots=True)
class Cancel:
    def encode(self) -> str:
        return "nav:cancel"


@dataclass(frozen=True, slots=True)
class Back:
    def encode(self) -> str:
        return "nav:back"


@dataclass(frozen=True, slots=True)
class NewTicket:
    def encode(self) -> str:
        return "new"


@dataclass(frozen=True, slots=True)
class Resume:
    """The answer to "continue the unfinished form or start over?"."""

    restart: bool

    def encode(self) -> str:
        return "resume:restart" if self.restart else "resume:continue"


MINE: Literal["mine"] = "mine"
EVERYONE: Literal["everyone"] = "everyone"
Creator = int | Literal["mine", "everyone"] | None


@dataclass(frozen=True, slots=True)
class ListTickets:
    """A list of tickets. `by`: whose, for a customer who sees their organisation's: MINE,
    EVERYONE, or one colleague (by the id of one of their identities); None: the default."""

    view: TicketFilter
    by: Creator = None

    def encode(self) -> str:
        return f"list:{self.view.value}" if self.by is None else f"list:{self.view.value}:{self.by}"


@dataclass(frozen=True, slots=True)
class ListCreators:
    """The colleagues who have tickets, to list one's (in `view`)."""

    view: TicketFilter

    def encode(self) -> str:
        return f"people:{self.view.value}"


@dataclass(frozen=True, slots=True)
class ShowTicket:
    number: int

    def encode(self) -> str:
        return f"t:{self.number}"


@dataclass(frozen=True, slots=True)
class WriteTo:
    """The next message goes to this ticket."""

    number: int

    def encode(self) -> str:
        return f"reply:{self.number}"


@dataclass(frozen=True, slots=True)
class Settle:
    """A resolution confirmed (solved) or disputed."""

    number: int
    solved: bool

    def encode(self) -> str:
        return f"{'confirm' if self.solved else 'dispute'}:{self.number}"


@dataclass(frozen=True, slots=True)
class Escalate:
    number: int

    def encode(self) -> str:
        return f"escalate:{self.number}"


@dataclass(frozen=True, slots=True)
class Rate:
    number: int
    score: int

    def encode(self) -> str:
        return f"rate:{self.number}:{self.score}"


@dataclass(frozen=True, slots=True)
class RateDone:
    """No comment after a rating."""

    def encode(self) -> str:
        return "rate_done"


@dataclass(frozen=True, slots=True)
class Withdraw:
    """Asks to withdraw; `WithdrawYes` or `WithdrawNo` answers the question."""

    number: int

    def encode(self) -> str:
        return f"withdraw:{self.number}"


@dataclass(frozen=True, slots=True)
class WithdrawYes:
    number: int

    def encode(self) -> str:
        return f"withdraw_yes:{self.number}"


@dataclass(frozen=True, slots=True)
class WithdrawNo:
    def encode(self) -> str:
        return "withdraw_no"


@dataclass(frozen=True, slots=True)
class PickTicket:
    """Which ticket a message belongs to; None: a new ticket."""

    number: int | None

    def encode(self) -> str:
        return f"pick:{'new' if self.number is None else self.number}"


@dataclass(frozen=True, slots=True)
class LinkTicket:
    """A new ticket linked to one closed too long ago to reopen."""

    number: int

    def encode(self) -> str:
        return f"link:{self.number}"


@dataclass(frozen=True, slots=True)
class AddToDuplicate:
    """Add the message to the similar open ticket instead. `number` None: the key of older
    versions, without the number, still accepted from any state."""

    number: int | None

    def encode(self) -> str:
        return "dup:add" if self.number is None else f"dup:add:{self.number}"


@dataclass(frozen=True, slots=True)
class NewDespiteDuplicate:
    def encode(self) -> str:
        return "dup:new"


@dataclass(frozen=True, slots=True)
class Answer:
    """An option of one of the form's choice steps: `tag` is the step's key prefix (see
    core.chat.form.FORM), `value` the option's code."""

    tag: str
    value: str

    def encode(self) -> str:
        return f"{self.tag}:{self.value}"


@dataclass(frozen=True, slots=True)
class FilesDone:
    def encode(self) -> str:
        return "att:done"


@dataclass(frozen=True, slots=True)
class Submit:
    def encode(self) -> str:
        return "rev:submit"


@dataclass(frozen=True, slots=True)
class Edit:
    """From the review, back to one step of the form."""

    step: str

    def encode(self) -> str:
        return f"rev:edit:{self.step}"


@dataclass(frozen=True, slots=True)
class UndoAdded:
    """Take a message added to the customer's only open ticket back out of it (for a short while)."""

    message: int

    def encode(self) -> str:
        return f"added:undo:{self.message}"


@dataclass(frozen=True, slots=True)
class MoveAdded:
    """Asks where a message added to the only open ticket should go instead; `MoveAddedTo` answers."""

    message: int

    def encode(self) -> str:
        return f"added:move:{self.message}"


@dataclass(frozen=True, slots=True)
class MoveAddedTo:
    """Move the message to another open ticket; `number` None: to a new ticket."""

    message: int
    number: int | None

    def encode(self) -> str:
        return f"added:to:{self.message}:{'new' if self.number is None else self.number}"


Action = (SetLanguage | SetZone | Cancel | Back | NewTicket | Resume | ListTickets | ShowTicket | WriteTo | Settle
          | Escalate | Rate | RateDone | Withdraw | WithdrawYes | WithdrawNo | PickTicket | LinkTicket
          | AddToDuplicate | NewDespiteDuplicate | Answer | FilesDone | Submit | Edit | UndoAdded | MoveAdded
          | MoveAddedTo | ArticleOpen | ArticleSolved | ArticleContinue | ArticleHelpful | ArticleNoComment
          | ListCreators | SendCode | OtherAddress | ForgetAddress | QuoteAnswer)

_PLAIN: dict[str, Action] = {a.encode(): a for a in (
    Cancel(), Back(), NewTicket(), Resume(restart=True), Resume(restart=False), RateDone(), WithdrawNo(),
    NewDespiteDuplicate(), FilesDone(), Submit(), AddToDuplicate(None), PickTicket(None), ArticleContinue(),
    ArticleNoComment(), SendCode(), OtherAddress(), ForgetAddress())}
_NUMBERED: dict[str, Callable[[int], Action]] = {
    "t": ShowTicket, "reply": WriteTo, "escalate": Escalate, "withdraw": Withdraw, "withdraw_yes": WithdrawYes,
    "pick": PickTicket, "link": LinkTicket}
_VIEWS = {view.value: view for view in TicketFilter}
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz_")


def decode(key: str) -> Action | None:
    """The action a button's key stands for; None for a key that is none of ours."""
    plain = _PLAIN.get(key)
    if plain is not None:
        return plain
    kind, sep, value = key.partition(":")
    if not sep:
        return None
    if kind == "lang":
        return SetLanguage(value)
    if kind == "tz":
        return SetZone(value) if value else None
    if kind == "list":
        return _list(value)
    if kind == "people":
        view = _VIEWS.get(value)
        return ListCreators(view) if view is not None else None
    if kind == "org":
        return None  # none of the organisation's keys above
    if kind in _NUMBERED or kind in ("confirm", "dispute"):
        number = ticket_number(value)
        if number is None:
            return None
        if kind in ("confirm", "dispute"):
            return Settle(number, solved=kind == "confirm")
        return _NUMBERED[kind](number)
    if kind == "rate":
        ticket, _, score = value.partition(":")
        number, stars = ticket_number(ticket), ticket_number(score)
        return Rate(number, stars) if number is not None and stars is not None else None
    if kind == "dup":
        number = ticket_number(value.removeprefix("add:")) if value.startswith("add:") else None
        return AddToDuplicate(number) if number is not None else None
    if kind == "added":
        return _added(value)
    if kind == "kb":
        return article_key(value)
    if kind == "quote":
        return quote_key(value)
    if kind == "rev":
        step = value.removeprefix("edit:")
        return Edit(step) if value.startswith("edit:") and step else None
    if kind and value and _TAG_CHARS.issuperset(kind):
        return Answer(kind, value)
    return None


def _list(value: str) -> Action | None:
    name, sep, by = value.partition(":")
    view = _VIEWS.get(name)
    if view is None:
        return None
    if not sep:
        return ListTickets(view)
    if by in (MINE, EVERYONE):
        return ListTickets(view, MINE if by == MINE else EVERYONE)
    return ListTickets(view, int(by)) if by.isascii() and by.isdigit() and len(by) <= 12 else None


def _added(value: str) -> Action | None:
    what, _, rest = value.partition(":")
    message_key, _, target = rest.partition(":")
    message = ticket_number(message_key)
    if message is None:
        return None
    if what == "undo" and not target:
        return UndoAdded(message)
    if what == "move" and not target:
        return MoveAdded(message)
    number = ticket_number(target) if target != "new" else None
    if what == "to" and (number is not None or target == "new"):
        return MoveAddedTo(message, number)
    return None


NUMBERED_COMMANDS = ("confirm", "notsolved", "withdraw", "escalate")
"""Commands that name a ticket and stand for one of its buttons (`/confirm 1042` is the Yes button)."""


def numbered_command(name: str, number: int) -> Action | None:
    """The button a command that names a ticket stands for, or None for another command."""
    if name in ("confirm", "notsolved"):
        return Settle(number, solved=name == "confirm")
    if name == "withdraw":
        return Withdraw(number)
    if name == "escalate":
        return Escalate(number)
    return None
