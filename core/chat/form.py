"""The ticket form as a declarative table of steps (the Persian seed's form, step by step).

`FORM` lists the steps in order; each says what it fills, how it asks, how the answer is
checked, when it is not asked and how the review shows it. Moving forward, Back, the review
and its "edit" buttons, and the engine's dispatch of the form's states all derive from the
table (core.chat.intake walks it): adding a step is one entry here plus its translations (and,
for a new field that the ticket keeps, the model column, its migration and the service's
parameter). The state diagram in docs/how-it-works.md is checked against the table by
tests/core/chat/test_form_diagram.py.

(language, tips) -> department -> request type -> subject [-> possible duplicate]
[-> articles] -> priority (fixed by some types) -> description (unless given) [-> articles]
-> attachments -> review -> submit.
Every step has Back and Cancel; the review edits any step and comes back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from core.chat import deflection
from core.chat.deflection import DEFLECT
from core.domain.config import HelpdeskConfig, Names
from core.domain.model import DESCRIPTION_MAX, SUBJECT_MAX
from core.i18n import Translator
from core.storage.models import Customer

if TYPE_CHECKING:
    from core.chat.intake import Intake

Data = dict[str, Any]


class Option(Protocol):
    """A configured choice: a department, a request type, a priority."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> Names: ...


@dataclass(frozen=True, slots=True)
class Buttons:
    """Asked with one button per configured option (`tag:code`, see actions.Answer); an answer
    is accepted when its code is one of the options. Typing an option's label or number works too."""

    tag: str
    options: Callable[[HelpdeskConfig, Data], Sequence[Option]]  # what may be chosen, given the answers so far
    question: Callable[[Translator], str]
    marked: Callable[[Intake, Data], str | None] | None = None  # the usual choice, shown with ✓


@dataclass(frozen=True, slots=True)
class Text:
    """Asked for one typed message, checked as the ticket will check the field (not empty, not
    over `limit` characters, control characters out)."""

    limit: int
    question: Callable[[Translator], str]


@dataclass(frozen=True, slots=True)
class Files:
    """Files sent one by one (checked by the attachment store), ended with a button."""


@dataclass(frozen=True, slots=True)
class Step:
    key: str  # the draft's state while the step is asked, and the `rev:edit:<key>` button
    field: str  # the draft field it fills
    ask: Buttons | Text | Files
    edit_label: Callable[[Translator], str]  # its button on the review
    review: Callable[[Translator, Intake, Data], list[str]]  # its lines on the review
    # A value an earlier answer imposes: filled in, the step not asked, Back passes over it and
    # the review offers no edit.
    fixed: Callable[[Intake, Data], str | None] | None = None
    skip_when_given: bool = False  # not asked going forward when the field has a value already
    # After the answer is kept: adjusts other fields (`before` is the field's previous value).
    then: Callable[[Intake, Data, Any], None] | None = None
    # After the answer is kept: another state to go to first, or None.
    detour: Callable[[Intake, Customer, Data], Awaitable[str | None]] | None = None


def _types_offered(config: HelpdeskConfig, data: Data) -> Sequence[Option]:
    return config.request_types_of(data.get("department", ""))


def _only_type(form: Intake, data: Data) -> str | None:
    """A department that offers one request type has it without asking."""
    offered = _types_offered(form.config, data)
    return offered[0].code if len(offered) == 1 else None


def _type_follows_department(form: Intake, data: Data, before: Any) -> None:
    """A request type the new department does not offer is dropped, to be asked again (with the
    priority it imposed); one it offers is kept."""
    chosen = data.get("request_type")
    if chosen is not None and form.option(BY_KEY[REQUEST_TYPE], chosen, data) is None:
        del data["request_type"]
        if form.fixed_priority(chosen):
            data.pop("priority", None)


def _priority_fixed(form: Intake, data: Data) -> str | None:
    if not form.fixed_priority(data.get("request_type")):
        return None
    return form.services.tickets.resolve_priority(data["request_type"], None)


def _priority_follows_type(form: Intake, data: Data, before: Any) -> None:
    """A type that fixes the priority sets it; so does leaving such a type, or the first choice."""
    if form.fixed_priority(data["request_type"]) or form.fixed_priority(before) or "priority" not in data:
        data["priority"] = form.services.tickets.resolve_priority(data["request_type"], None)


