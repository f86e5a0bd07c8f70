"""Review of #27 (probes): quotes for paid work. Each test fails on b60a358 and passes once
the defect it names is fixed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.agents import AgentDesk, Done, Offer, SetStatus, TimeLog
from core.chat.drafts import DraftStore
from core.chat.letters import Letter, Letters
from core.delivery.attachments import AttachmentStore
from core.domain.model import Status, Who
from core.domain.quotes import QuoteState
from core.services import Services
from core.services.timelog import TimeService
from tests.core.agents.test_timelog import EVA, People


@pytest.fixture
def agents(service: Services, tmp_path: Path) -> AgentDesk:
    return AgentDesk(service, AttachmentStore(tmp_path / "files"))


async def _quoted(service: Services) -> tuple[int, int, int]:
    """A ticket with a pending quote: (agent id, customer id, ticket number)."""
    eva = (await service.desk.agent("desk", EVA.user_id, EVA.name, "en")).id
    ana = (await service.customers.customer("chat", "ana", "ana", "User ana", "en")).id
    ticket = await service.tickets.open_ticket(ana, department="technical", request_type="change",
                                               subject="New report", description="A new monthly report, please.")
    await service.quotes.send(eva, ticket.number, minutes=180)
    return eva, ana, ticket.number


async def test_resolving_with_a_pending_quote_does_not_block_the_time_spent(agents: AgentDesk,
                                                                            service: Services) -> None:
    """Resolving a ticket whose quote is still pending leaves the quote pending for ever: the
    customer can no longer answer it (quote_stale on a done ticket), and the time-spent offer
    that resolving itself shows is refused with "awaiting approval"."""
    _, _, number = await _quoted(service)
    offer = await agents.run(EVA, SetStatus(number, "resolved"), People(), prefix="/agent ")
    assert isinstance(offer, Offer)  # the ticket is resolved, and the time spent is asked
    pressed = await agents.run(EVA, TimeLog("log", number, 30), People(), prefix="/agent ")
    assert isinstance(pressed, Done), pressed
    latest = await service.quotes.latest(number)
    assert latest is not None and latest.state != QuoteState.PENDING


async def test_a_closed_ticket_keeps_no_pending_quote(service: Services) -> None:
    """Closing (here by the agent) leaves the quote pending: the report's "pending now" counts it
    for ever and time can never be logged on the ticket again."""
    eva, _, number = await _quoted(service)
    await service.desk.change_status(number, Status.CLOSED, Who.agent(eva))
    latest = await service.quotes.latest(number)
    assert latest is not None and latest.state != QuoteState.PENDING
    time = TimeService(service.db, service.config, service.clock, service.news)
    assert (await time.log(eva, number, 15)).minutes == 15


async def test_a_bare_1_by_mail_does_not_approve_a_quote_the_mail_did_not_show(service: Services,
                                                                               tmp_path: Path) -> None:
    """A bare "1" by mail approves whatever quote is pending now: after the agent replaced the
    first quote (1 h) by a dearer one (40 h), a "1" sent in answer to the first quote's mail
    approves the 40 h the customer never answered. The chat's buttons carry the quote's id and
    refuse a stale one; the mail's numbered choice must say which quote it answers too."""
    eva = (await service.desk.agent("desk", EVA.user_id, EVA.name, "en")).id
    ana = (await service.customers.customer("email", "ana@example.com", "ana@example.com",
                                            address="ana@example.com")).id
    ticket = await service.tickets.open_ticket(ana, department="technical", request_type="change",
                                               subject="New report", description="A new monthly report, please.")
    await service.quotes.send(eva, ticket.number, minutes=60)
    dearer = await service.quotes.send(eva, ticket.number, minutes=40 * 60)
    letters = Letters(service, DraftStore(service.db, service.clock), AttachmentStore(tmp_path / "files"),
                      service.config, clock=service.clock)
    await letters.take(Letter("email", "ana@example.com", "Ana", "Re: New report", "1", ticket=ticket.number,
                              address=True))
    latest = await service.quotes.latest(ticket.number)
    assert latest is not None and latest.id == dearer.id
    assert latest.state == QuoteState.PENDING, "the replaced quote's mail approved the newer, dearer quote"


def test_a_note_that_starts_with_capitals_after_hours_is_a_note() -> None:
    """`quote 1042 3h API changes`: after a duration (an estimate in hours) any three capitals
    are read as a currency, and the agent is refused with "“API” is not a currency we know"."""
    from core.agents.actions import parse
    from core.agents.quote_action import QuoteAction

    assert parse("quote 1042 3h API changes") == QuoteAction("send", 1042, minutes=180, note="API changes")


def test_a_bare_number_is_not_sent_as_hours_of_work() -> None:
    """`quote 1042 1500` (an amount whose currency was forgotten) is read as 1500 minutes and
    sent to the customer at once as "25 hr of work". A quote's bare number is ambiguous: it
    should be refused with how to write hours or an amount."""
    from core.agents.actions import Incomplete, parse

    assert isinstance(parse("quote 1042 1500"), Incomplete)


async def test_correcting_an_entry_upwards_is_no_way_around_a_pending_quote(service: Services) -> None:
    """TimeService.log refuses work while a quote is pending, but TimeService.fix does not look:
    an entry of 15 min logged before the quote becomes 8 h while the customer has not approved."""
    from core.domain.quotes import QuotePending

    eva = (await service.desk.agent("desk", EVA.user_id, EVA.name, "en")).id
    ana = (await service.customers.customer("chat", "ana", "ana", "User ana", "en")).id
    ticket = await service.tickets.open_ticket(ana, department="technical", request_type="change",
                                               subject="New report", description="A new monthly report, please.")
    time = TimeService(service.db, service.config, service.clock, service.news)
    entry = await time.log(eva, ticket.number, 15)
    await service.quotes.send(eva, ticket.number, minutes=180)
    with pytest.raises(QuotePending):
        await time.fix(eva, entry.id, 8 * 60)
