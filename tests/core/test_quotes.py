"""Quotes for paid work through the service: sending one makes the ticket wait on the customer
and blocks time logging; the requester (or whom their organisation allows) approves or declines
it, once; a newer quote withdraws the pending one; amounts in minor units of a real currency."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.chat import actions as act
from core.chat.notices import render
from core.chat.quotes import answer
from core.domain.access import Role, Sharing
from core.domain.errors import NotYourTicket
from core.domain.model import Status, Who
from core.domain.quotes import QuoteError, QuotePending, QuoteState, currency_code, parse_amount
from core.i18n import translator
from core.services import Services
from core.services.timelog import TimeService
from core.storage.models import Customer, OutboxMessage, Ticket
from tests.conftest import FakeClock


async def _agent(service: Services, name: str = "eva") -> int:
    return (await service.desk.agent("desk", name, name.title(), "en")).id


async def _ticket(service: Services, customer_id: int) -> Ticket:
    return await service.tickets.open_ticket(customer_id, department="technical", request_type="change",
                                             subject="New report", description="A new monthly report, please.")


async def _customer(service: Services, user: str = "ana", address: str | None = None) -> int:
    if address is None:
        return (await service.customers.customer("chat", user, user, f"User {user}", "en")).id
    who = (await service.customers.customer("email", address, address, address=address)).id
    async with service.db.write() as session:  # proven, as with a code
        (await session.get_one(Customer, who)).address_proven = True
    return who


async def _news(service: Services, event: str = "quote") -> list[OutboxMessage]:
    async with service.db.read() as session:
        return list((await session.execute(select(OutboxMessage).where(OutboxMessage.event == event)
                                           .order_by(OutboxMessage.id))).scalars())


def _time(service: Services) -> TimeService:
    return TimeService(service.db, service.config, service.clock, service.news)


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("1500", "CZK", 150000), ("1500.5", "EUR", 150050), ("1500,50", "EUR", 150050), ("۱۵۰۰", "CZK", 150000),
    ("1500", "JPY", 1500), ("1500.5", "JPY", None), ("1.555", "EUR", None), ("0", "EUR", None),
    ("-5", "EUR", None), ("abc", "EUR", None), ("1e5", "EUR", None), ("", "EUR", None),
])
def test_amounts(text: str, currency: str, minor: int | None) -> None:
    assert parse_amount(text, currency) == minor


def test_currencies() -> None:
    assert currency_code("czk") == "CZK" and currency_code("EUR") == "EUR"
    assert currency_code("XYZ") is None and currency_code("EURO") is None and currency_code("") is None


async def test_a_pending_quote_waits_on_the_customer_and_blocks_time(service: Services, clock: FakeClock) -> None:
    eva, ana = await _agent(service), await _customer(service)
    ticket = await _ticket(service, ana)
    quote = await service.quotes.send(eva, ticket.number, minutes=180, note="Two columns more.")
    assert (quote.state, quote.minutes, quote.note) == (QuoteState.PENDING, 180, "Two columns more.")
    assert (await service.queries.get(ticket.number)).status == Status.WAITING
    clock.advance(minutes=5)
    with pytest.raises(QuotePending) as refused:
        await _time(service).log(eva, ticket.number, 30)
    assert refused.value.params["since"] == quote.created_at
    # The customer's message: the terms, the note, Approve and Decline.
    [sent] = [n for n in await _news(service) if n.customer_id == ana]
    reply = render(translator("en"), sent.event, sent.params)
    assert "3 hr of work" in reply.text and "Two columns more." in reply.text
    assert [c.key for c in reply.flat_choices] == [f"quote:yes:{ticket.number}:{quote.id}",
                                                   f"quote:no:{ticket.number}:{quote.id}"]
    assert act.decode(reply.flat_choices[0].key) == act.QuoteAnswer(ticket.number, quote.id, True)
    approved = await service.quotes.decide(ana, ticket.number, quote.id, approve=True)
    assert (approved.state, approved.decided_at, approved.decided_by) == (QuoteState.APPROVED, clock.now, "User ana")
    assert (await service.queries.get(ticket.number)).status == Status.ACCEPTED
    assert (await _time(service).log(eva, ticket.number, 30)).minutes == 30
    with pytest.raises(QuoteError) as again:  # answered once
        await service.quotes.decide(ana, ticket.number, quote.id, approve=False)
    assert again.value.code == "quote_stale"
    kinds = [n.params["kind"] for n in await _news(service) if n.platform.startswith("desk")]
    assert kinds in ([], ["sent", "approved"])  # no desk connected in this fixture, or both told


async def test_amount_decline_and_a_newer_quote(service: Services) -> None:
    eva, ana = await _agent(service), await _customer(service)
    ticket = await _ticket(service, ana)
    first = await service.quotes.send(eva, ticket.number, amount=150000, currency="CZK")
    reply = render(translator("cs"), "quote", (await _news(service))[-1].params)
    assert "1\xa0500,00\xa0Kč" in reply.text
    second = await service.quotes.send(eva, ticket.number, amount=120000, currency="CZK", note="Less.")
    with pytest.raises(QuoteError) as stale:
        await service.quotes.decide(ana, ticket.number, first.id, approve=True)
    assert stale.value.code == "quote_stale"
    declined = await service.quotes.decide(ana, ticket.number, second.id, approve=False)
    assert declined.state == QuoteState.DECLINED
    assert (await service.queries.get(ticket.number)).status == Status.WAITING  # the agents decide what follows
    latest = await service.quotes.latest(ticket.number)
    assert latest is not None and (latest.id, latest.amount, latest.currency) == (second.id, 120000, "CZK")
    assert (await _time(service).log(eva, ticket.number, 30)).minutes == 30  # declined: nothing pending


async def test_refusals(service: Services) -> None:
    eva, ana = await _agent(service), await _customer(service)
    ticket = await _ticket(service, ana)
    for kwargs, code in [({"minutes": 0}, "quote_bad_minutes"), ({"minutes": 1000 * 60}, "quote_bad_minutes"),
                         ({"amount": 0, "currency": "CZK"}, "quote_bad_amount"),
                         ({"amount": 100, "currency": "XYZ"}, "quote_unknown_currency"), ({}, "quote_bad_minutes")]:
        with pytest.raises(QuoteError) as refused:
            await service.quotes.send(eva, ticket.number, **kwargs)
        assert refused.value.code == code
    with pytest.raises(QuoteError) as none:
        await service.quotes.withdraw(eva, ticket.number)
    assert none.value.code == "quote_none_pending"
    quote = await service.quotes.send(eva, ticket.number, minutes=60)
    withdrawn = await service.quotes.withdraw(eva, ticket.number)
    assert withdrawn.state == QuoteState.WITHDRAWN
    said = await answer(service, await _row(service, ana), translator("en"), act.QuoteAnswer(ticket.number,
                                                                                              quote.id, True))
    assert "no longer awaiting an answer" in said[0].text
    await service.desk.change_status(ticket.number, Status.CLOSED, Who.agent(eva))
    with pytest.raises(QuoteError) as done:
        await service.quotes.send(eva, ticket.number, minutes=60)
    assert done.value.code == "quote_ticket_done"


async def _row(service: Services, customer_id: int) -> Customer:
    async with service.db.read() as session:
        return await session.get_one(Customer, customer_id)


@pytest.mark.parametrize(("approvers", "role", "may"), [
    ("requester", Role.PRIMARY, False), ("primary", Role.MEMBER, False), ("primary", Role.PRIMARY, True),
    ("everybody", Role.MEMBER, True),
])
async def test_who_in_an_organisation_may_approve(service: Services, approvers: str, role: Role, may: bool) -> None:
    await service.organisations.create("Firma", Sharing.EVERYBODY)
    await service.organisations.add_domain("Firma", "firma.cz")
    await service.organisations.set_approvers("Firma", approvers)
    if role == Role.PRIMARY:
        await service.organisations.add_member("Firma", "petr@firma.cz", Role.PRIMARY)
    eva = await _agent(service)
    jana = await _customer(service, "jana", "jana@firma.cz")
    petr = await _customer(service, "petr", "petr@firma.cz")
    eve = await _customer(service, "eve", "eve@elsewhere.net")
    ticket = await _ticket(service, jana)
    quote = await service.quotes.send(eva, ticket.number, minutes=120)
    with pytest.raises(NotYourTicket):
        await service.quotes.decide(eve, ticket.number, quote.id, approve=True)
    if not may:
        with pytest.raises(QuoteError) as refused:
            await service.quotes.decide(petr, ticket.number, quote.id, approve=True)
        assert refused.value.code == "quote_not_approver"
        said = await answer(service, await _row(service, petr), translator("en"),
                            act.QuoteAnswer(ticket.number, quote.id, True))
        assert "someone your organisation allows" in said[0].text
        assert (await service.quotes.decide(jana, ticket.number, quote.id, approve=True)).decided_by == \
            "jana@firma.cz"
        return
    assert (await service.quotes.decide(petr, ticket.number, quote.id, approve=True)).decided_by == "petr@firma.cz"


async def test_report_figures(service: Services, clock: FakeClock) -> None:
    from datetime import timedelta

    from core.agents.report import render_csv, render_text
    from core.services.reports import build_report
    eva, ana = await _agent(service), await _customer(service)
    first, second, third = [await _ticket(service, ana) for _ in range(3)]
    q1 = await service.quotes.send(eva, first.number, amount=99950, currency="EUR")
    await service.quotes.decide(ana, q1.number, q1.id, approve=True)
    q2 = await service.quotes.send(eva, second.number, minutes=90)
    await service.quotes.decide(ana, q2.number, q2.id, approve=False)
    await service.quotes.send(eva, third.number, minutes=30)
    report = await build_report(service.db, service.config, clock.now - timedelta(days=1),
                                clock.now + timedelta(days=1))
    q = report.quotes
    assert (q.sent, q.approved, q.declined, q.pending, q.approved_minutes) == (3, 1, 1, 1, 0)
    assert q.approved_amounts == {"EUR": 99950}
    text = render_text(translator("cs"), service.config, report)
    assert "999,50\xa0€" in text
    assert "quotes_approved_minor_units,*,EUR,99950" in render_csv(service.config, report)


@pytest.mark.parametrize("path", ["agent resolves", "agent closes", "customer withdraws"])
async def test_a_done_ticket_keeps_no_pending_quote(service: Services, path: str) -> None:
    """Resolving, closing or withdrawing a ticket withdraws its pending quote in the same
    transaction: otherwise time could never be logged on it again, and its Approve button would
    still approve work on a ticket that is done."""
    eva, ana = await _agent(service), await _customer(service)
    ticket = await _ticket(service, ana)
    quote = await service.quotes.send(eva, ticket.number, minutes=180)
    if path == "customer withdraws":
        await service.tickets.change_status(ticket.number, Status.CLOSED, Who.customer(ana), "withdrawn")
    else:
        target = Status.RESOLVED if path == "agent resolves" else Status.CLOSED
        await service.desk.change_status(ticket.number, target, Who.agent(eva))
    latest = await service.quotes.latest(ticket.number)
    assert latest is not None and latest.id == quote.id and latest.state == QuoteState.WITHDRAWN
    assert (await _time(service).log(eva, ticket.number, 15)).minutes == 15
    with pytest.raises(QuoteError) as stale:  # the customer's buttons say it no longer awaits an answer
        await service.quotes.decide(ana, ticket.number, quote.id, approve=True)
    assert stale.value.code == "quote_stale"
    kinds = [n.params["kind"] for n in await _news(service) if n.platform.startswith("desk")]
    assert kinds in ([], ["sent", "withdrawn"])  # no desk connected in this fixture, or both told


async def test_correcting_an_entry_upwards_is_no_way_around_a_pending_quote(service: Services) -> None:
    """An entry of 15 min logged before the quote cannot become 8 h while the customer has not
    approved; correcting it down (less work claimed) is still allowed."""
    eva, ana = await _agent(service), await _customer(service)
    ticket = await _ticket(service, ana)
    entry = await _time(service).log(eva, ticket.number, 15)
    await service.quotes.send(eva, ticket.number, minutes=180)
    with pytest.raises(QuotePending):
        await _time(service).fix(eva, entry.id, 8 * 60)
    assert (await _time(service).fix(eva, entry.id, 10)).minutes == 10
    assert await _time(service).total(ticket.number) == 10
