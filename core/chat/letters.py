"""Letters: a customer's message that arrives whole (a subject, a text, files) on a channel that
has no conversation to walk a form through. A new letter opens a ticket at once; a letter that
answers a ticket continues it; a letter that is only a number answers the last question asked
(confirm a solution: 1 yes, 2 no; a rating: 1 to 5; a quote: 1 approve, 2 decline, only when the
letter answers that quote's own mail).

A letter's ticket, as its channel's threading says, counts only when the sender may write to it
(core.domain.access: its requester, the same person, or a colleague whose organisation allows
it): anybody else's letter opens a ticket of their own and learns nothing of that one.
Answers are automatic: a sender gets at most `limits.automatic_answers_per_hour` of them, so two
robots answering each other stop after a few rounds.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, replace
from datetime import timedelta

from core.chat import quotes
from core.chat.drafts import DraftStore
from core.chat.messages import Reply, clip
from core.chat.selfservice_keys import QuoteAnswer
from core.chat.views import explain, response_due
from core.delivery.attachments import AttachmentStore, IncomingFile
from core.domain.access import Deed
from core.domain.clock import Clock, utcnow
from core.domain.config import HelpdeskConfig
from core.domain.errors import DomainError, RatingNotPossible, ReadOnlyTicket, TicketNotFound
from core.domain.model import DESCRIPTION_MAX, MESSAGE_MAX, SUBJECT_MAX, NewAttachment, Status
from core.domain.quotes import QuoteState
from core.i18n import Translator, pick_language, translator
from core.metrics import LIMITED
from core.services import Services
from core.storage.db import Database
from core.storage.models import AnswerQuota, Customer, Ticket

log = logging.getLogger(__name__)

PENDING = "letter"  # the draft of a letter waiting for its sender to pick a department
ASK = "ask"  # a channel's default department that means: ask the sender to pick one
# A choice by its number, in the customer's own digits too (the options are numbered in them).
_NUMBER = re.compile(r"\s*([1-9۱-۹١-٩])(?![\d:/.,]\d)[\s.)\-–—:]*(.*)", re.S)


@dataclass(frozen=True, slots=True)
class Letter:
    platform: str
    sender: str  # the sender's identity on the channel, which is also where answers go
    name: str
    subject: str
    text: str  # what the sender wrote this time (quoted history removed)
    files: tuple[IncomingFile, ...] = ()
    record: IncomingFile | None = None  # the letter as it was received, kept for the agents
    ticket: int | None = None  # the ticket it answers, as the channel's threading says
    department: str | None = None  # the department the address it was sent to belongs to
    language: str | None = None  # the language its text is written in, when that could be told
    language_hint: str | None = None  # what the channel says of the sender's language, for a new sender
    automatic: bool = False  # sent by a machine (a list, an auto-responder): taken, never answered
    address: bool = False  # the sender is a mail address: the same person as a chat identity that proved it
    quote: int | None = None  # the quote whose mail (its Approve and Decline, numbered) this letter answers


class Letters:
    def __init__(self, services: Services, drafts: DraftStore, files: AttachmentStore, config: HelpdeskConfig,
                 *, default_department: str | None = None, request_type: str | None = None,
                 clock: Clock = utcnow) -> None:
        """`default_department`: where letters go that no address claims (the first department
        when None; ASK: the sender is asked). `request_type`: the type their tickets get where
        their department offers it; elsewhere, or when None, the department's first type."""
        self.services = services
        self.db: Database = services.db
        self.drafts = drafts
        self.files = files
        self.config = config
        self.default_department = default_department or config.departments[0].code
        self.request_type = request_type
        self.clock = clock

    async def take(self, letter: Letter) -> list[Reply]:
        """Handle a letter; the answers to send its sender (none past the sender's quota)."""
        offered = self.config.languages
        language = letter.language if letter.language in offered else None
        hint = letter.language_hint if letter.language_hint in offered else None
        customer = await self.services.customers.customer(
            letter.platform, letter.sender, letter.sender, letter.name, locale=language or hint,
            address=letter.sender if letter.address else None)
        if language and customer.locale != language:
            # Writing in another language is how a letter's sender changes it.
            await self.services.customers.set_locale(customer.id, language)
            customer.locale = language
        t = translator(pick_language(offered, customer.locale))
        answers: list[Reply] = []
        try:
            answers = await self._take(customer, t, letter)
        except DomainError as exc:
            # No ticket named: the letter's may be somebody else's (its sender learns nothing of it).
            answers = [Reply(explain(t, exc), locale=t.locale)]
        if letter.automatic or not answers:
            return []
        return [_one(answers)] if await self._within_quota(letter, 1) else []

    async def _take(self, customer: Customer, t: Translator, letter: Letter) -> list[Reply]:
        ticket = await self._answered(customer, letter.ticket)
        if ticket is not None:
            return await self._continue(customer, t, ticket, letter)
        draft = await self.drafts.get(customer.id)
        if draft is not None and draft.state == PENDING:
            return await self._pick_department(customer, t, dict(draft.data), letter)
        department = letter.department or self.default_department
        refused, files = await self._receive(t, letter)
        if department == ASK:
            await self.drafts.put(customer.id, PENDING, _pending(letter, files))
            return [*refused, self._department_question(t)]
        return [*refused, *await self._open(customer, t, department, letter.subject, letter.text, files)]

    async def _answered(self, customer: Customer, number: int | None) -> Ticket | None:
        """The ticket a letter answers, when its sender may write to it (their own, or a
        colleague's their organisation lets them work on); else the letter is a new ticket."""
        if number is None:
            return None
        try:
            ticket = await self.services.queries.get_for_customer(customer.id, number, Deed.WRITE)
        except (TicketNotFound, ReadOnlyTicket):
            return None
        return ticket

    async def _continue(self, customer: Customer, t: Translator, ticket: Ticket, letter: Letter) -> list[Reply]:
        number = ticket.number
        chosen = _NUMBER.fullmatch(letter.text)
        if chosen is not None:
            pick, comment = int(chosen.group(1)), chosen.group(2).strip()
            if pick in (1, 2) and not comment and ticket.status not in (Status.RESOLVED, Status.CLOSED):
                # A bare 1 or 2 answers a quote awaiting approval (Approve, Decline), as numbered,
                # in answer to that quote's mail: one replaced since is never approved by it.
                pending = await self.services.quotes.latest(number)
                if pending is not None and pending.state == QuoteState.PENDING:
                    if letter.quote == pending.id:
                        return await quotes.answer(self.services, customer, t,
                                                   QuoteAnswer(number, pending.id, pick == 1))
                    return [*await self._add(customer, t, number, letter), quotes.not_this_one(t, pending)]
            if ticket.status == Status.RESOLVED and pick in (1, 2):
                await self.services.tickets.settle_resolution(customer.id, number, solved=pick == 1, comment=comment)
                text = (t._("Thank you for confirming! Ticket {ticket} is now closed.", ticket=t.ticket(number))
                        if pick == 1 else
                        t._("Ticket {ticket} is back in progress, with your message.", ticket=t.ticket(number))
                        if comment else
                        t._("Ticket {ticket} is back in progress. Please tell us what is still not working.",
                            ticket=t.ticket(number)))
                return [Reply(text, locale=t.locale, ticket=number)]
            if ticket.status == Status.CLOSED and pick <= 5:
                try:  # the service knows whether this close is rated (and not yet)
                    await self.services.tickets.rate(customer.id, number, pick, comment or None)
                    return [Reply(t._("Thank you for your rating!"), locale=t.locale, ticket=number)]
                except (RatingNotPossible, ReadOnlyTicket):
                    pass  # no rating is asked of this ticket: the number is a message like any other
        return await self._add(customer, t, number, letter)

    async def _add(self, customer: Customer, t: Translator, number: int, letter: Letter) -> list[Reply]:
        """The letter as a message on the ticket; a word on each file refused."""
        refused, files = await self._receive(t, letter)
        text = _cut(letter.text, MESSAGE_MAX) or (_cut(letter.subject, MESSAGE_MAX) if not files else "")
        await self.services.tickets.add_customer_message(customer.id, number, text, files)
        return [replace(r, ticket=number) for r in refused]

    async def _open(self, customer: Customer, t: Translator, department: str, subject: str, text: str,
                    files: list[NewAttachment]) -> list[Reply]:
        subject = _cut(subject, SUBJECT_MAX) or _first_line(text, SUBJECT_MAX) or t._("(no subject)")
        ticket = await self.services.tickets.open_ticket(
            customer.id, department=department, request_type=self.type_for(department), subject=subject,
            description=_cut(text, DESCRIPTION_MAX) or subject, attachments=files)
        return [self.confirmation(t, customer, ticket)]

    def type_for(self, department: str) -> str:
        offered = [rt.code for rt in self.config.request_types_of(department)]
        return self.request_type if self.request_type in offered else offered[0]

    def confirmation(self, t: Translator, customer: Customer, ticket: Ticket) -> Reply:
        """The acknowledgement of a new ticket: its number, how to write to it, when to expect us."""
        text = t._(
            "Thank you for your message. We have opened ticket {ticket} for it: {subject}\n\n"
            "Expected time of our first response: {when}.",
            ticket=t.ticket(ticket.number), subject=ticket.subject, when=response_due(t, self.config, customer, ticket))
        return Reply(text, locale=t.locale, ticket=ticket.number)

    # -- the department, asked -------------------------------------------------------------

    def _department_question(self, t: Translator) -> Reply:
        lines = [f"{t.number(i)}. {d.name.get(t.locale)}" for i, d in enumerate(self.config.departments, 1)]
        return Reply(t._("Thank you for your message. Which team should handle it? Please reply with "
                         "the number of one of these:") + "\n\n" + "\n".join(lines), locale=t.locale)

    async def _pick_department(self, customer: Customer, t: Translator, data: dict[str, object],
                               letter: Letter) -> list[Reply]:
        departments = self.config.departments
        chosen = _NUMBER.fullmatch(letter.text)
        if chosen is None or not 1 <= int(chosen.group(1)) <= len(departments) or chosen.group(2).strip():
            # Not an answer to the question: this letter joins the one waiting, nothing is lost.
            refused, files = await self._receive(t, letter)
            await self.drafts.put(customer.id, PENDING, _pending(letter, files, data))
            return [*refused, self._department_question(t)]
        department = departments[int(chosen.group(1)) - 1].code
        files = [NewAttachment(**f) for f in data.get("files", [])]  # type: ignore[attr-defined]
        replies = await self._open(customer, t, department, str(data["subject"]), str(data["text"]), files)
        await self.drafts.clear(customer.id)
        return replies

    # -- files and quota ---------------------------------------------------------------------

    async def _receive(self, t: Translator, letter: Letter) -> tuple[list[Reply], list[NewAttachment]]:
        """The letter's files as stored, and a word on each one refused (too large, a type not
        taken); the letter as received is kept too, for the agents."""
        refused: list[Reply] = []
        files: list[NewAttachment] = []
        for file in letter.files:
            try:
                files.append(await self.files.receive(file))
            except DomainError as exc:
                name = re.split(r"[\\/]", file.filename)[-1].strip() or t._("(unnamed)")
                refused.append(Reply(f"{name}: {explain(t, exc)}", locale=t.locale))
        kept = [letter.record] if letter.record is not None else []
        if len(letter.text.strip()) > MESSAGE_MAX:  # cut in the ticket: the whole text beside it
            kept.append(_text_file(letter.text))
        for record in kept:
            try:
                files.append(await self.files.receive(record))
            except DomainError as exc:  # too large or not text: the ticket has its parts all the same
                log.info("a letter's %s is not kept: %s", record.filename, exc.code)
        return refused, files

    async def _within_quota(self, letter: Letter, answers: int) -> bool:
        """Count `answers` against the sender's hourly quota; False when it is used up."""
        if not answers:
            return True
        now = self.clock()
        limit = self.config.limits.automatic_answers_per_hour
        async with self.db.write() as session:
            quota = await session.get(AnswerQuota, (letter.platform, letter.sender), with_for_update=True)
            if quota is None:
                session.add(AnswerQuota(channel=letter.platform, sender=letter.sender, window_start=now, count=1))
                return True
            if now - quota.window_start >= timedelta(hours=1):
                quota.window_start, quota.count = now, 1
                return True
            if quota.count >= limit:
                LIMITED.labels("automatic_answers_per_hour").inc()
                log.warning("no answer to a letter: its sender had %s automatic answers this hour", limit)
                return False
            quota.count += 1
            return True


