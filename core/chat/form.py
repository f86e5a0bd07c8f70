"""The ticket form as an explicit state machine (the Persian seed's form, step by step).

language -> (tips) department -> request type -> subject [-> possible duplicate]
-> priority (skipped when the type fixes it) -> description -> attachments -> review -> submit.
Every step has Back and Cancel; the review edits any field and comes back.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from core.chat.drafts import DraftStore
from core.chat.messages import Choice, Reply
from core.delivery.attachments import MAX_FILES, AttachmentStore, IncomingFile, TooManyFiles
from core.domain.config import HelpdeskConfig
from core.domain.model import DESCRIPTION_MAX, SUBJECT_MAX, TicketFilter
from core.domain.textnorm import for_matching
from core.i18n import Translator
from core.services import Services
from core.services.steps import NewAttachment, clean
from core.storage.models import Customer, Ticket

DEPARTMENT, REQUEST_TYPE, SUBJECT, DUPLICATE = "department", "request_type", "subject", "duplicate"
PRIORITY, DESCRIPTION, ATTACHMENTS, REVIEW = "priority", "description", "attachments", "review"
STEPS = (DEPARTMENT, REQUEST_TYPE, SUBJECT, PRIORITY, DESCRIPTION, ATTACHMENTS, REVIEW)
STATES = frozenset({*STEPS, DUPLICATE})
EDITABLE = (DEPARTMENT, REQUEST_TYPE, SUBJECT, PRIORITY, DESCRIPTION, ATTACHMENTS)


class Intake:
    def __init__(
        self, config: HelpdeskConfig, services: Services, drafts: DraftStore,
        files: AttachmentStore,
    ) -> None:
        self.config = config
        self.services = services
        self.drafts = drafts
        self.files = files

    # -- entering and showing ---------------------------------------------------------

    async def start(self, customer: Customer, t: Translator, data: dict[str, Any] | None = None) -> list[Reply]:
        await self.services.tickets.check_can_open(customer.id)  # say so now, not after the whole form
        data = dict(data or {})
        await self.drafts.put(customer.id, DEPARTMENT, data)
        tips = t._(
            "Tips for a good ticket:\n"
            "• one ticket per topic;\n"
            "• be specific: what happened, when, and what you expected;\n"
            "• say what you have already tried;\n"
            "• include error messages, the site address or the account concerned."
        )
        return [Reply(tips, locale=t.locale), self.prompt(t, DEPARTMENT, data)]

    def prompt(self, t: Translator, state: str, data: dict[str, Any]) -> Reply:
        nav = self._nav(t, first=state == DEPARTMENT)
        loc = t.locale
        if state == DEPARTMENT:
            rows = [(Choice(f"dep:{d.code}", d.name.get(loc)),) for d in self.config.departments]
            return Reply(t._("Which department should handle your request?"), (*rows, nav), loc)
        if state == REQUEST_TYPE:
            rows = [(Choice(f"rt:{r.code}", r.name.get(loc)),) for r in self.config.request_types]
            return Reply(t._("What kind of request is it?"), (*rows, nav), loc)
        if state == SUBJECT:
            return Reply(t.ngettext(
                "Write a short subject of at most {n} character, for example: "
                "“Cannot log in to the admin panel”.",
                "Write a short subject of at most {n} characters, for example: "
                "“Cannot log in to the admin panel”.", SUBJECT_MAX), (nav,), loc, expects_text=True)
        if state == DUPLICATE:
            n = data["duplicate_of"]
            return Reply(
                t._("You already have an open ticket on a similar topic: {ticket} “{subject}”. "
                    "Please keep one topic in one ticket.",
                    ticket=t.ticket(n), subject=data.get("duplicate_subject", "")),
                ((Choice(f"dup:add:{n}", t._("Add my message to {ticket}", ticket=t.ticket(n))),),
                 (Choice("dup:new", t._("Open a new ticket anyway")),), nav), loc)
        if state == PRIORITY:
            default = self.services.tickets.resolve_priority(data["request_type"], None)
            rows = [(Choice(f"pri:{p.code}", p.name.get(loc) + (" ✓" if p.code == default else "")),)
                    for p in self.config.priorities]
            return Reply(t._("How urgent is it? The usual choice for this kind of request is marked ✓."),
                         (*rows, nav), loc)
        if state == DESCRIPTION:
            return Reply(t.ngettext(
                "Describe the problem in one message of at most {n} character: what happened, "
                "what you have already tried, the exact error message, the site address or account.",
                "Describe the problem in one message of at most {n} characters: what happened, "
                "what you have already tried, the exact error message, the site address or account.",
                DESCRIPTION_MAX), (nav,), loc, expects_text=True)
        if state == ATTACHMENTS:
            count = len(data.get("attachments", []))
            text = t._("You can now send screenshots, PDF, text or log files, office documents or "
                       "zip archives, up to 10 MB each. When you have finished, press the button below.")
            if count:
                text += "\n" + t.ngettext("{n} file attached so far.", "{n} files attached so far.", count)
            key_label = t._("Done") if count else t._("Skip, no files")
            return Reply(text, ((Choice("att:done", key_label),), nav), loc)
        return self._review(t, data)

    def _nav(self, t: Translator, *, first: bool = False) -> tuple[Choice, ...]:
        cancel = Choice("nav:cancel", t._("Cancel"))
        return (cancel,) if first else (Choice("nav:back", t._("Back")), cancel)

    def _review(self, t: Translator, data: dict[str, Any]) -> Reply:
        loc = t.locale
        dep = self.config.department(data["department"])
        rt = self.config.request_type(data["request_type"])
        pri = self.config.priority(data["priority"])
        assert dep and rt and pri
        files = data.get("attachments", [])
        lines = [
            t._("Please check your ticket before sending it:"),
            t._("Department: {department}", department=dep.name.get(loc)),
            t._("Request type: {type}", type=rt.name.get(loc)),
            t._("Subject: {subject}", subject=data["subject"]),
            t._("Priority: {priority}", priority=pri.name.get(loc)),
            t._("Description:"),
            data["description"],
        ]
        if files:
            lines.append(t.ngettext("Attached: {n} file ({names})", "Attached: {n} files ({names})",
                                    len(files), names=", ".join(f["filename"] for f in files)))
        edit = {
            DEPARTMENT: t._("Edit department"), REQUEST_TYPE: t._("Edit type"),
            SUBJECT: t._("Edit subject"), PRIORITY: t._("Edit priority"),
            DESCRIPTION: t._("Edit description"), ATTACHMENTS: t._("Edit files"),
        }
        rows: list[tuple[Choice, ...]] = [(Choice("rev:submit", t._("Send the ticket")),)]
        pairs = [s for s in EDITABLE if not (s == PRIORITY and rt.fixed_priority)]
        for i in range(0, len(pairs), 2):
            rows.append(tuple(Choice(f"rev:edit:{s}", edit[s]) for s in pairs[i:i + 2]))
        rows.append((Choice("nav:back", t._("Back")), Choice("nav:cancel", t._("Cancel"))))
        return Reply("\n".join(lines), tuple(rows), loc)

    # -- moving between steps ---------------------------------------------------------

    def _fixed_priority(self, data: dict[str, Any]) -> bool:
        rt = self.config.request_type(data.get("request_type", ""))
        return bool(rt and rt.fixed_priority)

    def _next(self, state: str, data: dict[str, Any]) -> str:
        if data.get("editing") and state != ATTACHMENTS:
            return REVIEW
        order = list(STEPS)
        nxt = order[order.index(state) + 1]
        if nxt == PRIORITY and self._fixed_priority(data):
            data["priority"] = self.services.tickets.resolve_priority(data["request_type"], None)
            nxt = DESCRIPTION
        if nxt == DESCRIPTION and data.get("description"):
            nxt = ATTACHMENTS  # already given (a message that started this ticket)
        return nxt

    def _previous(self, state: str, data: dict[str, Any]) -> str:
        if state == DUPLICATE:
            return SUBJECT
        order = list(STEPS)
        i = order.index(state)
        prev = order[max(i - 1, 0)]
        if prev == PRIORITY and self._fixed_priority(data):
            prev = SUBJECT
        return prev

    async def _go(self, customer: Customer, t: Translator, state: str, data: dict[str, Any]) -> list[Reply]:
        if state == REVIEW:
            data.pop("editing", None)
        await self.drafts.put(customer.id, state, data)
        return [self.prompt(t, state, data)]

    async def back(self, customer: Customer, t: Translator, state: str, data: dict[str, Any]) -> list[Reply]:
        data.pop("editing", None)
        return await self._go(customer, t, self._previous(state, data), data)

    # -- input at a step ----------------------------------------------------------------

    async def choose(
        self, customer: Customer, t: Translator, state: str, data: dict[str, Any], key: str
    ) -> list[Reply] | None:
        """Handle a button of this step; None when the key does not belong to it."""
        kind, _, value = key.partition(":")
        if state == DEPARTMENT and kind == "dep" and self.config.department(value):
            data["department"] = value
            return await self._go(customer, t, self._next(state, data), data)
        if state == REQUEST_TYPE and kind == "rt" and self.config.request_type(value):
            previous_fixed = self._fixed_priority(data)
            data["request_type"] = value
            if self._fixed_priority(data) or previous_fixed or "priority" not in data:
                data["priority"] = self.services.tickets.resolve_priority(value, None)
            return await self._go(customer, t, self._next(state, data), data)
        if state == PRIORITY and kind == "pri" and self.config.priority(value):
            data["priority"] = value
            return await self._go(customer, t, self._next(state, data), data)
        if state == DUPLICATE and key == "dup:new":
            data["duplicate_checked"] = True
            return await self._go(customer, t, self._next(SUBJECT, data), data)
        if state == ATTACHMENTS and key == "att:done":
            data.pop("editing", None)
            return await self._go(customer, t, REVIEW, data)
        if state == REVIEW and kind == "rev":
            if value == "submit":
                return await self.submit(customer, t, data)
            step = value.removeprefix("edit:")
            if step in EDITABLE:
                data["editing"] = True
                return await self._go(customer, t, step, data)
        return None

    async def type_text(
        self, customer: Customer, t: Translator, state: str, data: dict[str, Any], text: str
    ) -> list[Reply]:
        if state == SUBJECT:
            data["subject"] = clean("subject", text, SUBJECT_MAX)
            if not data.get("duplicate_checked"):
                similar = await self._similar_open_ticket(customer.id, data["subject"])
                if similar is not None:
                    data["duplicate_of"], data["duplicate_subject"] = similar
                    return await self._go(customer, t, DUPLICATE, data)
            return await self._go(customer, t, self._next(state, data), data)
        if state == DESCRIPTION:
            data["description"] = clean("description", text, DESCRIPTION_MAX)
            return await self._go(customer, t, self._next(state, data), data)
        # A choice step: accept the label (or its number) typed instead of pressed.
        reply = self.prompt(t, state, data)
        picked = _match_choice(text, [c for c in reply.flat_choices])
        if picked is not None:
            result = await self.choose(customer, t, state, data, picked.key)
            if result is not None:
                return result
        return [Reply(t._("Please choose one of the options below."), locale=t.locale), reply]

    async def add_file(
        self, customer: Customer, t: Translator, state: str, data: dict[str, Any], file: IncomingFile
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

    async def submit(self, customer: Customer, t: Translator, data: dict[str, Any]) -> list[Reply]:
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
        return Reply(text, ((Choice(f"t:{ticket.number}", t._("View the ticket")),),), t.locale)

    async def _similar_open_ticket(self, customer_id: int, subject: str) -> tuple[int, str] | None:
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

