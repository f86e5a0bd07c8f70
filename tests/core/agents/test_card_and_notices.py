"""A ticket's card as data, and what the desk is told about changes, in the desk's language."""

from __future__ import annotations

import pytest

from core.agents import notices
from core.agents.card import ASSIGNEE, ticket_card
from core.domain.config import HelpdeskConfig
from core.domain.handover import Handover
from core.domain.model import Status, Who
from core.i18n import translator
from core.services import Services
from core.storage.desk import agent_by_id, card_state, message_with_files, move_post, post_at, save_post, update_post


async def _opened(service: Services) -> int:
    customer = await service.customers.customer("chat", "100", "100", "Ali", "fa")
    ticket = await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                       subject="Login fails", description="500 since the morning")
    return ticket.id


async def test_card_fields_and_controls(service: Services, config: HelpdeskConfig) -> None:
    ticket_id = await _opened(service)
    t = translator("cs")
    card = ticket_card(t, config, await card_state(service.db, ticket_id, "board"))
    assert (card.number, card.subject, card.title) == (1001, "Login fails", "#1001 · Login fails")
    fields = {f.key: (f.label, f.value) for f in card.fields}
    assert fields["status"] == ("Stav", t._("New")) and fields["priority"][1] == "Běžná"
    assert fields["customer"][1] == "Ali · chat · فارسی"
    assert fields[ASSIGNEE] == (t._("Assignee"), t._("nobody yet"))
    assert card.description == "500 since the morning" and card.attachments == ()
    assert card.controls is not None
    assert [o.value for o in card.controls.statuses] == ["new", "accepted", "waiting", "resolved", "closed"]
    assert card.controls.current_priority.value == "normal"
    assert card.controls.escalate is not None and card.controls.escalate.label == t._("Escalate to L{tier}", tier=2)

    agent = await service.desk.agent("desk", "eva", "Eva")
    await service.desk.assign(1001, agent.id, Who.agent(agent.id))
    await service.desk.escalate(1001, Who.agent(agent.id))
    await service.desk.escalate(1001, Who.agent(agent.id), "", Handover("logs", "log in", "we escalate"))
    card = ticket_card(t, config, await card_state(service.db, ticket_id, "board"))
    assert {f.key: f.value for f in card.fields}[ASSIGNEE] == "Eva"
    assert card.controls is not None and card.controls.escalate is None  # L3 is the top
    assert card.controls.statuses[0].value == "accepted"
    await service.desk.change_status(1001, Status.CLOSED, Who.agent(agent.id))
    assert ticket_card(t, config, await card_state(service.db, ticket_id, "board")).controls is None


async def test_desk_bookkeeping(service: Services, clock) -> None:
    ticket_id = await _opened(service)
    assert await post_at(service.db, "board", "C1", "1.0") is None
    await save_post(service.db, ticket_id, "board", "C1", "1.0", clock())
    assert (await post_at(service.db, "board", "C1", "1.0")).ticket_id == ticket_id  # type: ignore[union-attr]
    assert await post_at(service.db, "wall", "C1", "1.0") is None  # a thread is a ticket's on its own desk
    post = (await card_state(service.db, ticket_id, "board")).post
    assert post is not None and post.card == "1.0" and not post.closed
    assert (await card_state(service.db, ticket_id, "wall")).post is None
    await save_post(service.db, ticket_id, "wall", "-100", "7", clock(), card="8")  # a ticket on two desks
    wall = (await card_state(service.db, ticket_id, "wall")).post
    assert wall is not None and (wall.ts, wall.card) == ("7", "8")
    await update_post(service.db, wall, card_digest="abc", closed=True)
    await move_post(service.db, wall, "-100", "9", "10", clock())
    wall = (await card_state(service.db, ticket_id, "wall")).post
    assert wall is not None and (wall.ts, wall.card, wall.card_digest, wall.closed) == ("9", "10", None, False)
    agent = await service.desk.agent("desk", "eva", "Eva")
    assert (await agent_by_id(service.db, agent.id)).display_name == "Eva"  # type: ignore[union-attr]
    assert await agent_by_id(service.db, agent.id + 1) is None
    await service.desk.add_agent_message(agent.id, 1001, "Which browser?")
    message_id = (await service.queries.thread(ticket_id))[0].id
    found = await message_with_files(service.db, message_id)
    assert found is not None
    message, files = found
    assert message.body == "Which browser?" and files == []


@pytest.mark.parametrize("lang", ["cs", "fa"])
def test_notices_are_translated(config: HelpdeskConfig, lang: str) -> None:
    t, en = translator(lang), translator("en")
    for say in (
        lambda t: notices.status_changed(t, "Eva", "new", "accepted"),
        lambda t: notices.priority_changed(t, config, "Eva", "normal", "urgent"),
        lambda t: notices.escalated(t, "Eva", 2),
        lambda t: notices.escalation_reason(t, "first_response_overdue"),
        lambda t: notices.sla(t, "sla_warning", True, "—"),
        lambda t: notices.sla(t, "sla_breach", False, "—"),
        lambda t: notices.rated(t, 5),
        lambda t: notices.assigned(t, "Jana", "Eva"),
        lambda t: notices.assigned(t, "Jana", None),
        lambda t: notices.assigned_to_you(t, 1001, "Login fails"),
        lambda t: notices.agent_message_head(t, "Eva", True),
        lambda t: notices.customer_message_head(t, None),
        lambda t: notices.actor_name(t, "system", None),
        lambda t: notices.only_agents_answer(t),
    ):
        assert say(t) != say(en)
    assert notices.escalation_reason(t, "the customer is a bank") == "the customer is a bank"  # an agent's words
    assert notices.actor_name(t, "agent", "Eva") == "Eva"
    assert "Urgentní" in notices.priority_changed(translator("cs"), config, "Eva", "normal", "urgent")


@pytest.mark.parametrize("lang", ["cs", "fa"])
def test_the_threads_system_lines_are_said_in_the_agents_language(lang: str) -> None:
    t = translator(lang)
    assert notices.system_line(t, "escalated to L2") == t._("Escalated to L{tier}.", tier=2)
    assert notices.system_line(t, "escalated to L3 with a hand-over") == \
        t._("Escalated to L{tier} with a hand-over.", tier=3)
    assert notices.system_line(t, "escalated to L2: first_response_overdue") == \
        t._("Escalated to L{tier}.", tier=2) + " " + t._("The first response is overdue.")
    assert notices.system_line(t, "escalated to L2: the customer's VIP") == \
        t._("Escalated to L{tier}.", tier=2) + " the customer's VIP"  # an agent's reason as written
    assert notices.system_line(t, "something else") == "something else"
    assert "escalated" not in notices.system_line(t, "escalated to L3 with a hand-over")
