"""The `quote` command through the interpreter: parsed, sent, shown and withdrawn; each refusal
with its own sentence; time refused while the quote is pending; the card's quote and billable
fields; the same command typed in a Telegram desk topic."""

from __future__ import annotations

import pytest

from core.agents import AgentDesk, Details, Done, Offer, Refused, as_text, parse
from core.agents.actions import Incomplete
from core.agents.card import ticket_card
from core.agents.quote_action import QuoteAction
from core.domain.config import HelpdeskConfig
from core.i18n import translator
from core.services import Services
from core.storage.desk import card_state
from core.storage.models import Ticket
from tests.core.agents.desk import run


async def _ticket(service: Services, request_type: str = "change") -> Ticket:
    customer = await service.customers.customer("chat", "ana", "ana", "Ana", "en")
    return await service.tickets.open_ticket(customer.id, department="technical", request_type=request_type,
                                             subject="New report", description="Please add a report.")


@pytest.mark.parametrize(("line", "action"), [
    ("quote 1042 3h", QuoteAction("send", 1042, minutes=180)),
    ("quote #1042 1h30 two more columns", QuoteAction("send", 1042, minutes=90, note="two more columns")),
    ("QUOTE 1042 1500 CZK new printer", QuoteAction("send", 1042, amount=150000, currency="CZK",
                                                    note="new printer")),
    ("quote 1042 1500,50 eur", QuoteAction("send", 1042, amount=150050, currency="EUR")),
    ("quote 1042 ۱۵۰۰ JPY", QuoteAction("send", 1042, amount=1500, currency="JPY")),
    ("quote 1042 1:30", QuoteAction("send", 1042, minutes=90)),
    ("quote 1042 90m", QuoteAction("send", 1042, minutes=90)),
    # After a duration the rest is the note, even when it starts with three capitals.
    ("quote 1042 3h API changes", QuoteAction("send", 1042, minutes=180, note="API changes")),
    ("quote 1042", QuoteAction("show", 1042)),
    ("quote 1042 withdraw", QuoteAction("withdraw", 1042)),
    ("quote", Incomplete("quote", "number")),
    ("quote abc 3h", Incomplete("quote", "number", "abc")),
    ("quote 1042 soon", Incomplete("quote", "estimate", "soon")),
    ("quote 1042 1500.50 fix", Incomplete("quote", "estimate", "1500.50")),
    ("quote 1042 1500 XYZ", Incomplete("quote", "currency", "XYZ")),
    # A bare number could be minutes, hours or an amount whose currency was forgotten.
    ("quote 1042 1500", Incomplete("quote", "unit", "1500")),
    ("quote 1042 ۱۵۰۰ for the report", Incomplete("quote", "unit", "۱۵۰۰")),
    ("quote 1042 15.555 EUR", Incomplete("quote", "amount", "15.555")),
    ("quote 1042 withdraw now", Incomplete("quote", "no_more", "now")),
])
def test_parse(line: str, action: object) -> None:
    assert parse(line) == action


async def test_send_show_withdraw_and_time_refused(agents: AgentDesk, service: Services,
                                                   config: HelpdeskConfig) -> None:
    ticket = await _ticket(service)
    n = ticket.number
    empty = await run(agents, f"quote {n}")
    assert isinstance(empty, Details) and empty.lines == ("No quote has been sent on this ticket.",)
    sent = await run(agents, f"quote {n} 1500 CZK two more columns")
    assert isinstance(sent, Done)
    assert sent.text == (f"Quote sent to the customer of ticket #{n}: CZK1,500.00. "
                         "The ticket awaits their approval.")
    refused = await run(agents, f"time {n} 25m")
    assert isinstance(refused, Refused)
    assert refused.text.startswith(f"Ticket #{n} has been awaiting the customer's approval of a quote since Monday, "
                                   "November 16, 2026")
    assert "no work can be logged" in refused.text
    shown = await run(agents, f"quote {n}")
    assert isinstance(shown, Details)
    assert shown.lines[0].startswith("CZK1,500.00, awaiting approval since")
    assert shown.lines[1:] == ("Sent by Eva", "two more columns")
    card = ticket_card(translator("en"), config, await card_state(service.db, ticket.id, "desk"))
    fields = {f.key: f.value for f in card.fields}
    assert fields["quote"].startswith("CZK1,500.00, awaiting approval since")
    assert fields["billable"] == "yes: the customer approves a quote first"
    assert fields["status"] == "Waiting for the customer"
    czech = ticket_card(translator("cs"), config, await card_state(service.db, ticket.id, "desk"))
    assert "1\xa0500,00\xa0Kč" in {f.key: f.value for f in czech.fields}["quote"]
    withdrawn = await run(agents, f"quote {n} withdraw")
    assert isinstance(withdrawn, Done) and "withdrawn" in withdrawn.text
    assert isinstance(await run(agents, f"time {n} 25m"), Done)
    again = await run(agents, f"quote {n} withdraw")
    assert isinstance(again, Refused) and again.text == f"Ticket #{n} has no quote awaiting approval."


