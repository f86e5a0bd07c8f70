"""The conversation's entry point: one inbound event in, the replies to show out.

Per customer, one event at a time and in order (a lock), and a cap on messages per minute;
then a dispatch by state and by typed action (core.chat.actions) to the ticket form
(core.chat.form, walked by core.chat.intake) or to the short flows around tickets
(core.chat.flows). Every state lives in the database (core.chat.drafts).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from core.chat import actions as act
from core.chat import form as steps
from core.chat import letters, quotes
from core.chat.drafts import DraftState, DraftStore
from core.chat.flows import (
    LANGUAGE,
    LINK,
    PICK,
    RATE_COMMENT,
    REPLY,
    RESUME,
    WITHDRAW,
    Flows,
    language_prompt,
    pending_text,
)
from core.chat.intake import Intake
from core.chat.listing import Listing
from core.chat.membership import STATES as MEMBERSHIP
from core.chat.membership import Membership
from core.chat.messages import Choice, Inbound, Reply
from core.chat.selfhelp import ARTICLE_COMMENT, SelfHelp
from core.chat.stray import Strays
from core.chat.views import explain
from core.chat.zones import ZoneFlow
from core.delivery.attachments import AttachmentStore
from core.delivery.ordering import KeyedLocks
from core.domain.clock import Clock, utcnow
from core.domain.config import LANGUAGES, HelpdeskConfig
from core.domain.errors import DomainError
from core.domain.model import TicketFilter
from core.domain.textnorm import normalize, ticket_number
from core.i18n import Translator, pick_language, translator
from core.metrics import LIMITED
from core.services import Services
from core.storage.models import Customer

__all__ = ["COMMANDS", "LANGUAGE", "LINK", "PICK", "RATE_COMMENT", "REPLY", "RESUME", "WITHDRAW", "Conversation",
           "command_descriptions"]
COMMANDS = ("new", "tickets", "ticket", "reply", "confirm", "notsolved", "withdraw", "escalate",
            "organisation", "language", "timezone", "help", "cancel")
"""Stable command names; adapters register them as the translated command menu."""


def command_descriptions(t: Translator, offered: tuple[str, ...] = LANGUAGES) -> dict[str, str]:
    """What each command does, in `t`'s language; no /language where one language is offered."""
    texts = {
        "new": t._("Open a new ticket"),
        "tickets": t._("My tickets"),
        "ticket": t._("Show a ticket: /ticket 1042"),
        "reply": t._("Write to a ticket: /reply 1042"),
        "confirm": t._("Confirm that a resolved ticket is solved: /confirm 1042"),
        "notsolved": t._("Say that a resolved ticket is not solved: /notsolved 1042"),
        "withdraw": t._("Withdraw a ticket: /withdraw 1042"),
        "escalate": t._("Ask to escalate a ticket whose first response is overdue: /escalate 1042"),
        "organisation": t._("Join your organisation with your work mail address"),
        "language": t._("Change the language"),
        "timezone": t._("Choose your time zone: /timezone Berlin"),
        "help": t._("What this bot can do"),
        "cancel": t._("Cancel the current step"),
    }
    return {name: text for name, text in texts.items() if name != "language" or len(offered) > 1}