def _one(answers: list[Reply]) -> Reply:
    """A letter is answered with one letter: the answers' texts together, the ticket the one
    they name (the files refused are said beside the new ticket's number)."""
    if len(answers) == 1:
        return answers[0]
    ticket = next((a.ticket for a in answers if a.ticket is not None), None)
    ordered = sorted(answers, key=lambda a: a.ticket is None)  # the ticket's own words first
    return Reply("\n\n".join(a.text for a in ordered), ordered[-1].choices, ordered[0].locale, ticket=ticket)


def _pending(letter: Letter, files: list[NewAttachment], earlier: dict[str, object] | None = None) -> dict[str, object]:
    """A letter kept while its sender picks a department, joined to one kept before."""
    kept = [asdict(f) for f in files]
    if earlier is None:
        return {"subject": letter.subject, "text": letter.text, "files": kept}
    text = "\n\n".join(s for s in (str(earlier.get("text", "")), letter.text.strip()) if s)
    return {"subject": earlier.get("subject") or letter.subject, "text": text,
            "files": [*earlier.get("files", []), *kept]}  # type: ignore[misc]


def _cut(text: str, limit: int) -> str:
    """A letter's text cut to what its field holds: a pasted log or a long subject is no reason
    to refuse a letter, which has no second try at a shorter one; the letter as received is kept
    with the ticket for what was cut off."""
    return clip(text.strip(), limit)


def _text_file(text: str) -> IncomingFile:
    data = text.encode("utf-8")

    async def fetch() -> bytes:
        return data

    return IncomingFile("message.txt", len(data), fetch, "text/plain")


def _first_line(text: str, limit: int) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