async def _offer_duplicate(form: Intake, customer: Customer, data: Data) -> str | None:
    if data.get("duplicate_checked"):
        return None
    similar = await form.similar_open_ticket(customer.id, data["subject"])
    if similar is None:
        return None
    data["duplicate_of"], data["duplicate_subject"] = similar
    return DUPLICATE


async def _after_subject(form: Intake, customer: Customer, data: Data) -> str | None:
    """A similar open ticket first, then the articles that may answer the subject."""
    return await _offer_duplicate(form, customer, data) \
        or await deflection.offer(form, customer, data, SUBJECT, data["subject"])


async def _after_description(form: Intake, customer: Customer, data: Data) -> str | None:
    return await deflection.offer(form, customer, data, DESCRIPTION, data["description"])


def _files_line(t: Translator, form: Intake, data: Data) -> list[str]:
    files = data.get("attachments", [])
    if not files:
        return []
    return [t.ngettext("Attached: {n} file ({names})", "Attached: {n} files ({names})",
                       len(files), names=", ".join(f["filename"] for f in files))]


FORM: tuple[Step, ...] = (
    Step("department", "department",
         Buttons("dep", lambda c, d: c.departments,
                 lambda t: t._("Which department should handle your request?")),
         edit_label=lambda t: t._("Edit department"),
         review=lambda t, f, d: [t._("Department: {department}",
                                     department=f.option_name("department", d, t.locale))],
         then=_type_follows_department),
    Step("request_type", "request_type",
         Buttons("rt", _types_offered, lambda t: t._("What kind of request is it?")),
         edit_label=lambda t: t._("Edit type"),
         review=lambda t, f, d: [t._("Request type: {type}", type=f.option_name("request_type", d, t.locale))],
         fixed=_only_type,
         then=_priority_follows_type),
    Step("subject", "subject",
         Text(SUBJECT_MAX, lambda t: t.ngettext(
             "Write a short subject of at most {n} character, for example: "
             "“Cannot log in to the admin panel”.",
             "Write a short subject of at most {n} characters, for example: "
             "“Cannot log in to the admin panel”.", SUBJECT_MAX)),
         edit_label=lambda t: t._("Edit subject"),
         review=lambda t, f, d: [t._("Subject: {subject}", subject=d["subject"])],
         detour=_after_subject),
    Step("priority", "priority",
         Buttons("pri", lambda c, d: c.priorities,
                 lambda t: t._("How urgent is it? The usual choice for this kind of request is marked ✓."),
                 marked=lambda f, d: f.services.tickets.resolve_priority(d["request_type"], None)),
         edit_label=lambda t: t._("Edit priority"),
         review=lambda t, f, d: [t._("Priority: {priority}", priority=f.option_name("priority", d, t.locale))],
         fixed=_priority_fixed),
    Step("description", "description",
         Text(DESCRIPTION_MAX, lambda t: t.ngettext(
             "Describe the problem in one message of at most {n} character: what happened, "
             "what you have already tried, the exact error message, the site address or account.",
             "Describe the problem in one message of at most {n} characters: what happened, "
             "what you have already tried, the exact error message, the site address or account.",
             DESCRIPTION_MAX)),
         edit_label=lambda t: t._("Edit description"),
         review=lambda t, f, d: [t._("Description:"), d["description"]],
         skip_when_given=True,
         detour=_after_description),  # a message that started the ticket is its description
    Step("attachments", "attachments", Files(),
         edit_label=lambda t: t._("Edit files"),
         review=_files_line),
)

BY_KEY = {step.key: step for step in FORM}
DEPARTMENT, REQUEST_TYPE, SUBJECT, PRIORITY, DESCRIPTION, ATTACHMENTS = (
    "department", "request_type", "subject", "priority", "description", "attachments")
DUPLICATE, REVIEW = "duplicate", "review"  # the subject's detour, and the last look before sending
STEPS = (*BY_KEY, REVIEW)
STATES = frozenset({*STEPS, DUPLICATE, DEFLECT})  # DEFLECT: the articles offered (core.chat.deflection)
# A stray message moved to the new ticket: its id, and the ticket it stays in until the submit.
MOVING, MOVING_FROM = "moving", "moving_from"
EDITABLE = tuple(BY_KEY)
