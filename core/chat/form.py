"""The ticket form as a declarative table of steps (the Persian seed's form, step by step).

`FORM` lists the steps in order; each says what it fills, how it asks, how the answer is
checked, when it is not asked and how the review shows it. Moving forward, Back, the review
and its "edit" buttons, and the engine's dispatch of the form's states all derive from the
table: adding a step is one entry here plus its translations (and, for a new draft field
that the ticket keeps, the model column and its migration). The state diagram in
docs/how-it-works.md is checked against the table by tests/core/chat/test_form_diagram.py.

(language, tips) -> department -> request type -> subject [-> possible duplicate]
-> priority (fixed by some types) -> description (unless given) -> attachments -> review -> submit.
Every step has Back and Cancel; the review edits any step and comes back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from core.chat import actions as act
from core.chat.drafts import DraftStore
from core.chat.messages import Choice, Reply
from core.delivery.attachments import MAX_FILES, AttachmentStore, IncomingFile, TooManyFiles
from core.domain.config import HelpdeskConfig, Names
from core.domain.model import DESCRIPTION_MAX, SUBJECT_MAX, TicketFilter
from core.domain.textnorm import for_matching
from core.i18n import Translator
from core.services import Services
from core.services.steps import NewAttachment, clean
from core.storage.models import Customer, Ticket

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
    options: Callable[[HelpdeskConfig], Sequence[Option]]
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


def _files_line(t: Translator, form: Intake, data: Data) -> list[str]:
    files = data.get("attachments", [])
    if not files:
        return []
    return [t.ngettext("Attached: {n} file ({names})", "Attached: {n} files ({names})",
                       len(files), names=", ".join(f["filename"] for f in files))]


FORM: tuple[Step, ...] = (
    Step("department", "department",
         Buttons("dep", lambda c: c.departments,
                 lambda t: t._("Which department should handle your request?")),
         edit_label=lambda t: t._("Edit department"),
         review=lambda t, f, d: [t._("Department: {department}",
                                     department=f.option_name("department", d, t.locale))]),
    Step("request_type", "request_type",
         Buttons("rt", lambda c: c.request_types, lambda t: t._("What kind of request is it?")),
         edit_label=lambda t: t._("Edit type"),
         review=lambda t, f, d: [t._("Request type: {type}", type=f.option_name("request_type", d, t.locale))],
         then=_priority_follows_type),
    Step("subject", "subject",
         Text(SUBJECT_MAX, lambda t: t.ngettext(
             "Write a short subject of at most {n} character, for example: "
             "“Cannot log in to the admin panel”.",
             "Write a short subject of at most {n} characters, for example: "
             "“Cannot log in to the admin panel”.", SUBJECT_MAX)),
         edit_label=lambda t: t._("Edit subject"),
         review=lambda t, f, d: [t._("Subject: {subject}", subject=d["subject"])],
         detour=_offer_duplicate),
    Step("priority", "priority",
         Buttons("pri", lambda c: c.priorities,
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
         skip_when_given=True),  # a message that started the ticket is its description
    Step("attachments", "attachments", Files(),
         edit_label=lambda t: t._("Edit files"),
         review=_files_line),
)

BY_KEY = {step.key: step for step in FORM}
DEPARTMENT, REQUEST_TYPE, SUBJECT, PRIORITY, DESCRIPTION, ATTACHMENTS = (
    "department", "request_type", "subject", "priority", "description", "attachments")
DUPLICATE, REVIEW = "duplicate", "review"  # the subject's detour, and the last look before sending
STEPS = (*BY_KEY, REVIEW)
STATES = frozenset({*STEPS, DUPLICATE})
EDITABLE = tuple(BY_KEY)


class Intake:
    config: HelpdeskConfig
    services: Services  # declared here for the table's entries above, which use it

    def __init__(
        self, config: HelpdeskConfig, services: Services, drafts: DraftStore,
        files: AttachmentStore,
    ) -> None:
        self.config = config
        self.services = services
        self.drafts = drafts
        self.files = files

    # -- what the table's entries ask of the form -------------------------------------

    def fixed_priority(self, request_type: str | None) -> bool:
        rt = self.config.request_type(request_type or "")
        return bool(rt and rt.fixed_priority)

    def option(self, step: Step, code: str) -> Option | None:
        assert isinstance(step.ask, Buttons)
        return next((o for o in step.ask.options(self.config) if o.code == code), None)

    def option_name(self, key: str, data: Data, locale: str) -> str:
        chosen = self.option(BY_KEY[key], data[key])
        assert chosen is not None
        return chosen.name.get(locale)

    def fixed(self, step: Step, data: Data) -> str | None:
        return step.fixed(self, data) if step.fixed is not None else None

    # -- entering and showing ---------------------------------------------------------

    async def start(self, customer: Customer, t: Translator, data: Data | None = None) -> list[Reply]:
        await self.services.tickets.check_can_open(customer.id)  # say so now, not after the whole form
        data = dict(data or {})
        await self.drafts.put(customer.id, FORM[0].key, data)
        tips = t._(
            "Tips for a good ticket:\n"
            "• one ticket per topic;\n"
            "• be specific: what happened, when, and what you expected;\n"
            "• say what you have already tried;\n"
            "• include error messages, the site address or the account concerned."
        )
        return [Reply(tips, locale=t.locale), self.prompt(t, FORM[0].key, data)]

    def prompt(self, t: Translator, state: str, data: Data) -> Reply:
        nav = self._nav(t, first=state == FORM[0].key)
        loc = t.locale
        step = BY_KEY.get(state)
        if step is None:
            return self._duplicate(t, data, nav) if state == DUPLICATE else self._review(t, data)
        ask = step.ask
        if isinstance(ask, Buttons):
            marked = ask.marked(self, data) if ask.marked is not None else None
            rows = [(Choice(act.Answer(ask.tag, o.code).encode(),
                            o.name.get(loc) + (" ✓" if o.code == marked else "")),) for o in ask.options(self.config)]
            return Reply(ask.question(t), (*rows, nav), loc)
        if isinstance(ask, Text):
            return Reply(ask.question(t), (nav,), loc, expects_text=True)
        count = len(data.get(step.field, []))
        text = t._("You can now send screenshots, PDF, text or log files, office documents or "
                   "zip archives, up to 10 MB each. When you have finished, press the button below.")
        if count:
            text += "\n" + t.ngettext("{n} file attached so far.", "{n} files attached so far.", count)
        key_label = t._("Done") if count else t._("Skip, no files")
        return Reply(text, ((Choice(act.FilesDone().encode(), key_label),), nav), loc)

    def _nav(self, t: Translator, *, first: bool = False) -> tuple[Choice, ...]:
        cancel = Choice(act.Cancel().encode(), t._("Cancel"))
        return (cancel,) if first else (Choice(act.Back().encode(), t._("Back")), cancel)

    def _duplicate(self, t: Translator, data: Data, nav: tuple[Choice, ...]) -> Reply:
        n = data["duplicate_of"]
        return Reply(
            t._("You already have an open ticket on a similar topic: {ticket} “{subject}”. "
                "Please keep one topic in one ticket.",
                ticket=t.ticket(n), subject=data.get("duplicate_subject", "")),
            ((Choice(act.AddToDuplicate(n).encode(), t._("Add my message to {ticket}", ticket=t.ticket(n))),),
             (Choice(act.NewDespiteDuplicate().encode(), t._("Open a new ticket anyway")),), nav), t.locale)

    def _review(self, t: Translator, data: Data) -> Reply:
        lines = [t._("Please check your ticket before sending it:")]
        for step in FORM:
            lines += step.review(t, self, data)
        rows: list[tuple[Choice, ...]] = [(Choice(act.Submit().encode(), t._("Send the ticket")),)]
        editable = [s for s in FORM if self.fixed(s, data) is None]
        for i in range(0, len(editable), 2):
            rows.append(tuple(Choice(act.Edit(s.key).encode(), s.edit_label(t)) for s in editable[i:i + 2]))
        rows.append((Choice(act.Back().encode(), t._("Back")), Choice(act.Cancel().encode(), t._("Cancel"))))
        return Reply("\n".join(lines), tuple(rows), t.locale)

    # -- moving between steps ---------------------------------------------------------

    def _next(self, state: str, data: Data) -> str:
        if data.get("editing"):
            return REVIEW
        for step in FORM[EDITABLE.index(state) + 1:]:
            value = self.fixed(step, data)
            if value is not None:
                data[step.field] = value
            elif not (step.skip_when_given and data.get(step.field)):
                return step.key
        return REVIEW

    def _previous(self, state: str, data: Data) -> str:
        if state == DUPLICATE:
            return SUBJECT
        i = STEPS.index(state) - 1
        while i > 0 and self.fixed(FORM[i], data) is not None:
            i -= 1
        return FORM[max(i, 0)].key

    async def _go(self, customer: Customer, t: Translator, state: str, data: Data) -> list[Reply]:
        if state == REVIEW:
            data.pop("editing", None)
        await self.drafts.put(customer.id, state, data)
        return [self.prompt(t, state, data)]

    async def back(self, customer: Customer, t: Translator, state: str, data: Data) -> list[Reply]:
        data.pop("editing", None)
        return await self._go(customer, t, self._previous(state, data), data)

    # -- input at a step ----------------------------------------------------------------

    async def choose(
        self, customer: Customer, t: Translator, state: str, data: Data, action: act.Action | None
    ) -> list[Reply] | None:
        """Handle a button of this step; None when the action does not belong to it."""
        step = BY_KEY.get(state)
        if step is not None and isinstance(step.ask, Buttons) and isinstance(action, act.Answer) \
                and action.tag == step.ask.tag and self.option(step, action.value) is not None:
            before = data.get(step.field)
            data[step.field] = action.value
            if step.then is not None:
                step.then(self, data, before)
            return await self._go(customer, t, self._next(state, data), data)
        if step is not None and isinstance(step.ask, Files) and isinstance(action, act.FilesDone):
            data.pop("editing", None)
            return await self._go(customer, t, self._next(state, data), data)
        if state == DUPLICATE and isinstance(action, act.NewDespiteDuplicate):
            data["duplicate_checked"] = True
            return await self._go(customer, t, self._next(SUBJECT, data), data)
        if state == REVIEW and isinstance(action, act.Submit):
            return await self.submit(customer, t, data)
        if state == REVIEW and isinstance(action, act.Edit) and action.step in BY_KEY:
            data["editing"] = True
            return await self._go(customer, t, action.step, data)
        return None

    async def type_text(
        self, customer: Customer, t: Translator, state: str, data: Data, text: str
    ) -> list[Reply]:
        step = BY_KEY.get(state)
        if step is not None and isinstance(step.ask, Text):
            data[step.field] = clean(step.field, text, step.ask.limit)
            detour = await step.detour(self, customer, data) if step.detour is not None else None
            return await self._go(customer, t, detour or self._next(state, data), data)
        # A choice step: accept the label (or its number) typed instead of pressed.
        reply = self.prompt(t, state, data)
        picked = _match_choice(text, reply.flat_choices)
        if picked is not None:
            result = await self.choose(customer, t, state, data, act.decode(picked.key))
            if result is not None:
                return result
        return [Reply(t._("Please choose one of the options below."), locale=t.locale), reply]

    async def add_file(
        self, customer: Customer, t: Translator, state: str, data: Data, file: IncomingFile
    ) -> list[Reply]:
        files: list[dict[str, Any]] = data.setdefault("attachments", [])
        if len(files) >= MAX_FILES:
            raise TooManyFiles()
        stored = await self.files.receive(file)
        files.append(asdict(stored))
        await self.drafts.put(customer.id, state, data)
        note = Reply(t.ngettext("Received “{name}”. {n} file attached.",
                                "Received “{name}”. {n} files attached.", len(files),
                                name=stored.filename), locale=t.locale)
        return [note, self.prompt(t, state, data)]

    async def submit(self, customer: Customer, t: Translator, data: Data) -> list[Reply]:
        ticket = await self.services.tickets.open_ticket(
            customer.id,
            department=data["department"],
            request_type=data["request_type"],
            subject=data["subject"],
            description=data["description"],
            priority=data["priority"],
            attachments=[NewAttachment(**a) for a in data.get("attachments", [])],
            linked_to=data.get("linked_to"),
            clear_draft=True,
        )
        return [self.confirmation(t, ticket)]

    def confirmation(self, t: Translator, ticket: Ticket) -> Reply:
        """What the customer is told once their ticket exists: its number, where answers come, when."""
        zone = ZoneInfo(self.config.calendar_of(ticket.department).timezone)
        assert ticket.first_response_due is not None
        text = t._(
            "Thank you! Your ticket {ticket} has been created. Our replies will arrive in this chat. "
            "Expected first response by {when}.",
            ticket=t.ticket(ticket.number), when=t.datetime(ticket.first_response_due, zone),
        )
        return Reply(text, ((Choice(act.ShowTicket(ticket.number).encode(), t._("View the ticket")),),), t.locale)

    async def similar_open_ticket(self, customer_id: int, subject: str) -> tuple[int, str] | None:
        wanted = for_matching(subject)
        threshold = self.config.lifecycle.duplicate_similarity
        best: tuple[float, int, str] | None = None
        for ticket in await self.services.queries.list_for_customer(customer_id, TicketFilter.OPEN):
            score = fuzz.token_set_ratio(wanted, for_matching(ticket.subject))
            if score >= threshold and (best is None or score > best[0]):
                best = (score, ticket.number, ticket.subject)
        return (best[1], best[2]) if best else None


def _match_choice(text: str, choices: list[Choice]) -> Choice | None:
    wanted = for_matching(text)
    if wanted.isdigit() and 1 <= int(wanted) <= len(choices):
        return choices[int(wanted) - 1]
    for choice in choices:
        if for_matching(choice.label.removesuffix(" ✓")) == wanted:
            return choice
    return None