class Conversation:
    def __init__(
        self,
        services: Services,
        drafts: DraftStore,
        files: AttachmentStore,
        config: HelpdeskConfig,
        *,
        clock: Clock = utcnow,
        channel_help: Mapping[str, Callable[[Translator], Sequence[tuple[str, str]]]] | None = None,
    ) -> None:
        self.services = services
        # Commands a channel adds of its own (a terminal's way to attach a file), by channel name.
        self.channel_help = dict(channel_help or {})
        self.drafts = drafts
        self.config = config
        self.clock = clock
        self.intake = Intake(config, services, drafts, files)
        self.flows = Flows(services, drafts, self.intake, files, config, clock)
        self.strays = Strays(services, self.intake, clock)
        self.zones = ZoneFlow(services, config, clock)
        self.selfhelp = SelfHelp(services, self.flows)  # /help <words>, "Was this helpful?"
        self.listing, self.membership = Listing(services, config, clock), Membership(services, self.flows, config)
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

    def locale_of(self, chosen: str | None, language_code: str | None = None) -> str:
        """The customer's chosen language; before they chose, the platform's; either only when
        offered, else the deployment's default."""
        return pick_language(self.config.languages, chosen if chosen else language_code)

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
                t = translator(self.locale_of(customer.locale if customer else None, event.language_code))
                return [Reply(t._("You are sending messages faster than we can take them. Please wait a "
                                  "minute and send this one again."), locale=t.locale)]
            if customer is None or customer.chat_id != event.chat_id or not customer.reachable:
                customer = await self.services.customers.customer(
                    event.platform, event.user_id, event.chat_id, event.display_name)
            t = translator(self.locale_of(customer.locale, event.language_code))
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
                again = await self.flows.current_prompt(customer, t)
                if again is not None:
                    out.append(again)
            return out

    # -- dispatch -----------------------------------------------------------------------

    async def _dispatch(
        self, customer: Customer, t: Translator, draft: DraftState | None, ev: Inbound
    ) -> list[Reply]:
        action = act.decode(ev.choice) if ev.choice is not None else None
        if customer.locale is None and not isinstance(action, act.SetLanguage):
            return await self._first_contact(customer, t, draft, ev)
        if ev.choice is not None:
            return await self._on_action(customer, t, draft, action)
        state = draft.state if draft else None
        if ev.file is not None:
            if state in steps.STATES:
                assert draft is not None
                return await self.intake.add_file(customer, t, state, dict(draft.data), ev.file)
            return await self.flows.on_file(customer, t, draft, ev.file, ev.text or "")
        text = ev.text or ""
        if normalize(text).startswith("/"):
            name, _, args = normalize(text)[1:].partition(" ")
            return await self._on_command(customer, t, draft, name.split("@")[0].lower(), args.strip())
        if state in steps.STATES:
            assert draft is not None
            return await self.intake.type_text(customer, t, state, dict(draft.data), text)
        if state == ARTICLE_COMMENT:
            assert draft is not None
            return await self.selfhelp.comment(customer, t, dict(draft.data), text)
        if state in MEMBERSHIP:
            assert draft is not None
            return await self.membership.on_text(customer, t, draft, text)
        return await self.flows.on_text(customer, t, draft, text)

    async def _first_contact(
        self, customer: Customer, t: Translator, draft: DraftState | None, ev: Inbound
    ) -> list[Reply]:
        data = dict(draft.data) if draft and draft.state == LANGUAGE else {}
        refused: list[Reply] = []
        if ev.text and not normalize(ev.text).startswith("/"):
            try:  # it becomes the ticket's description: checked now, not after the review showed it
                data["description"] = pending_text(data.get("description"), ev.text, "description")
            except DomainError as exc:
                refused.append(Reply(explain(t, exc), locale=t.locale))
        if len(self.config.languages) == 1:  # nothing to choose: straight on to the ticket form
            await self.services.customers.set_locale(customer.id, t.locale)
            customer.locale = t.locale
            return [*refused, self._welcome(t), *await self.intake.start(customer, t, data)]
        await self.drafts.put(customer.id, LANGUAGE, {**data, "greeted": t.locale})
        return [*refused, self._welcome(t), language_prompt(t, self.config.languages)]

    def _welcome(self, t: Translator) -> Reply:
        return Reply(t._("Hello! This is the support desk. We will open a ticket for your request "
                         "and keep you informed here."), locale=t.locale)

    # -- buttons ------------------------------------------------------------------------

    async def _on_action(
        self, customer: Customer, t: Translator, draft: DraftState | None, action: act.Action | None
    ) -> list[Reply]:
        """A pressed button (or a command standing for one). An action that does not fit the
        current state falls through to the form's steps, then to "no longer active"."""
        state = draft.state if draft else None
        data = dict(draft.data) if draft else {}
        flows = self.flows
        match action:
            case act.SetLanguage(code=code) if code in self.config.languages:
                await self.services.customers.set_locale(customer.id, code)
                customer.locale = code
                t = translator(code)
                if state == LANGUAGE:  # first contact: greeted in the chosen language, then the form
                    welcome = [] if data.pop("greeted", None) == code else [self._welcome(t)]
                    return [*welcome, *await self.intake.start(customer, t, data)]
                # TRANSLATORS: name the language of this translation, e.g. "in Czech".
                return [Reply(t._("Done: I will write to you in English from now on."), locale=t.locale),
                        *[r for r in [await flows.current_prompt(customer, t)] if r is not None]]
            case act.SetZone(name=name):
                return [*await self.zones.choose(t, customer, name),
                        *[r for r in [await flows.current_prompt(customer, t)] if r is not None]]
            case act.Cancel():
                return await self._cancel(customer, t, draft)
            case act.Back() if state in steps.STATES:
                assert state is not None
                return await self.intake.back(customer, t, state, data)
            case act.NewTicket() if state in steps.STATES:
                return [self._resume_prompt(t)]
            case act.NewTicket() | act.Resume(restart=True):
                return await self.intake.start(customer, t)
            case act.Resume(restart=False) if state in steps.STATES:
                assert state is not None
                return [self.intake.prompt(t, state, data)]
            case act.ListTickets(view=view, by=by):
                return await self.listing.tickets(customer, t, view, by)
            case act.ListCreators(view=view):
                return await self.listing.creators(customer, t, view)
            case act.ShowTicket(number=number):
                return await self.listing.show(customer, t, number)
            case act.SendCode() | act.OtherAddress() | act.ForgetAddress():
                return await self.membership.on_action(customer, t, draft, action)
            case act.WriteTo(number=number):
                return await flows.ask_reply(customer, t, draft, number)
            case act.Settle(number=number, solved=solved):
                return await flows.settle(customer, t, draft, number, solved=solved)
            case act.Escalate(number=number):
                return await flows.escalate(customer, t, number)
            case act.QuoteAnswer():
                return await quotes.answer(self.services, customer, t, action)
            case act.Rate(number=number, score=score):
                return await flows.rate(customer, t, draft, number, score)
            case act.RateDone() if state == RATE_COMMENT:
                return await flows.rate_done(customer, t, data)
            case act.Withdraw(number=number):
                return await flows.ask_withdraw(customer, t, draft, number)
            case act.WithdrawYes(number=number) if state == WITHDRAW and data.get("number") == number:
                return await flows.withdraw(customer, t, number, data)
            case act.WithdrawNo() if state == WITHDRAW:
                return await flows.keep(customer, t, data)
            case act.PickTicket(number=number) if state == PICK:
                return await flows.pick(customer, t, data, number)
            case act.LinkTicket(number=number) if state == LINK:
                return await flows.link(customer, t, data, number)
            case act.ArticleOpen(slug=slug, offered=False):
                return await self.selfhelp.read(customer, t, slug)
            case act.ArticleHelpful():
                return await self.selfhelp.feedback(customer, t, draft, action)
            case act.ArticleNoComment() if state == ARTICLE_COMMENT:
                return await self.selfhelp.no_comment(customer, t, data)
            case act.UndoAdded() | act.MoveAdded() | act.MoveAddedTo():
                moved = await self.strays.on_action(customer, t, draft, action)
                if moved is not None:
                    return moved
            case act.AddToDuplicate(number=number) if (number is None or state == steps.DUPLICATE) \
                    and data.get("duplicate_of") is not None:
                return await flows.add_to_duplicate(customer, t, data["duplicate_of"])
        if state in steps.STATES:
            result = await self.intake.choose(customer, t, state, data, action)
            if result is not None:
                return result
        if isinstance(action, act.Submit) and draft is None:
            # Sent already: a double tap, or the same press redelivered after a crash that came
            # between opening the ticket and answering. Say again what was said, not "stale".
            latest = await self.services.queries.list_for_customer(customer.id, TicketFilter.ALL, limit=1)
            if latest and self.clock() - latest[0].created_at < timedelta(minutes=10):
                return [self.intake.confirmation(t, customer, latest[0])]
        return await self._stale(customer, t)

    async def _stale(self, customer: Customer, t: Translator) -> list[Reply]:
        out = [Reply(t._("This button is no longer active."), locale=t.locale)]
        again = await self.flows.current_prompt(customer, t)
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
            return [self._help(t, customer.platform)]
        if name == "new":
            return await self._on_action(customer, t, draft, act.NewTicket())
        if name == "tickets":
            views = {"open": TicketFilter.OPEN, "done": TicketFilter.DONE}
            return await self.listing.tickets(customer, t, views.get(args.lower(), TicketFilter.ALL))
        if name == "ticket":
            if number is None:
                return [Reply(t._("Please give the ticket number, for example: /{command} 1042",
                                  command="ticket"), locale=t.locale)]
            return await self.listing.show(customer, t, number)
        if name == "reply":
            if number is None:
                return await self.listing.tickets(customer, t, TicketFilter.OPEN)
            return await self.flows.ask_reply(customer, t, draft, number)
        if name in act.NUMBERED_COMMANDS:
            if number is None:
                return [Reply(t._("Please give the ticket number, for example: /{command} 1042",
                                  command=name), locale=t.locale)]
            return await self._on_action(customer, t, draft, act.numbered_command(name, number))
        if name == "language" and len(self.config.languages) > 1:
            return [language_prompt(t, self.config.languages)]
        if name == "timezone":
            return await self.zones.typed(t, customer, args)
        if name in ("organisation", "organization"):
            return await self.membership.command(customer, t, draft, args)
        if name == "help":
            return await self.selfhelp.search(customer, t, args) if args else [self._help(t, customer.platform)]
        if name == "cancel":
            return await self._cancel(customer, t, draft)
        if name == "back" and draft is not None and state in steps.STATES:
            return await self.intake.back(customer, t, draft.state, dict(draft.data))
        return [Reply(t._("I do not know that command."), locale=t.locale), self._help(t, customer.platform)]

    def _help(self, t: Translator, platform: str) -> Reply:
        lines = [t._("I can open support tickets and keep you informed about them. Commands:")]
        offered = self.config.languages
        lines += [t.isolate(f"/{name} — {text}") for name, text in command_descriptions(t, offered).items()]
        extra = self.channel_help.get(platform)
        lines += [t.isolate(f"{command} — {text}") for command, text in (extra(t) if extra else ())]
        if self.services.knowledge.articles(t.locale):
            lines.append(t._("Search our help articles: /help and a few words, for example: /help password"))
        lines.append(t._("You can also simply write a message: I will add it to your open ticket."))
        return Reply("\n".join(lines), ((Choice(act.NewTicket().encode(), t._("Open a new ticket")),
                                         Choice(act.ListTickets(TicketFilter.ALL).encode(), t._("My tickets"))),),
                     t.locale)

    def _resume_prompt(self, t: Translator) -> Reply:
        return Reply(t._("You have an unfinished ticket. Continue it or start over?"),
                     ((Choice(act.Resume(restart=False).encode(), t._("Continue")),
                       Choice(act.Resume(restart=True).encode(), t._("Start over"))),), t.locale)

    async def _cancel(self, customer: Customer, t: Translator, draft: DraftState | None) -> list[Reply]:
        if draft is None or draft.state == LANGUAGE:
            return [Reply(t._("There is nothing to cancel."), locale=t.locale)]
        await self.drafts.clear(customer.id)
        if draft.state in steps.STATES and draft.data.get(steps.MOVING_FROM):  # a message moved to a new ticket
            return [Reply(t._("Cancelled. Your message stays in ticket {ticket}.",
                              ticket=t.ticket(draft.data[steps.MOVING_FROM])), locale=t.locale)]
        return [Reply(t._("Cancelled. Nothing was sent."), locale=t.locale)]

    async def expire_drafts(self) -> int:
        """The periodic sweep: stale forms go, and their owners are told."""
        hours = self.config.lifecycle.draft_ttl_hours
        return await self.drafts.expire(
            self.clock() - timedelta(hours=hours), notify_states=steps.STATES, hours=hours,
            keep=frozenset({letters.PENDING}))

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

