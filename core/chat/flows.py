"""The customer's short flows around their tickets, outside the ticket form (listing and
showing them is core.chat.listing's): reply (the next message goes to a chosen ticket), pick
(which ticket a message belongs to), link (a new ticket for one closed too long ago),
withdraw, settle a resolution, rate.

Their states, besides the form's (core.chat.form): `language` (first contact), `reply`, `pick`,
`link`, `withdraw`, `rate_comment`. A short state entered in the middle of the form keeps the
form under "resume" and gives it back when it ends. Every state lives in the database.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from core.chat import actions as act
from core.chat import form as steps
from core.chat.drafts import DraftState, DraftStore
from core.chat.intake import Intake
from core.chat.messages import Choice, Reply
from core.chat.stray import added_notice
from core.chat.views import explain
from core.delivery.attachments import MAX_FILES, AttachmentStore, IncomingFile, TooManyFiles
from core.domain.access import Deed
from core.domain.clock import Clock
from core.domain.config import HelpdeskConfig
from core.domain.errors import RatingNotPossible, ReopenWindowPassed
from core.domain.lifecycle import WITHDRAWN
from core.domain.model import DESCRIPTION_MAX, MESSAGE_MAX, OPEN_STATUSES, NewAttachment, Status, TicketFilter, Who
from core.i18n import LANGUAGE_NAMES, Translator
from core.services import Services
from core.services.steps import clean
from core.storage.models import Customer, Ticket

LANGUAGE, REPLY, PICK, LINK, WITHDRAW, RESUME = "language", "reply", "pick", "link", "withdraw", "resume"
RATE_COMMENT = "rate_comment"
Data = dict[str, Any]


def language_prompt(t: Translator, offered: tuple[str, ...]) -> Reply:
    """The offered languages, the one `t` speaks first."""
    order = [code for code in offered if code == t.locale] + [code for code in offered if code != t.locale]
    rows = tuple((Choice(act.SetLanguage(code).encode(), LANGUAGE_NAMES[code]),) for code in order)
    return Reply(t._("Please choose your language."), rows, t.locale)


def cancel_row(t: Translator) -> tuple[tuple[Choice, ...], ...]:
    return ((Choice(act.Cancel().encode(), t._("Cancel")),),)


class Flows:
    def __init__(
        self, services: Services, drafts: DraftStore, intake: Intake, files: AttachmentStore,
        config: HelpdeskConfig, clock: Clock,
    ) -> None:
        self.services = services
        self.drafts = drafts
        self.intake = intake
        self.files = files
        self.config = config
        self.clock = clock

    # -- tickets ------------------------------------------------------------------------

    async def escalate(self, customer: Customer, t: Translator, number: int) -> list[Reply]:
        await self.services.tickets.request_escalation(customer.id, number)
        return [Reply(t._("Done: ticket {ticket} has been passed to our senior specialists. We are sorry "
                          "for the wait.", ticket=t.ticket(number)), locale=t.locale)]

    # -- reply ----------------------------------------------------------------------------

    def reply_prompt(self, t: Translator, number: int) -> Reply:
        return Reply(t._("Write your message for ticket {ticket}. You can also send files.",
                         ticket=t.ticket(number)), cancel_row(t), t.locale, expects_text=True)

    async def ask_reply(
        self, customer: Customer, t: Translator, draft: DraftState | None, number: int
    ) -> list[Reply]:
        await self.services.queries.get_for_customer(customer.id, number, Deed.WRITE)
        await self.interrupt(customer, draft, REPLY, {"number": number})
        return [self.reply_prompt(t, number)]

    async def add_to_duplicate(self, customer: Customer, t: Translator, target: int) -> list[Reply]:
        await self.drafts.put(customer.id, REPLY, {"number": target})
        return [Reply(t._("Write the message to add to ticket {ticket}.", ticket=t.ticket(target)),
                      cancel_row(t), t.locale, expects_text=True)]

    async def settle(
        self, customer: Customer, t: Translator, draft: DraftState | None, number: int, *, solved: bool
    ) -> list[Reply]:
        comment = ""
        if draft is not None and draft.state == PICK:
            comment = draft.data.get("text", "")
        await self.services.tickets.settle_resolution(customer.id, number, solved=solved, comment=comment)
        if solved:
            return [Reply(t._("Thank you for confirming! Ticket {ticket} is now closed.",
                              ticket=t.ticket(number)), locale=t.locale)]
        if comment:
            return [Reply(t._("Ticket {ticket} is back in progress, with your message.",
                              ticket=t.ticket(number)), locale=t.locale)]
        await self.drafts.put(customer.id, REPLY, {"number": number})
        return [Reply(t._("Ticket {ticket} is back in progress. Please tell us what is still not working.",
                          ticket=t.ticket(number)), cancel_row(t), t.locale, expects_text=True)]

    # -- rate -----------------------------------------------------------------------------

    def rate_prompt(self, t: Translator) -> Reply:
        return Reply(t._("Thank you for your rating! If you like, write a comment in one message."),
                     ((Choice(act.RateDone().encode(), t._("No comment")),),), t.locale, expects_text=True)

    async def rate(
        self, customer: Customer, t: Translator, draft: DraftState | None, number: int, score: int
    ) -> list[Reply]:
        try:
            await self.services.tickets.rate(customer.id, number, score)
        except RatingNotPossible as exc:  # the refusal alone: no prompt after it thanks for a rating
            return [Reply(explain(t, exc), locale=t.locale)]
        await self.interrupt(customer, draft, RATE_COMMENT, {"number": number})
        return [self.rate_prompt(t)]

    async def rate_done(self, customer: Customer, t: Translator, data: Data) -> list[Reply]:
        await self.resume(customer, data)
        return [Reply(t._("Thank you!"), locale=t.locale)]

    # -- withdraw -------------------------------------------------------------------------

    async def ask_withdraw(
        self, customer: Customer, t: Translator, draft: DraftState | None, number: int
    ) -> list[Reply]:
        await self.services.queries.get_for_customer(customer.id, number, Deed.WITHDRAW)
        await self.interrupt(customer, draft, WITHDRAW, {"number": number})
        return [Reply(
            t._("Withdraw ticket {ticket}? It will be closed without a solution.", ticket=t.ticket(number)),
            ((Choice(act.WithdrawYes(number).encode(), t._("Yes, withdraw it")),
              Choice(act.WithdrawNo().encode(), t._("No, keep it"))),), t.locale)]

    async def withdraw(self, customer: Customer, t: Translator, number: int, data: Data) -> list[Reply]:
        await self.services.tickets.change_status(number, Status.CLOSED, Who.customer(customer.id), WITHDRAWN)
        await self.resume(customer, data)
        return [Reply(t._("Ticket {ticket} has been withdrawn.", ticket=t.ticket(number)), locale=t.locale)]

    async def keep(self, customer: Customer, t: Translator, data: Data) -> list[Reply]:
        await self.resume(customer, data)
        return [Reply(t._("Fine, the ticket stays open."), locale=t.locale)]

    # -- pick and link --------------------------------------------------------------------

    async def pick(self, customer: Customer, t: Translator, data: Data, number: int | None) -> list[Reply]:
        if number is None:
            return await self.intake.start(customer, t, pending_as_form(data))
        return await self.deliver(customer, t, number, data, clear_draft=True)

    async def link(self, customer: Customer, t: Translator, data: Data, number: int) -> list[Reply]:
        return await self.intake.start(customer, t, {**pending_as_form(data), "linked_to": number})

    def pick_prompt(self, t: Translator, candidates: list[Ticket]) -> Reply:
        if not candidates:
            return Reply(t._("You have no open tickets. Shall I open a new ticket with this message?"),
                         ((Choice(act.PickTicket(None).encode(), t._("Open a new ticket")),
                           Choice(act.Cancel().encode(), t._("Cancel"))),), t.locale)
        rows: list[tuple[Choice, ...]] = [
            (Choice(act.PickTicket(x.number).encode(), f"{t.ticket(x.number)} {x.subject[:40]}"),)
            for x in candidates[:10]]
        rows.append((Choice(act.PickTicket(None).encode(), t._("Open a new ticket")),
                     Choice(act.Cancel().encode(), t._("Cancel"))))
        return Reply(t._("Which ticket is this message about?"), tuple(rows), t.locale)

    async def candidates(self, customer: Customer) -> list[Ticket]:
        """The tickets a message outside any step may be about: open ones, and resolved ones."""
        active = await self.services.queries.list_for_customer(customer.id, TicketFilter.ALL, limit=50)
        return [x for x in active if x.status in OPEN_STATUSES or x.status == Status.RESOLVED]

    def link_prompt(self, t: Translator, number: int) -> Reply:
        return Reply(
            t._("Ticket {ticket} was closed some time ago. New topics belong in new tickets: "
                "shall I open a new ticket linked to it, with your message?", ticket=t.ticket(number)),
            ((Choice(act.LinkTicket(number).encode(), t._("Open a linked ticket")),
              Choice(act.Cancel().encode(), t._("Cancel"))),),
            t.locale)

    # -- free text and files outside the form ----------------------------------------------

    async def on_text(self, customer: Customer, t: Translator, draft: DraftState | None, text: str) -> list[Reply]:
        state = draft.state if draft else None
        data = dict(draft.data) if draft else {}
        if state == REPLY:
            return await self.deliver(customer, t, data["number"], {"text": text, **_resume_of(data)},
                                      clear_draft=not data.get("resume"))
        if state == RATE_COMMENT:
            await self.services.tickets.comment_rating(customer.id, data["number"], text)
            await self.resume(customer, data)
            return [Reply(t._("Thank you for your feedback."), locale=t.locale)]
        if state in (PICK, LINK):
            data["text"] = pending_text(data.get("text"), text, "message")
            await self.drafts.put(customer.id, state, data)
            return [self._waiting_prompt(t, state, data, await self.candidates(customer))]
        return await self.route(customer, t, {"text": pending_text(None, text, "message")})

    async def on_file(
        self, customer: Customer, t: Translator, draft: DraftState | None, file: IncomingFile, caption: str
    ) -> list[Reply]:
        state = draft.state if draft else None
        data = dict(draft.data) if draft else {}
        if state in (PICK, LINK) and len(data.get("files", [])) >= MAX_FILES:
            raise TooManyFiles()  # they may become a new ticket's files: refused before the download
        stored = asdict(await self.files.receive(file))
        if state == REPLY:
            pending = {"text": caption, "files": [stored], **_resume_of(data)}
            return await self.deliver(customer, t, data["number"], pending, clear_draft=not data.get("resume"))
        if state in (PICK, LINK):
            data.setdefault("files", []).append(stored)
            await self.drafts.put(customer.id, state, data)
            return [self._waiting_prompt(t, state, data, await self.candidates(customer))]
        return await self.route(customer, t, {"text": caption, "files": [stored]})

    def _waiting_prompt(self, t: Translator, state: str, data: Data, candidates: list[Ticket]) -> Reply:
        return self.pick_prompt(t, candidates) if state == PICK else self.link_prompt(t, data["number"])

    async def route(self, customer: Customer, t: Translator, pending: Data) -> list[Reply]:
        """A message outside any step: to the one open ticket, else ask which."""
        candidates = await self.candidates(customer)
        open_ones = [x for x in candidates if x.status in OPEN_STATUSES]
        if len(candidates) == 1 and open_ones:  # said where it went, with Undo and Move (core.chat.stray)
            return await self.deliver(customer, t, open_ones[0].number, pending, clear_draft=False, stray=True)
        if len(candidates) == 1:  # one resolved ticket: is this a "thanks" or "still broken"?
            ticket = candidates[0]
            await self.drafts.put(customer.id, PICK, pending)
            return [Reply(
                t._("Your ticket {ticket} “{subject}” is marked as resolved. Is your problem solved?",
                    ticket=t.ticket(ticket.number), subject=ticket.subject),
                ((Choice(act.Settle(ticket.number, solved=True).encode(), t._("Yes, it is solved")),
                  Choice(act.Settle(ticket.number, solved=False).encode(), t._("No, not solved"))),
                 (Choice(act.PickTicket(None).encode(), t._("It is a new topic: open a new ticket")),)), t.locale)]
        await self.drafts.put(customer.id, PICK, pending)
        return [self.pick_prompt(t, candidates)]

    async def deliver(
        self, customer: Customer, t: Translator, number: int, pending: Data, *, clear_draft: bool,
        stray: bool = False,
    ) -> list[Reply]:
        files = [NewAttachment(**f) for f in pending.get("files", [])]
        try:
            ticket = await self.services.tickets.add_customer_message(
                customer.id, number, pending.get("text", ""), files, clear_draft=clear_draft
            )
        except ReopenWindowPassed:
            await self.drafts.put(customer.id, LINK, {**pending, "number": number})
            return [self.link_prompt(t, number)]
        if pending.get("resume"):
            await self.resume(customer, pending)
        if stray:
            out = [added_notice(t, ticket)]
        elif ticket.reopened:
            out = [Reply(t._("Ticket {ticket} has been reopened with your message.", ticket=t.ticket(number)),
                         locale=t.locale)]
        else:
            out = [Reply(t._("Your message has been added to ticket {ticket}.", ticket=t.ticket(number)),
                         locale=t.locale)]
        if ticket.queue_hint_due:
            out.append(Reply(t._(
                "Your ticket keeps its place in the queue: it is ordered by your first unanswered "
                "message, so further messages are added to it but do not move it forward."),
                locale=t.locale))
        return out

    # -- state helpers ----------------------------------------------------------------------

    async def interrupt(self, customer: Customer, draft: DraftState | None, state: str, data: Data) -> None:
        """Enter a short state, keeping an unfinished ticket form to come back to."""
        if draft is not None and draft.state in steps.STATES:
            data = {**data, "resume": {"state": draft.state, "data": draft.data}}
        elif draft is not None and "resume" in draft.data:
            data = {**data, "resume": draft.data["resume"]}
        await self.drafts.put(customer.id, state, data)

    async def resume(self, customer: Customer, data: Data) -> None:
        saved = data.get("resume")
        if saved:
            await self.drafts.put(customer.id, saved["state"], saved["data"])
        else:
            await self.drafts.clear(customer.id)

    async def current_prompt(self, customer: Customer, t: Translator) -> Reply | None:
        """The question the customer's current state asks, to show again."""
        draft = await self.drafts.get(customer.id)
        if draft is None:
            return None
        if draft.state in steps.STATES:
            return self.intake.prompt(t, draft.state, draft.data)
        if draft.state == REPLY:
            return self.reply_prompt(t, draft.data["number"])
        if draft.state in (PICK, LINK):
            candidates = await self.candidates(customer) if draft.state == PICK else []
            return self._waiting_prompt(t, draft.state, draft.data, candidates)
        if draft.state == RATE_COMMENT:
            return self.rate_prompt(t)
        if draft.state == LANGUAGE:
            return language_prompt(t, self.config.languages)
        return None


def pending_text(earlier: str | None, text: str, field: str) -> str:
    """A message kept for later (a ticket's description, or a ticket's message once the customer
    says which), with what was kept before: checked as it will be then."""
    joined = "\n".join(filter(None, [earlier, text.strip()]))
    return clean(field, joined, min(DESCRIPTION_MAX, MESSAGE_MAX)) if joined else ""


def pending_as_form(data: Data) -> Data:
    """A message that started a ticket becomes its description and its files."""
    form: Data = {}
    if data.get("text", "").strip():
        form["description"] = data["text"].strip()
    if data.get("files"):
        form["attachments"] = list(data["files"])
    if data.get("description"):
        form["description"] = data["description"]
    return form


def _resume_of(data: Data) -> Data:
    return {"resume": data["resume"]} if data.get("resume") else {}
