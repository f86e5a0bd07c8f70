"""Quotes for paid work: an estimate in hours or an amount in a currency that the customer
approves or declines before the work starts. Amounts are kept in the currency's minor units
(cents) so that no float ever rounds a price."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, is_currency

from core.domain.errors import DomainError

MAX_MINUTES = 999 * 60  # an estimate of hours, not a day's log: up to 999 h
MAX_MINOR = 10**12  # an amount's minor units: far above any quote, within a BIGINT
NOTE_LIMIT = 1000

_AMOUNT = re.compile(r"^\d{1,13}(?:[.,]\d{1,4})?$")


class QuoteState(enum.StrEnum):
    PENDING = "pending"  # sent, awaiting the customer's answer
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # by an agent, or replaced by a newer quote


class Approvers(enum.StrEnum):
    """Who of an organisation may approve a quote on a colleague's ticket they see; the
    requester always may approve their own."""

    REQUESTER = "requester"  # nobody but the requester
    PRIMARY = "primary"  # also the primary contacts
    EVERYBODY = "everybody"  # also every colleague who sees the ticket


def currency_code(text: str) -> str | None:
    """The ISO 4217 code a typed word names (any case), or None."""
    code = text.strip().upper()
    return code if len(code) == 3 and code.isascii() and code.isalpha() and is_currency(code) else None


def looks_like_currency(text: str) -> bool:
    """A word written as a currency code (three capital letters), known or not: read as one
    rather than as the start of a note."""
    return len(text) == 3 and text.isascii() and text.isalpha() and text.isupper()


def parse_amount(text: str, currency: str) -> int | None:
    """The amount's minor units (`1500`, `1500.50`, `1500,5`; any digits), or None when it is
    not a positive amount with at most the currency's decimals."""
    try:
        text = "".join(str(int(c)) if c.isdigit() else c for c in text.strip())
    except ValueError:
        return None
    if not _AMOUNT.match(text):
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None
    minor = value.scaleb(get_currency_precision(currency))
    if minor != minor.to_integral_value() or not 0 < minor <= MAX_MINOR:
        return None
    return int(minor)


class QuoteError(DomainError):
    """A quote that cannot be sent, withdrawn or answered; `code` says why:
    quote_ticket_done (number), quote_bad_minutes, quote_bad_amount, quote_unknown_currency
    (currency), quote_none_pending (number), quote_stale (number: the quote answered is no
    longer the pending one), quote_not_approver (number)."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        super().__init__(f"{code}: {params}", **params)


class QuotePending(DomainError):
    """Work cannot be logged on a ticket whose quote awaits the customer's approval: `since`
    is when it was sent, `zone` the ticket's department's time zone."""

    code = "quote_pending"

    def __init__(self, number: int, since: datetime, zone: str) -> None:
        super().__init__(f"ticket {number}: a quote awaits approval since {since}", number=number, since=since,
                         zone=zone)
