"""The agents' `quote` command: a quote for paid work sent to the ticket's customer, shown or
withdrawn, in the agent's language; how a quote reads on the card and in the desk's thread;
the refusals of quotes. The interpreter runs it for every desk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from core.agents.quote_action import QuoteAction
from core.agents.results import Details, Done, Refused, Result
from core.domain.config import HelpdeskConfig
from core.domain.errors import DomainError
from core.domain.quotes import QuoteState
from core.i18n import Translator
from core.services import Services
from core.services.quotes import QuoteRow
from core.storage.models import Ticket

__all__ = ["billable", "price", "quote_line", "quote_refusal", "quote_state", "quote_usage", "quote_incomplete",
           "run_quote"]


def quote_usage(t: Translator, prefix: str) -> tuple[tuple[str, str], ...]:
    return (
        (f"{prefix}quote 1042 3h [note]", t._("send the customer a quote in hours to approve before the work")),
        (f"{prefix}quote 1042 1500 CZK [note]", t._("send a quote as an amount in a currency (ISO code)")),
        (f"{prefix}quote 1042", t._("the ticket's quote and whether it was approved")),
        (f"{prefix}quote 1042 withdraw", t._("withdraw the quote awaiting approval")),
    )


def price(t: Translator, terms: Mapping[str, Any]) -> str:
    """A quote's terms as the reader writes them: hours, or an amount in its currency."""
    if terms.get("amount") is not None and terms.get("currency"):
        return t.isolate(t.money(int(terms["amount"]), str(terms["currency"])))
    return t.duration(int(terms.get("minutes") or 0) / 60)


def billable(config: HelpdeskConfig, ticket: Ticket) -> bool:
    """Whether the ticket's department or request type is marked as paid work."""
    department, kind = config.department(ticket.department), config.request_type(ticket.request_type)
    return bool((department and department.billable) or (kind and kind.billable))


def quote_state(t: Translator, quote: QuoteRow, zone: ZoneInfo) -> str:
    """The quote on the card: its terms and where it stands."""
    terms = price(t, quote.terms())
    when = t.datetime(quote.decided_at or quote.created_at, zone)
    match quote.state:
        case QuoteState.PENDING:
            return t._("{terms}, awaiting approval since {when}", terms=terms, when=when)
        case QuoteState.APPROVED:
            return t._("{terms}, approved by {who} on {when}", terms=terms, who=quote.decided_by or "—", when=when)
        case QuoteState.DECLINED:
            return t._("{terms}, declined by {who} on {when}", terms=terms, who=quote.decided_by or "—", when=when)
    return t._("{terms}, withdrawn on {when}", terms=terms, when=when)


def quote_line(t: Translator, who: str, params: Mapping[str, Any]) -> str:
    """The desk thread's line of a quote's news (sent, withdrawn, approved, declined)."""
    terms = price(t, params)
    match params.get("kind"):
        case "sent":
            line = t._("{who} sent the customer a quote: {terms}. No time can be logged until it is approved.",
                       who=who, terms=terms)
            return line + (f"\n{params['note']}" if params.get("note") else "")
        case "withdrawn":
            return t._("{who} withdrew the quote ({terms}).", who=who, terms=terms)
        case "approved":
            return t._("✅ {customer} approved the quote ({terms}). The work can start.",
                       customer=params.get("customer") or t._("The customer"), terms=terms)
    return t._("❌ {customer} declined the quote ({terms}).", customer=params.get("customer") or t._("The customer"),
               terms=terms)


async def run_quote(t: Translator, services: Services, agent_id: int, action: QuoteAction) -> Result:
    """Carry out a `quote` command; a DomainError is left to the caller."""
    quotes = services.quotes
    if action.op == "send":
        made = await quotes.send(agent_id, action.number, minutes=action.minutes, amount=action.amount,
                                 currency=action.currency, note=action.note)
        return Done(t._("Quote sent to the customer of ticket {ticket}: {terms}. The ticket awaits their approval.",
                        ticket=t.ticket(made.number), terms=price(t, made.terms())))
    if action.op == "withdraw":
        made = await quotes.withdraw(agent_id, action.number)
        return Done(t._("The quote on ticket {ticket} ({terms}) is withdrawn; the customer is told.",
                        ticket=t.ticket(made.number), terms=price(t, made.terms())))
    quote = await quotes.latest(action.number)
    title = t._("Quote on ticket {ticket}:", ticket=t.ticket(action.number))
    if quote is None:
        return Details(title, (t._("No quote has been sent on this ticket."),))
    ticket = await services.queries.get(action.number)
    zone = ZoneInfo(services.config.calendar_of(ticket.department).timezone)
    lines = [quote_state(t, quote, zone), t._("Sent by {agent}", agent=quote.agent or "—")]
    return Details(title, (*lines, *([quote.note] if quote.note else [])))


def quote_incomplete(t: Translator, prefix: str, needs: str, given: str) -> Refused:
    """A `quote` command that cannot be carried out as typed, said with how to type it."""
    match needs:
        case "currency":
            return Refused(t._("“{given}” is not a currency we know. Use its ISO code, for example CZK, EUR or USD.",
                               given=given))
        case "amount":
            return Refused(t._("“{given}” is not an amount. Write it as 1500 or 1500.50, for example: {example}",
                               given=given, example=f"{prefix}quote 1042 1500 CZK"))
        case "estimate":
            return Refused(t._("“{given}” is neither hours nor an amount. For example: {hours} or {amount}",
                               given=given, hours=f"{prefix}quote 1042 3h", amount=f"{prefix}quote 1042 1500 CZK"))
        case "unit":
            return Refused(t._("“{given}” has no unit: write hours as 3h, 90m or 1:30, or an amount with its currency. "
                               "For example: {hours} or {amount}", given=given, hours=f"{prefix}quote 1042 3h",
                               amount=f"{prefix}quote 1042 1500 CZK"))
        case "no_more":
            return Refused(t._("Unexpected words after the command: “{extra}”. Usage: {usage}", extra=given,
                               usage=f"{prefix}quote 1042 withdraw"))
    if given:
        return Refused(t._("“{given}” is not a ticket number. For example: {example}", given=given,
                           example=f"{prefix}quote 1042 3h"))
    return Refused(t._("Give a ticket number, for example: {example}", example=f"{prefix}quote 1042 3h"))


def quote_refusal(t: Translator, error: DomainError) -> str:
    """A quote's refusal, or one of time logged while a quote is pending, for the agent."""
    p = error.params
    match error.code:
        case "quote_pending":
            return t._("Ticket {ticket} has been awaiting the customer's approval of a quote since {when}; no work "
                       "can be logged on it until they approve it.", ticket=t.ticket(p["number"]),
                       when=t.datetime(p["since"], ZoneInfo(p["zone"])))
        case "quote_ticket_done":
            return t._("Ticket {ticket} is resolved or closed: no quote can be sent on it.",
                       ticket=t.ticket(p["number"]))
        case "quote_bad_minutes":
            return t._("A quote must be between 1 minute and 999 hours.")
        case "quote_bad_amount":
            return t._("The amount is out of range.")
        case "quote_unknown_currency":
            return t._("“{given}” is not a currency we know. Use its ISO code, for example CZK, EUR or USD.",
                       given=p["currency"])
        case "quote_none_pending":
            return t._("Ticket {ticket} has no quote awaiting approval.", ticket=t.ticket(p["number"]))
        case "bad_approvers":
            return t._("“{approvers}” is not a choice of approvers. Use requester, primary or everybody.",
                       approvers=p["approvers"])
    return t._("That did not work.")
