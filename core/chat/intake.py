"""Walking the ticket form (core.chat.form.FORM): asking each step, taking the answer, going
forward past what is fixed or already given, Back, the review and its edits, and the submit.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rapidfuzz import fuzz

from core.chat import actions as act
from core.chat import deflection
from core.chat.deflection import DEFLECT
from core.chat.drafts import DraftStore
from core.chat.form import (
    BY_KEY,
    DUPLICATE,
    EDITABLE,
    FORM,
    MOVING,
    REVIEW,
    STEPS,
    SUBJECT,
    Buttons,
    Data,
    Files,
    Option,
    Step,
    Text,
)
from core.chat.messages import Choice, Reply
from core.chat.views import response_due
from core.delivery.attachments import MAX_FILES, AttachmentStore, IncomingFile, TooManyFiles
from core.domain.config import HelpdeskConfig
from core.domain.model import NewAttachment, TicketFilter
from core.domain.textnorm import for_matching
from core.i18n import Translator
from core.services import Services
from core.services.steps import clean
from core.storage.models import Customer, Ticket


class Intake:
    config: HelpdeskConfig
    services: Services  # declared for the table's entries (core.chat.form), which use it

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

    def option(self, step: Step, code: str, data: Data) -> Option | None:
        assert isinstance(step.ask, Buttons)
        return next((o for o in step.ask.options(self.config, data) if o.code == code), None)

    def option_name(self, key: str, data: Data, locale: str) -> str:
        chosen = self.option(BY_KEY[key], data[key], data)
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
            if state == DEFLECT:
                return deflection.prompt(self, t, data, nav)
            return self._duplicate(t, data, nav) if state == DUPLICATE else self._review(t, data)
        ask = step.ask
        if isinstance(ask, Buttons):
            marked = ask.marked(self, data) if ask.marked is not None else None
            rows = [(Choice(act.Answer(ask.tag, o.code).encode(),
                            o.name.get(loc) + (" ✓" if o.code == marked else "")),)
                    for o in ask.options(self.config, data)]
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

    def _unanswered(self, data: Data) -> str:
        """The first step an edit left without a fitting answer (a request type the new
        department does not offer, a choice the configuration no longer has), else the review."""
        for step in FORM:
            value = self.fixed(step, data)
            if value is not None:
                data[step.field] = value
            elif isinstance(step.ask, Buttons) and self.option(step, data.get(step.field, ""), data) is None:
                data.pop(step.field, None)
                return step.key
        return REVIEW

    def _next(self, state: str, data: Data) -> str:
        if data.get("editing"):
            return self._unanswered(data)
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
        if state == DEFLECT:  # back to the step the offer followed, to write it again
            return deflection.leave(data)
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
        if state == DEFLECT and data.pop(deflection.OPEN, None):  # from an article back to the offer
            return await self._go(customer, t, DEFLECT, data)
        data.pop("editing", None)
        return await self._go(customer, t, self._previous(state, data), data)

    # -- input at a step ----------------------------------------------------------------

    async def choose(
        self, customer: Customer, t: Translator, state: str, data: Data, action: act.Action | None
    ) -> list[Reply] | None:
        """Handle a button of this step; None when the action does not belong to it."""
        step = BY_KEY.get(state)
        if step is not None and isinstance(step.ask, Buttons) and isinstance(action, act.Answer) \
                and action.tag == step.ask.tag and self.option(step, action.value, data) is not None:
            before = data.get(step.field)
            data[step.field] = action.value
            if step.then is not None:
                step.then(self, data, before)
            return await self._go(customer, t, self._next(state, data), data)
        if step is not None and isinstance(step.ask, Files) and isinstance(action, act.FilesDone):
            data.pop("editing", None)
            return await self._go(customer, t, self._next(state, data), data)
        if state == DUPLICATE and isinstance(action, act.NewDespiteDuplicate):
            data["duplicate_checked"] = True  # the subject's other detours still come (the articles)
            subject = BY_KEY[SUBJECT]
            detour = await subject.detour(self, customer, data) if subject.detour is not None else None
            return await self._go(customer, t, detour or self._next(SUBJECT, data), data)
        if state == DEFLECT:
            return await self._deflect(customer, t, data, action)
        if state == REVIEW and isinstance(action, act.Submit):
            if (unanswered := self._unanswered(data)) != REVIEW:  # a form kept from before a change
                data["editing"] = True
                return await self._go(customer, t, unanswered, data)
            return await self.submit(customer, t, data)
        if state == REVIEW and isinstance(action, act.Edit) and action.step in BY_KEY:
            data["editing"] = True
            return await self._go(customer, t, action.step, data)
        return None

    async def _deflect(
        self, customer: Customer, t: Translator, data: Data, action: act.Action | None
    ) -> list[Reply] | None:
        """The offer of articles (core.chat.deflection): open one, "This solved it", continue."""
        if isinstance(action, act.ArticleOpen) and action.offered \
                and await deflection.opened(self, customer, t, data, action.slug):
            return await self._go(customer, t, DEFLECT, data)
        if isinstance(action, act.ArticleSolved) and action.slug == data.get(deflection.OPEN):
            return await deflection.solved(self, customer, t, action.slug)
        if isinstance(action, act.ArticleContinue):
            return await self._go(customer, t, self._next(deflection.leave(data), data), data)
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
        # One message per file: what came and the count, then the step's own buttons (its full
        # prompt would count the files a second time).
        note = t.ngettext("Received “{name}”. {n} file attached.",
                          "Received “{name}”. {n} files attached.", len(files), name=stored.filename)
        more = t._("You can send more files; when you have finished, press the button below.")
        return [Reply(f"{note}\n{more}", self.prompt(t, state, data).choices, t.locale)]

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
            moving=data.get(MOVING),
        )
        return [self.confirmation(t, customer, ticket)]

    def confirmation(self, t: Translator, customer: Customer, ticket: Ticket) -> Reply:
        """What the customer is told once their ticket exists: its number, where answers come, when."""
        text = t._(
            "Thank you! Your ticket {ticket} has been created. Our replies will arrive in this chat. "
            "Expected first response by {when}.",
            ticket=t.ticket(ticket.number), when=response_due(t, self.config, customer, ticket),
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
