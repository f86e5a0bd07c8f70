"""The conversation's entry point: one inbound event in, the replies to show out.

States besides the ticket form (see intake.py): `language` (first contact), `reply` (the next
message goes to a chosen ticket), `pick` (which ticket a message belongs to), `link` (a new
ticket for one closed too long ago), `withdraw` (confirming a withdrawal), `resume` (an
unfinished form met /new). Every state lives in the database.
"""

from __future__ import annotations

import collections
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from core.chat import form as steps
from core.chat.drafts import DraftState, DraftStore
from core.chat.form import Intake
from core.chat.messages import Choice, Inbound, Reply
from core.chat.views import explain, ticket_actions, ticket_detail, ticket_line
from core.delivery.attachments import MAX_FILES, AttachmentStore, IncomingFile, TooManyFiles
from core.delivery.ordering import KeyedLocks
from core.domain.clock import Clock, utcnow
from core.domain.config import LANGUAGES, HelpdeskConfig
from core.domain.errors import DomainError, RatingNotPossible, ReopenWindowPassed
from core.domain.lifecycle import WITHDRAWN
from core.domain.model import DESCRIPTION_MAX, MESSAGE_MAX, OPEN_STATUSES, Status, TicketFilter, Who
from core.domain.textnorm import normalize, ticket_number
from core.i18n import LANGUAGE_NAMES, Translator, match_locale, translator
from core.metrics import LIMITED
from core.services import Services
from core.services.steps import NewAttachment, clean
from core.storage.models import Customer, Ticket

LANGUAGE, REPLY, PICK, LINK, WITHDRAW, RESUME = "language", "reply", "pick", "link", "withdraw", "resume"
RATE_COMMENT = "rate_comment"
COMMANDS = ("new", "tickets", "ticket", "reply", "confirm", "notsolved", "withdraw", "escalate",
            "language", "help", "cancel")
"""Stable command names; adapters register them as the translated command menu."""


def command_descriptions(t: Translator) -> dict[str, str]:
    return {
        "new": t._("Open a new ticket"),
        "tickets": t._("My tickets"),
        "ticket": t._("Show a ticket: /ticket 1042"),
        "reply": t._("Write to a ticket: /reply 1042"),
        "confirm": t._("Confirm that a resolved ticket is solved: /confirm 1042"),
        "notsolved": t._("Say that a resolved ticket is not solved: /notsolved 1042"),
        "withdraw": t._("Withdraw a ticket: /withdraw 1042"),
        "escalate": t._("Ask to escalate a ticket whose first response is overdue: /escalate 1042"),
        "language": t._("Change the language"),
        "help": t._("What this bot can do"),
        "cancel": t._("Cancel the current step"),
    }


