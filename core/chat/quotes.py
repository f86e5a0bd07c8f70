"""Quotes for paid work on the customer's side: the message with Approve and Decline, the
answer to a press, and the quote as /ticket shows it. The decision is
core.services.quotes'; who may answer is core.domain.access's (Deed.APPROVE)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.chat.messages import Choice, Reply
from core.chat.selfservice_keys import QuoteAnswer, quote_key
from core.domain.errors import DomainError
from core.domain.quotes import QuoteError, QuoteState
from core.i18n import Translator
from core.services import Services
from core.services.quotes import QuoteRow
from core.storage.models import Customer


def terms(t: Translator, params: Mapping[str, Any]) -> str:
    """The quote's price as the customer reads it: hours of work, or an amount."""
    if params.get("amount") is not None and params.get("currency"):
        return t.isolate(t.money(int(params["amount"]), str(params["currency"])))
    return t._("{duration} of work", duration=t.duration(int(params.get("minutes") or 0) / 60))


def buttons(t: Translator, number: int, quote: int) -> tuple[tuple[Choice, ...], ...]:
    return ((Choice(QuoteAnswer(number, quote, True).encode(), t._("Approve")),
             Choice(QuoteAnswer(number, quote, False).encode(), t._("Decline"))),)


def notice(t: Translator, params: Mapping[str, Any]) -> Reply:
    """The notification of a quote sent (with Approve and Decline) or withdrawn."""
    n = int(params["number"])
    if params.get("kind") == "withdrawn":
        return Reply(t._("The quote for ticket {ticket} ({terms}) has been withdrawn; there is nothing to approve "
                         "now.", ticket=t.ticket(n), terms=terms(t, params)), locale=t.locale, ticket=n)
    lines = [t._("The work on ticket {ticket} is paid. Our team's quote: {terms}.", ticket=t.ticket(n),
                 terms=terms(t, params))]
    if params.get("note"):
        lines.append(params["note"])
    lines.append(t._("We will start the work once you approve the quote."))
    return Reply("\n\n".join(lines), buttons(t, n, int(params["quote"])), t.locale, ticket=n)


def refusal(t: Translator, error: DomainError) -> str | None:
    """A refused answer, for the customer; None for an error that is not a quote's."""
    if not isinstance(error, QuoteError):
        return None
    number = t.ticket(error.params.get("number", 0))
    if error.code == "quote_not_approver":
        return t._("Only the person who opened ticket {ticket}, or someone your organisation allows, can approve "
                   "or decline its quote.", ticket=number)
    return t._("This quote for ticket {ticket} is no longer awaiting an answer: it was answered, withdrawn or "
               "replaced by a newer one.", ticket=number)


def shown_quote(reply: Reply) -> int | None:
    """The quote whose Approve and Decline a message carries: a channel that answers them by
    number (mail) ties the number to that quote, so that it never approves a newer one."""
    for choice in reply.flat_choices:
        kind, _, value = choice.key.partition(":")
        found = quote_key(value) if kind == "quote" else None
        if found is not None:
            return found.quote
    return None


def not_this_one(t: Translator, quote: QuoteRow) -> Reply:
    """The answer to a number that answered another quote than the one pending (an older one,
    replaced since): the message was added to the ticket, and the pending quote is shown, with
    its own Approve and Decline."""
    n = quote.number
    lines = [t._("Your message has been added to ticket {ticket}. It did not answer the quote awaiting your "
                 "approval, which is: {terms}.", ticket=t.ticket(n), terms=terms(t, quote.terms()))]
    if quote.note:
        lines.append(quote.note)
    return Reply("\n\n".join(lines), buttons(t, n, quote.id), t.locale, ticket=n)


async def answer(services: Services, customer: Customer, t: Translator, action: QuoteAnswer) -> list[Reply]:
    """Approve or decline: the customer is told what follows; a refusal says why."""
    try:
        made = await services.quotes.decide(customer.id, action.number, action.quote, approve=action.approve)
    except QuoteError as exc:
        return [Reply(refusal(t, exc) or "", locale=t.locale, ticket=action.number)]
    ticket = t.ticket(made.number)
    if made.state == QuoteState.APPROVED:
        text = t._("Thank you: you approved the quote for ticket {ticket} ({terms}). We are starting the work.",
                   ticket=ticket, terms=terms(t, made.terms()))
    else:
        text = t._("You declined the quote for ticket {ticket}. Our team will get back to you about what can be "
                   "done instead.", ticket=ticket)
    return [Reply(text, locale=t.locale, ticket=made.number)]


def shown(t: Translator, quote: QuoteRow | None, may_answer: bool) -> tuple[str, tuple[tuple[Choice, ...], ...]]:
    """The quote's line in /ticket, and Approve and Decline while it is pending (for those who may)."""
    if quote is None or quote.state == QuoteState.WITHDRAWN:
        return "", ()
    price = terms(t, quote.terms())
    if quote.state == QuoteState.PENDING:
        return (t._("Quote: {terms}, awaiting your approval.", terms=price),
                buttons(t, quote.number, quote.id) if may_answer else ())
    if quote.state == QuoteState.APPROVED:
        return t._("Quote: {terms}, approved by {who}.", terms=price, who=quote.decided_by or "—"), ()
    return t._("Quote: {terms}, declined by {who}.", terms=price, who=quote.decided_by or "—"), ()
