"""The agents' `quote` command as typed: `quote 1042 3h [note]`, `quote 1042 1500 CZK [note]`,
`quote 1042` (show) and `quote 1042 withdraw`. Part of core.agents.actions, which names it in
its `Action` union and turns what cannot be read into its `Incomplete`."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.quotes import currency_code, looks_like_currency, parse_amount
from core.domain.textnorm import ticket_number
from core.domain.timelog import parse_duration


@dataclass(frozen=True, slots=True)
class QuoteAction:
    """`op` is "send" (minutes, or amount in currency's minor units), "show" or "withdraw"."""

    op: str
    number: int
    minutes: int | None = None
    amount: int | None = None
    currency: str | None = None
    note: str = ""


def parse_quote(text: str) -> QuoteAction | tuple[str, str]:
    """The action, or what is missing or wrong as (needs, given): "number", "estimate" (neither
    a duration nor an amount with a currency), "unit" (a bare number, which could be minutes,
    hours or an amount whose currency was forgotten), "amount", "currency", "no_more"."""
    first, *more = text.split(maxsplit=1) or [""]
    number = ticket_number(first) if first else None
    if number is None:
        return "number", first
    if not more:
        return QuoteAction("show", number)
    given, *tail = more[0].split(maxsplit=1)
    if given.lower() == "withdraw":
        return ("no_more", tail[0]) if tail else QuoteAction("withdraw", number)
    minutes = parse_duration(given)
    bare = minutes is not None and given.isdigit()  # `90` means minutes to `time`; to a customer it is ambiguous
    if minutes is not None and not bare:  # after a duration every word is the note, capitals too
        return QuoteAction("send", number, minutes=minutes, note=tail[0].strip() if tail else "")
    word, *note = tail[0].split(maxsplit=1) if tail else [""]
    if word and (currency_code(word) or looks_like_currency(word)):
        currency = currency_code(word)
        if currency is None:
            return "currency", word
        amount = parse_amount(given, currency)
        if amount is None:
            return "amount", given
        return QuoteAction("send", number, amount=amount, currency=currency, note=note[0].strip() if note else "")
    return ("unit" if bare else "estimate"), given