async def test_a_ticket_not_billable_says_nothing_of_it(service: Services, config: HelpdeskConfig) -> None:
    ticket = await _ticket(service, "bug")
    card = ticket_card(translator("en"), config, await card_state(service.db, ticket.id, "desk"))
    assert {"billable", "quote"}.isdisjoint(f.key for f in card.fields)


@pytest.mark.parametrize(("line", "english"), [
    ("quote {n} soon", "“soon” is neither hours nor an amount. For example: /agent quote 1042 3h or "
                       "/agent quote 1042 1500 CZK"),
    ("quote {n} 1500 XYZ", "“XYZ” is not a currency we know. Use its ISO code, for example CZK, EUR or USD."),
    ("quote {n} 15.555 EUR", "“15.555” is not an amount. Write it as 1500 or 1500.50, for example: "
                             "/agent quote 1042 1500 CZK"),
    ("quote {n} 1500", "“1500” has no unit: write hours as 3h, 90m or 1:30, or an amount with its currency. "
                       "For example: /agent quote 1042 3h or /agent quote 1042 1500 CZK"),
    ("quote {n} 0m", "A quote must be between 1 minute and 999 hours."),
    ("quote abc 3h", "“abc” is not a ticket number. For example: /agent quote 1042 3h"),
    ("quote", "Give a ticket number, for example: /agent quote 1042 3h"),
    ("quote 999999 3h", "There is no ticket #999999."),
])
async def test_refusals(agents: AgentDesk, service: Services, line: str, english: str) -> None:
    ticket = await _ticket(service)
    refused = await run(agents, line.format(n=ticket.number))
    assert isinstance(refused, Refused) and refused.text == english
    assert await service.quotes.latest(ticket.number) is None  # nothing reached the customer


async def test_no_quote_on_a_closed_ticket(agents: AgentDesk, service: Services) -> None:
    ticket = await _ticket(service)
    await run(agents, f"status {ticket.number} closed")
    refused = await run(agents, f"quote {ticket.number} 3h")
    assert isinstance(refused, Refused)
    assert refused.text == f"Ticket #{ticket.number} is resolved or closed: no quote can be sent on it."


async def test_resolving_with_a_pending_quote_does_not_block_the_time_spent(agents: AgentDesk,
                                                                            service: Services) -> None:
    """Resolving asks for the time spent; the quote still pending is withdrawn with the
    resolution, so the answer is logged rather than refused as awaiting approval."""
    ticket = await _ticket(service)
    await run(agents, f"quote {ticket.number} 3h")
    offer = await run(agents, f"status {ticket.number} resolved")
    assert isinstance(offer, Offer)
    logged = await run(agents, f"time {ticket.number} 30m")
    assert isinstance(logged, Done), logged
    shown = await run(agents, f"quote {ticket.number}")
    assert isinstance(shown, Details) and "withdrawn" in shown.lines[0]


async def test_help_lists_the_command(agents: AgentDesk) -> None:
    assert "/agent quote 1042 1500 CZK [note]" in as_text(await run(agents, "help"))


def test_typed_in_a_telegram_topic() -> None:
    from adapters.telegram.commands import Command, command_action
    assert command_action(Command("quote", "3h redo the report", True), 1042) == QuoteAction(
        "send", 1042, minutes=180, note="redo the report")
    assert command_action(Command("quote", "", True), 1042) == QuoteAction("show", 1042)
    assert command_action(Command("quote", "withdraw", True), 1042) == QuoteAction("withdraw", 1042)
