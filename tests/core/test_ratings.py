"""Ratings: only for a ticket closed after a solution, once; a refusal is never thanked."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core.domain.config import HelpdeskConfig, Limits
from core.domain.errors import RatingNotPossible
from core.domain.model import Status, Who
from core.services import Services
from core.storage.models import OutboxMessage, Rating
from tests.core.chat.harness import Customer, make_conversation, open_ticket


async def _setup(service: Services):  # type: ignore[no-untyped-def]
    customer = await service.customers.customer("telegram", "200", "200", "Ana", "en")
    agent = await service.desk.agent("slack", "U9", "Eva")
    return customer, agent


async def _open(service: Services, customer_id: int, subject: str):  # type: ignore[no-untyped-def]
    return await service.tickets.open_ticket(customer_id, department="technical", request_type="bug", subject=subject,
                                     description="It breaks.")


async def _scores(service: Services) -> dict[int, int]:
    async with service.db.read() as s:
        return {r.ticket_id: r.score for r in (await s.execute(select(Rating))).scalars()}


async def _asked(service: Services) -> list[int]:
    async with service.db.read() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.event == "rating_request"))).scalars()
        return [r.params["number"] for r in rows]


async def test_only_a_solution_closed_is_rated_and_only_once(service: Services, config: HelpdeskConfig) -> None:
    roomy = config.model_copy(update={"limits": Limits(new_tickets_per_hour=100, open_tickets=100)})
    service = Services.build(service.db, roomy, service.clock)
    customer, agent = await _setup(service)
    withdrawn = await _open(service, customer.id, "one")
    await service.tickets.change_status(withdrawn.number, Status.CLOSED, Who.customer(customer.id), "withdrawn")
    spam = await _open(service, customer.id, "two")
    await service.desk.change_status(spam.number, Status.CLOSED, Who.agent(agent.id), "spam")
    resolved_withdrawn = await _open(service, customer.id, "three")
    await service.desk.change_status(resolved_withdrawn.number, Status.RESOLVED, Who.agent(agent.id))
    await service.tickets.change_status(resolved_withdrawn.number, Status.CLOSED, Who.customer(customer.id),
                                        "withdrawn")
    for ticket in (withdrawn, spam, resolved_withdrawn):
        with pytest.raises(RatingNotPossible) as info:
            await service.tickets.rate(customer.id, ticket.number, 5)
        assert info.value.params["why"] == "unresolved"
    still_open = await _open(service, customer.id, "four")
    with pytest.raises(RatingNotPossible) as info:
        await service.tickets.rate(customer.id, still_open.number, 5)
    assert info.value.params["why"] == "open"

    confirmed = await _open(service, customer.id, "five")
    await service.desk.change_status(confirmed.number, Status.RESOLVED, Who.agent(agent.id))
    await service.tickets.settle_resolution(customer.id, confirmed.number, solved=True)
    auto = await _open(service, customer.id, "six")
    await service.desk.change_status(auto.number, Status.RESOLVED, Who.agent(agent.id))
    await service.desk.change_status(auto.number, Status.CLOSED, Who.system(), "auto_closed")
    await service.tickets.rate(customer.id, confirmed.number, 4)
    await service.tickets.rate(customer.id, auto.number, 2)
    with pytest.raises(RatingNotPossible) as info:
        await service.tickets.rate(customer.id, confirmed.number, 1)
    assert info.value.params["why"] == "rated"
    assert await _scores(service) == {confirmed.id: 4, auto.id: 2}
    assert sorted(await _asked(service)) == [confirmed.number, auto.number]  # asked only where a rating counts


async def test_a_refused_rating_is_not_thanked(service: Services, config: HelpdeskConfig,
                                               tmp_path: Path) -> None:
    c = Customer(make_conversation(service, config, tmp_path), "300", "ru")
    await c.say("/start")
    await c.press("lang:ru")
    await c.press("nav:cancel")
    number = await open_ticket(c)
    replies = await c.press_any(f"rate:{number}:5")
    assert len(replies) == 1 and "тикет" in replies[0].text and "Спасибо" not in replies[0].text
    await c.say(f"/withdraw {number}")
    await c.press(f"withdraw_yes:{number}")
    replies = await c.press_any(f"rate:{number}:5")
    assert len(replies) == 1 and "Спасибо" not in replies[0].text and "без решения" in replies[0].text
    assert await _scores(service) == {}