class Conversation:
    def __init__(
        self,
        services: Services,
        drafts: DraftStore,
        files: AttachmentStore,
        config: HelpdeskConfig,
        *,
        default_locale: str = "en",
        clock: Clock = utcnow,
    ) -> None:
        self.services = services
        self.drafts = drafts
        self.config = config
        self.default_locale = default_locale
        self.clock = clock
        self.intake = Intake(config, services, drafts, files)
        self.files = files
        self._locks: KeyedLocks[tuple[str, str]] = KeyedLocks()
        self._recent: dict[tuple[str, str], collections.deque[datetime]] = {}
        self._warned: set[tuple[str, str]] = set()  # told "too fast", and still too fast since

    def _too_fast(self, key: tuple[str, str]) -> bool:
        """Messages per minute per customer (in this process; buttons do not count)."""
        now = self.clock()
        recent = self._recent.setdefault(key, collections.deque())
        while recent and now - recent[0] > timedelta(minutes=1):
            recent.popleft()
        if len(recent) >= self.config.limits.messages_per_minute:
            return True
        recent.append(now)
        self._warned.discard(key)
        if len(self._recent) > 50_000:  # forget the quiet ones now and then
            self._recent = {k: v for k, v in self._recent.items() if v and now - v[-1] < timedelta(minutes=1)}
            self._warned &= self._recent.keys()
        return False

    def locale_of(self, customer: Customer, language_code: str | None = None) -> str:
        return customer.locale or match_locale(language_code) or self.default_locale

    async def handle(self, event: Inbound) -> list[Reply]:
        # Locked before the first await, so one customer's events are handled one at a time and
        # in the order they arrived (asyncio locks are fair).
        key = (event.platform, event.user_id)
        async with self._locks(key):
            customer, draft = await self.drafts.load(event.platform, event.user_id)
            if event.choice is None and self._too_fast(key):
                LIMITED.labels("messages_per_minute").inc()
                if key in self._warned:  # told once in this window: answering every one feeds a flood
                    return []
                self._warned.add(key)
                locale = (customer.locale if customer else None) or match_locale(event.language_code)
                t = translator(locale or self.default_locale)
                return [Reply(t._("You are sending messages faster than we can take them. Please wait a "
                                  "minute and send this one again."), locale=t.locale)]
            if customer is None or customer.chat_id != event.chat_id or not customer.reachable:
                customer = await self.services.customers.customer(
                    event.platform, event.user_id, event.chat_id, event.display_name)
            t = translator(self.locale_of(customer, event.language_code))
            out: list[Reply] = []
            if draft is not None and self._expired(draft):
                await self.drafts.clear(customer.id)
                if draft.state in steps.STATES:
                    out.append(self._expired_notice(t))
                draft = None
            try:
                out += await self._dispatch(customer, t, draft, event)
            except DomainError as exc:
                out.append(Reply(explain(t, exc), locale=t.locale))
                again = await self._current_prompt(customer, t)
                if again is not None:
                    out.append(again)
            return out

    # -- dispatch -----------------------------------------------------------------------

    async def _dispatch(
        self, customer: Customer, t: Translator, draft: DraftState | None, ev: Inbound
    ) -> list[Reply]:
        if customer.locale is None and not (ev.choice or "").startswith("lang:"):
            return await self._first_contact(customer, t, draft, ev)
        if ev.choice is not None:
            return await self._on_choice(customer, t, draft, ev.choice)
        if ev.file is not None:
            return await self._on_file(customer, t, draft, ev.file, ev.text or "")
        text = ev.text or ""
        if normalize(text).startswith("/"):
            name, _, args = normalize(text)[1:].partition(" ")
            return await self._on_command(customer, t, draft, name.split("@")[0].lower(), args.strip())
        return await self._on_text(customer, t, draft, text)

    async def _first_contact(
        self, customer: Customer, t: Translator, draft: DraftState | None, ev: Inbound
    ) -> list[Reply]:
        data = dict(draft.data) if draft and draft.state == LANGUAGE else {}
        refused: list[Reply] = []
        if ev.text and not normalize(ev.text).startswith("/"):
            try:  # it becomes the ticket's description: checked now, not after the review showed it
                data["description"] = _pending_text(data.get("description"), ev.text, "description")
            except DomainError as exc:
                refused.append(Reply(explain(t, exc), locale=t.locale))
        await self.drafts.put(customer.id, LANGUAGE, data)
        welcome = t._("Hello! This is the support desk. We will open a ticket for your request "
                      "and keep you informed here.")
        return [*refused, Reply(welcome, locale=t.locale), self._language_prompt(t)]

    def _language_prompt(self, t: Translator) -> Reply:
        order = [t.locale, *[code for code in LANGUAGES if code != t.locale]]
        rows = tuple((Choice(f"lang:{code}", LANGUAGE_NAMES[code]),) for code in order)
        return Reply(t._("Please choose your language."), rows, t.locale)

    # -- buttons ------------------------------------------------------------------------

    async def _on_choice(
        self, customer: Customer, t: Translator, draft: DraftState | None, key: str
    ) -> list[Reply]:
        kind, _, value = key.partition(":")
        state = draft.state if draft else None
        data = dict(draft.data) if draft else {}
        number = ticket_number(value.rpartition(":")[2]) if value else None

        if kind == "lang" and value in LANGUAGES:
            await self.services.customers.set_locale(customer.id, value)
            customer.locale = value
            t = translator(value)
            if state == LANGUAGE:  # first contact: straight on to the ticket form
                return await self.intake.start(customer, t, data)
            # TRANSLATORS: name the language of this translation, e.g. "in Czech".
            return [Reply(t._("Done: I will write to you in English from now on."), locale=t.locale),
                    *[r for r in [await self._current_prompt(customer, t)] if r is not None]]
        if key == "nav:cancel":
            return await self._cancel(customer, t, draft)
        if key == "nav:back" and state in steps.STATES:
            return await self.intake.back(customer, t, state, data)
        if key == "new" or key == "resume:restart":
            if key == "new" and state in steps.STATES:
                return [self._resume_prompt(t)]
            return await self.intake.start(customer, t)
        if key == "resume:continue" and state in steps.STATES:
            return [self.intake.prompt(t, state, data)]
        if kind == "list" and value in TicketFilter._value2member_map_:
            return await self._list(customer, t, TicketFilter(value))
        if kind == "t" and number is not None:
            return await self._show(customer, t, number)
        if kind == "reply" and number is not None:
            return await self._ask_reply(customer, t, draft, number)
        if kind in ("confirm", "dispute") and number is not None:
            return await self._settle(customer, t, draft, number, solved=kind == "confirm")
        if kind == "escalate" and number is not None:
            await self.services.tickets.request_escalation(customer.id, number)
            return [Reply(t._("Done: ticket {ticket} has been passed to our senior specialists. We are sorry "
                              "for the wait.", ticket=t.ticket(number)), locale=t.locale)]
        if kind == "rate":
            score = ticket_number(key.rsplit(":", 1)[-1])
            number = ticket_number(value.split(":")[0])
            if number is not None and score is not None:
                try:
                    await self.services.tickets.rate(customer.id, number, score)
                except RatingNotPossible as exc:  # the refusal alone: no prompt after it thanks for a rating
                    return [Reply(explain(t, exc), locale=t.locale)]
                await self._interrupt(customer, draft, RATE_COMMENT, {"number": number})
                return [Reply(t._("Thank you for your rating! If you like, write a comment in one message."),
                              ((Choice("rate_done", t._("No comment")),),), t.locale, expects_text=True)]
        if key == "rate_done" and state == RATE_COMMENT:
            await self._resume(customer, data)
            return [Reply(t._("Thank you!"), locale=t.locale)]
        if kind == "withdraw" and number is not None:
            await self.services.queries.get_for_customer(customer.id, number)
            await self._interrupt(customer, draft, WITHDRAW, {"number": number})
            return [Reply(
                t._("Withdraw ticket {ticket}? It will be closed without a solution.",
                    ticket=t.ticket(number)),
                ((Choice(f"withdraw_yes:{number}", t._("Yes, withdraw it")),
                  Choice("withdraw_no", t._("No, keep it"))),), t.locale)]
        if kind == "withdraw_yes" and number is not None and state == WITHDRAW \
                and data.get("number") == number:
            await self.services.tickets.change_status(number, Status.CLOSED, Who.customer(customer.id), WITHDRAWN)
            await self._resume(customer, data)
            return [Reply(t._("Ticket {ticket} has been withdrawn.", ticket=t.ticket(number)),
                          locale=t.locale)]
        if key == "withdraw_no" and state == WITHDRAW:
            await self._resume(customer, data)
            return [Reply(t._("Fine, the ticket stays open."), locale=t.locale)]
        if kind == "pick" and state == PICK:
            if value == "new":
                return await self.intake.start(customer, t, _pending_as_form(data))
            if number is not None:
                return await self._deliver(customer, t, number, data, clear_draft=True)
        if kind == "link" and state == LINK and number is not None:
            return await self.intake.start(customer, t, {**_pending_as_form(data), "linked_to": number})
        if key == "dup:add" or (kind == "dup" and value.startswith("add:") and state == steps.DUPLICATE):
            target = data.get("duplicate_of")
            if target is not None:
                await self.drafts.put(customer.id, REPLY, {"number": target})
                return [Reply(t._("Write the message to add to ticket {ticket}.", ticket=t.ticket(target)),
                              ((Choice("nav:cancel", t._("Cancel")),),), t.locale, expects_text=True)]
        if state in steps.STATES:
            result = await self.intake.choose(customer, t, state, data, key)
            if result is not None:
                return result
        if key == "rev:submit" and draft is None:
            # Sent already: a double tap, or the same press redelivered after a crash that came
            # between opening the ticket and answering. Say again what was said, not "stale".
            latest = await self.services.queries.list_for_customer(customer.id, TicketFilter.ALL, limit=1)
            if latest and self.clock() - latest[0].created_at < timedelta(minutes=10):
                return [self.intake.confirmation(t, latest[0])]
        return await self._stale(customer, t)

    async def _stale(self, customer: Customer, t: Translator) -> list[Reply]:
        out = [Reply(t._("This button is no longer active."), locale=t.locale)]
        again = await self._current_prompt(customer, t)
        return out + ([again] if again is not None else [])

    # -- commands -----------------------------------------------------------------------

    async def _on_command(
        self, customer: Customer, t: Translator, draft: DraftState | None, name: str, args: str
    ) -> list[Reply]:
        state = draft.state if draft else None
        number = ticket_number(args) if args else None
        if name == "start":
            if state in steps.STATES:
                return [self._resume_prompt(t)]
            return [self._help(t)]
        if name == "new":
            return await self._on_choice(customer, t, draft, "new")
        if name == "tickets":
            views = {"open": TicketFilter.OPEN, "done": TicketFilter.DONE}
            return await self._list(customer, t, views.get(args.lower(), TicketFilter.ALL))
        if name == "ticket":
            if number is None:
                return [Reply(t._("Please give the ticket number, for example: /{command} 1042",
                                  command="ticket"), locale=t.locale)]
            return await self._show(customer, t, number)
        if name == "reply":
            if number is None:
                return await self._list(customer, t, TicketFilter.OPEN)
            return await self._ask_reply(customer, t, draft, number)
        if name in ("confirm", "notsolved", "withdraw", "escalate"):
            if number is None:
                return [Reply(t._("Please give the ticket number, for example: /{command} 1042",
                                  command=name), locale=t.locale)]
            key = {"confirm": "confirm", "notsolved": "dispute", "withdraw": "withdraw",
                   "escalate": "escalate"}[name]
            return await self._on_choice(customer, t, draft, f"{key}:{number}")
        if name == "language":
            return [self._language_prompt(t)]
        if name == "help":
            return [self._help(t)]
        if name == "cancel":
            return await self._cancel(customer, t, draft)
        if name == "back" and draft is not None and state in steps.STATES:
            return await self.intake.back(customer, t, state, dict(draft.data))
        return [Reply(t._("I do not know that command."), locale=t.locale), self._help(t)]

    def _help(self, t: Translator) -> Reply:
        lines = [t._("I can open support tickets and keep you informed about them. Commands:")]
        lines += [f"/{name} — {text}" for name, text in command_descriptions(t).items()]
        lines.append(t._("You can also simply write a message: I will add it to your open ticket."))
        return Reply("\n".join(lines), ((Choice("new", t._("Open a new ticket")),
                                         Choice("list:all", t._("My tickets"))),), t.locale)

    def _resume_prompt(self, t: Translator) -> Reply:
        return Reply(t._("You have an unfinished ticket. Continue it or start over?"),
                     ((Choice("resume:continue", t._("Continue")),
                       Choice("resume:restart", t._("Start over"))),), t.locale)

    async def _cancel(self, customer: Customer, t: Translator, draft: DraftState | None) -> list[Reply]:
        if draft is None or draft.state == LANGUAGE:
            return [Reply(t._("There is nothing to cancel."), locale=t.locale)]
        await self.drafts.clear(customer.id)
        return [Reply(t._("Cancelled. Nothing was sent."), locale=t.locale)]

    # -- tickets ------------------------------------------------------------------------

    async def _list(self, customer: Customer, t: Translator, view: TicketFilter) -> list[Reply]:
        tickets = await self.services.queries.list_for_customer(customer.id, view, limit=20)
        titles = {
            TicketFilter.ALL: t._("Your tickets:"),
            TicketFilter.OPEN: t._("Your open tickets:"),
            TicketFilter.DONE: t._("Your resolved and closed tickets:"),
        }
        if tickets:
            text = "\n".join([titles[view], *(ticket_line(t, x) for x in tickets)])
        else:
            text = t._("You have no tickets here yet.")
        rows: list[tuple[Choice, ...]] = [
            (Choice(f"t:{x.number}", t.ticket(x.number) + " " + x.subject[:40]),) for x in tickets[:10]
        ]
        rows.append((Choice("list:all", t._("All")), Choice("list:open", t._("Open")),
                     Choice("list:done", t._("Resolved and closed"))))
        rows.append((Choice("new", t._("Open a new ticket")),))
        return [Reply(text, tuple(rows), t.locale)]

    async def _show(self, customer: Customer, t: Translator, number: int) -> list[Reply]:
        ticket = await self.services.queries.get_for_customer(customer.id, number)
        thread = await self.services.queries.thread(ticket.id)
        files = await self.services.queries.attachments(ticket.id)
        text = ticket_detail(t, self.config, ticket, thread, len(files))
        return [Reply(text, ticket_actions(t, ticket, self.clock()), t.locale)]

    async def _ask_reply(
        self, customer: Customer, t: Translator, draft: DraftState | None, number: int
    ) -> list[Reply]:
        await self.services.queries.get_for_customer(customer.id, number)
        await self._interrupt(customer, draft, REPLY, {"number": number})
        return [Reply(t._("Write your message for ticket {ticket}. You can also send files.",
                          ticket=t.ticket(number)),
                      ((Choice("nav:cancel", t._("Cancel")),),), t.locale, expects_text=True)]

    async def _settle(
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
                          ticket=t.ticket(number)), ((Choice("nav:cancel", t._("Cancel")),),), t.locale,
                      expects_text=True)]

    # -- free text and files --------------------------------------------------------------

    async def _on_text(
        self, customer: Customer, t: Translator, draft: DraftState | None, text: str
    ) -> list[Reply]:
        state = draft.state if draft else None
        data = dict(draft.data) if draft else {}
        if state in steps.STATES:
            return await self.intake.type_text(customer, t, state, data, text)
        if state == REPLY:
            return await self._deliver(customer, t, data["number"], {"text": text, **_resume_of(data)},
                                       clear_draft=not data.get("resume"))
        if state == RATE_COMMENT:
            await self.services.tickets.comment_rating(customer.id, data["number"], text)
            await self._resume(customer, data)
            return [Reply(t._("Thank you for your feedback."), locale=t.locale)]
        if state in (PICK, LINK):
            data["text"] = _pending_text(data.get("text"), text, "message")
            await self.drafts.put(customer.id, state, data)
            return [await self._current_prompt(customer, t) or Reply("", locale=t.locale)]
        return await self._route(customer, t, {"text": _pending_text(None, text, "message")})

    async def _on_file(
        self, customer: Customer, t: Translator, draft: DraftState | None, file: IncomingFile, caption: str
    ) -> list[Reply]:
        state = draft.state if draft else None
        data = dict(draft.data) if draft else {}
        if state in steps.STATES:
            return await self.intake.add_file(customer, t, state, data, file)
        if state in (PICK, LINK) and len(data.get("files", [])) >= MAX_FILES:
            raise TooManyFiles()  # they may become a new ticket's files: refused before the download
        stored = asdict(await self.files.receive(file))
        if state == REPLY:
            pending = {"text": caption, "files": [stored], **_resume_of(data)}
            return await self._deliver(customer, t, data["number"], pending, clear_draft=not data.get("resume"))
        if state in (PICK, LINK):
            data.setdefault("files", []).append(stored)
            await self.drafts.put(customer.id, state, data)
            return [await self._current_prompt(customer, t) or Reply("", locale=t.locale)]
        return await self._route(customer, t, {"text": caption, "files": [stored]})

    async def _route(self, customer: Customer, t: Translator, pending: dict[str, Any]) -> list[Reply]:
        """A message outside any step: to the one open ticket, else ask which."""
        active = await self.services.queries.list_for_customer(customer.id, TicketFilter.ALL, limit=50)
        candidates = [x for x in active if x.status in OPEN_STATUSES or x.status == Status.RESOLVED]
        open_ones = [x for x in candidates if x.status in OPEN_STATUSES]
        if len(candidates) == 1 and open_ones:
            return await self._deliver(customer, t, open_ones[0].number, pending, clear_draft=False)
        if len(candidates) == 1:  # one resolved ticket: is this a "thanks" or "still broken"?
            ticket = candidates[0]
            await self.drafts.put(customer.id, PICK, pending)
            return [Reply(
                t._("Your ticket {ticket} “{subject}” is marked as resolved. Is your problem solved?",
                    ticket=t.ticket(ticket.number), subject=ticket.subject),
                ((Choice(f"confirm:{ticket.number}", t._("Yes, it is solved")),
                  Choice(f"dispute:{ticket.number}", t._("No, not solved"))),
                 (Choice("pick:new", t._("It is a new topic: open a new ticket")),)), t.locale)]
        await self.drafts.put(customer.id, PICK, pending)
        return [self._pick_prompt(t, candidates)]

    def _pick_prompt(self, t: Translator, candidates: list[Ticket]) -> Reply:
        if not candidates:
            return Reply(t._("You have no open tickets. Shall I open a new ticket with this message?"),
                         ((Choice("pick:new", t._("Open a new ticket")),
                           Choice("nav:cancel", t._("Cancel"))),), t.locale)
        rows: list[tuple[Choice, ...]] = [
            (Choice(f"pick:{x.number}", f"{t.ticket(x.number)} {x.subject[:40]}"),) for x in candidates[:10]]
        rows.append((Choice("pick:new", t._("Open a new ticket")), Choice("nav:cancel", t._("Cancel"))))
        return Reply(t._("Which ticket is this message about?"), tuple(rows), t.locale)

    async def _deliver(
        self, customer: Customer, t: Translator, number: int, pending: dict[str, Any], *, clear_draft: bool
    ) -> list[Reply]:
        files = [NewAttachment(**f) for f in pending.get("files", [])]
        try:
            ticket = await self.services.tickets.add_customer_message(
                customer.id, number, pending.get("text", ""), files, clear_draft=clear_draft
            )
        except ReopenWindowPassed:
            await self.drafts.put(customer.id, LINK, {**pending, "number": number})
            return [self._link_prompt(t, number)]
        if pending.get("resume"):
            await self._resume(customer, pending)
        out = [Reply(t._("Your message has been added to ticket {ticket}.", ticket=t.ticket(number)),
                     locale=t.locale)]
        if ticket.queue_hint_due:
            out.append(Reply(t._(
                "Your ticket keeps its place in the queue: it is ordered by your first unanswered "
                "message, so further messages are added to it but do not move it forward."),
                locale=t.locale))
        return out

    def _link_prompt(self, t: Translator, number: int) -> Reply:
        return Reply(
            t._("Ticket {ticket} was closed some time ago. New topics belong in new tickets: "
                "shall I open a new ticket linked to it, with your message?", ticket=t.ticket(number)),
            ((Choice(f"link:{number}", t._("Open a linked ticket")), Choice("nav:cancel", t._("Cancel"))),),
            t.locale)

    # -- state helpers ----------------------------------------------------------------------

    async def _interrupt(
        self, customer: Customer, draft: DraftState | None, state: str, data: dict[str, Any]
    ) -> None:
        """Enter a short state, keeping an unfinished ticket form to come back to."""
        if draft is not None and draft.state in steps.STATES:
            data = {**data, "resume": {"state": draft.state, "data": draft.data}}
        elif draft is not None and "resume" in draft.data:
            data = {**data, "resume": draft.data["resume"]}
        await self.drafts.put(customer.id, state, data)

    async def _resume(self, customer: Customer, data: dict[str, Any]) -> None:
        saved = data.get("resume")
        if saved:
            await self.drafts.put(customer.id, saved["state"], saved["data"])
        else:
            await self.drafts.clear(customer.id)

    async def _current_prompt(self, customer: Customer, t: Translator) -> Reply | None:
        draft = await self.drafts.get(customer.id)
        if draft is None:
            return None
        if draft.state in steps.STATES:
            return self.intake.prompt(t, draft.state, draft.data)
        if draft.state == REPLY:
            return Reply(t._("Write your message for ticket {ticket}. You can also send files.",
                             ticket=t.ticket(draft.data["number"])),
                         ((Choice("nav:cancel", t._("Cancel")),),), t.locale, expects_text=True)
        if draft.state == PICK:
            active = await self.services.queries.list_for_customer(customer.id, TicketFilter.ALL, limit=50)
            return self._pick_prompt(t, [x for x in active if x.status in OPEN_STATUSES
                                         or x.status == Status.RESOLVED])
        if draft.state == LINK:
            return self._link_prompt(t, draft.data["number"])
        if draft.state == RATE_COMMENT:
            return Reply(t._("Thank you for your rating! If you like, write a comment in one message."),
                         ((Choice("rate_done", t._("No comment")),),), t.locale, expects_text=True)
        if draft.state == LANGUAGE:
            return self._language_prompt(t)
        return None

    async def expire_drafts(self) -> int:
        """The periodic sweep: stale forms go, and their owners are told."""
        hours = self.config.lifecycle.draft_ttl_hours
        return await self.drafts.expire(
            self.clock() - timedelta(hours=hours), notify_states=steps.STATES, hours=hours
        )

    def _expired(self, draft: DraftState) -> bool:
        ttl = timedelta(hours=self.config.lifecycle.draft_ttl_hours)
        return draft.updated_at is not None and self.clock() - draft.updated_at > ttl

    def _expired_notice(self, t: Translator) -> Reply:
        hours = int(self.config.lifecycle.draft_ttl_hours)
        return Reply(t.ngettext(
            "Your unfinished ticket was discarded after {n} hour without activity. "
            "Start again with /new.",
            "Your unfinished ticket was discarded after {n} hours without activity. "
            "Start again with /new.", hours), locale=t.locale)


def _pending_text(earlier: str | None, text: str, field: str) -> str:
    """A message kept for later (a ticket's description, or a ticket's message once the customer
    says which), with what was kept before: checked as it will be then."""
    joined = "\n".join(filter(None, [earlier, text.strip()]))
    return clean(field, joined, min(DESCRIPTION_MAX, MESSAGE_MAX)) if joined else ""


def _pending_as_form(data: dict[str, Any]) -> dict[str, Any]:
    """A message that started a ticket becomes its description and its files."""
    form: dict[str, Any] = {}
    if data.get("text", "").strip():
        form["description"] = data["text"].strip()
    if data.get("files"):
        form["attachments"] = list(data["files"])
    if data.get("description"):
        form["description"] = data["description"]
    return form


def _resume_of(data: dict[str, Any]) -> dict[str, Any]:
    return {"resume": data["resume"]} if data.get("resume") else {}
