"""The hand-over to L3: asked for before an agent's escalation to the top, kept, told to the
customer; answers of other agents at L3 go to the customer's contact, not to the customer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.agents import AgentDesk, Done, Refused, TicketView, as_text, parse
from core.agents.actions import Escalate, Incomplete
from core.agents.handover import HandoverForm, Questions, commanded, handover_form, parse_handover, step, typed_back
from core.agents.wording import explain
from core.chat.notices import render
from core.domain.errors import AnswerForContact
from core.domain.handover import Handover
from core.domain.model import MessageKind, Who
from core.i18n import translator
from core.services import Services
from core.storage.models import HandoverRecord, OutboxMessage, TicketMessage
from tests.core.agents.test_interpreter import EVA, JANA, People

LINE = "escalate 1001 checked: logs, cache | reproduce: log in as ana@acme.cz | told: a specialist looks today"



async def _at_l2(service: Services, agents: AgentDesk) -> None:
    customer = await service.customers.customer("chat", "100", "100", "Jana K.", "cs")
    await service.tickets.open_ticket(customer.id, department="technical", request_type="bug", subject="Login",
                                      description="Since this morning the login page says 500.")
    assert await agents.run(EVA, parse("escalate 1001"), People()) == Done("Ticket #1001 is now at level L2.")


async def _customer_news(service: Services) -> list[tuple[str, dict]]:
    async with service.db.read() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.customer_id.is_not(None))
                                .order_by(OutboxMessage.id))).scalars()
        return [(o.event, o.params) for o in rows]


def test_the_one_line_hand_over() -> None:
    assert parse(LINE) == Escalate(1001, "", Handover("logs, cache", "log in as ana@acme.cz",
                                                      "a specialist looks today"))
    # Any order, any case; a "|" inside a field is the field's own.
    assert parse_handover("TOLD: nothing yet | checked: a|b | reproduce: x") == Handover("a|b", "x", "nothing yet")
    assert parse("escalate 1001 needs a DBA") == Escalate(1001, "needs a DBA")  # a reason, no hand-over
    assert parse("escalate 1001 checked: logs | told: soon") == Incomplete("escalate", "handover", "reproduce")
    assert parse("escalate 1001 checked: | reproduce: x | told: y") == Incomplete("escalate", "handover", "checked")


async def test_escalating_to_l3_asks_for_the_hand_over_in_the_agents_language(
        agents: AgentDesk, service: Services) -> None:
    await _at_l2(service, agents)
    form = await agents.run(JANA, parse("escalate 1001 needs a developer"), People(), prefix="/agent ")
    t = translator("cs")
    assert isinstance(form, HandoverForm) and form == handover_form(t, 1001, 3, "/agent ")
    assert [f.key for f in form.fields] == ["checked", "reproduce", "told"]
    assert form.title == t._("Hand-over to L{tier}", tier=3) != "Hand-over to L3"
    assert "/agent escalate 1001 checked: … | reproduce: … | told: …" in as_text(form)
    assert (await service.queries.get(1001)).tier == 2  # nothing happened yet
    refused = await agents.run(EVA, Escalate(1001, "", Handover("logs", "  ", "")), People())
    assert refused == Refused("Fill in “How to reproduce”.\nFill in “What the customer was told”.")
    missing = await agents.run(EVA, parse("escalate 1001 checked: logs | told: soon"), People(), prefix="/agent ")
    assert isinstance(missing, Refused) and "“How to reproduce”" in missing.text
    assert (await service.queries.get(1001)).tier == 2


async def test_the_hand_over_is_kept_shown_and_told(agents: AgentDesk, service: Services) -> None:
    await _at_l2(service, agents)
    done = await agents.run(EVA, parse(LINE), People())
    assert isinstance(done, Done) and "L3" in done.text and "hand-over" in done.text
    ticket = await service.queries.get(1001)
    eva = await service.desk.agent("desk", "eva")
    assert ticket.tier == 3 and ticket.assignee_id == eva.id  # the escalating agent is the contact
    async with service.db.read() as s:
        record = (await s.execute(select(HandoverRecord))).scalar_one()
    assert (record.tier, record.agent_id, record.checked, record.told) == (3, eva.id, "logs, cache",
                                                                           "a specialist looks today")
    event, params = (await _customer_news(service))[-1]
    assert event == "escalated" and params["handover"] is True and params["tier"] == 3
    assert params["due"] == ticket.resolution_due.isoformat() and params["zone"]
    shown = await agents.run(JANA, parse("show 1001"), People())
    assert isinstance(shown, TicketView)
    t = translator("cs")
    assert shown.handover[0] == t._("Hand-over to L{tier} by {name}:", tier=3, name="Eva")
    assert f"{t._('How to reproduce')}: log in as ana@acme.cz" in shown.handover


async def test_the_sla_still_escalates_to_l3_without_a_hand_over(agents: AgentDesk, service: Services) -> None:
    await _at_l2(service, agents)
    assert (await service.desk.escalate(1001, Who.system(), "resolution_overdue")).tier == 3
    event, params = (await _customer_news(service))[-1]
    assert event == "escalated" and "handover" not in params


async def test_an_answer_of_another_agent_at_l3_goes_to_the_contact(agents: AgentDesk, service: Services) -> None:
    await _at_l2(service, agents)
    await agents.run(EVA, parse(LINE), People())
    told = len(await _customer_news(service))
    answer = await agents.run(JANA, parse("reply 1001 It is the session cache; clear it."), People(),
                              prefix="/agent ")
    t = translator("cs")
    assert answer == Done(t._(
        "Kept as an internal note for {name}, the customer's contact on ticket {ticket}, who has been told; the "
        "customer does not see it. To answer the customer yourself, take the ticket: {example}", name="Eva",
        ticket=t.ticket(1001), example="/agent claim 1001"))
    assert len(await _customer_news(service)) == told  # the customer got nothing
    async with service.db.read() as s:
        last = (await s.execute(select(TicketMessage).order_by(TicketMessage.id.desc()).limit(1))).scalar_one()
        desk_news = (await s.execute(select(OutboxMessage).where(OutboxMessage.customer_id.is_(None))
                                     .order_by(OutboxMessage.id.desc()))).scalars().first()
    assert last.kind == MessageKind.NOTE and last.body.startswith("It is the session cache")
    assert desk_news is None  # no desk connected in this test: what the desks show is the desks' tests
    # The contact answers the customer as always; a note stays a note.
    assert await agents.run(EVA, parse("reply 1001 Please clear the cache."), People()) == Done("Sent to the customer.")
    assert (await _customer_news(service))[-1][0] == "agent_reply"
    assert await agents.run(JANA, parse("note 1001 ok"), People()) == Done(translator("cs")._("Note saved."))
    # Handed over: the specialist now answers the customer.
    await agents.run(EVA, parse("assign 1001 @jana"), People())
    assert await agents.run(JANA, parse("reply 1001 Fixed."), People()) == Done(
        translator("cs")._("Sent to the customer."))


async def test_questions_one_after_another() -> None:
    t = translator("en")
    asking = Questions(handover_form(t, 1001, 3, ""))
    assert "(1/3) What was checked" in asking.start(t, "/cancel")
    again, said, done = step(t, asking, "")
    assert again is None and done is None and said == "Escalation cancelled: ticket #1001 stays at L2."
    asking, said, _ = step(t, asking, "logs")
    assert said.startswith("(2/3) How to reproduce")
    same, said, _ = step(t, asking, "   ")
    assert same == asking and said.startswith("Fill in “How to reproduce”.")
    asking, _, _ = step(t, asking, "log in")
    finished, said, done = step(t, asking, "soon")
    assert finished is None and done == Handover("logs", "log in", "soon")
    assert step(t, asking, "/cancel")[1] == "Escalation cancelled: ticket #1001 stays at L2."


@pytest.mark.parametrize("lang", ["cs", "fa"])
def test_the_customer_is_told_who_has_it_and_what_comes_next(lang: str) -> None:
    t = translator(lang)
    due = "2026-11-20T15:00:00+00:00"
    text = render(t, "escalated", {"number": 1001, "tier": 3, "handover": True, "due": due,
                                   "zone": "Asia/Tehran" if lang == "fa" else "Europe/Prague"}).text
    assert t.ticket(1001) in text
    english = render(translator("en"), "escalated", {"number": 1001, "tier": 3, "handover": True, "due": due,
                                                     "zone": "Europe/Prague"}).text
    assert "specialist team" in english and "remains your contact" in english and "resolve it by" in english
    assert text != english or lang == "en"
    without = render(t, "escalated", {"number": 1001, "tier": 3, "handover": True, "due": None, "zone": "UTC"}).text
    assert len(without) < len(text)


async def test_a_reply_that_bypasses_the_interpreter_is_refused_at_l3(agents: AgentDesk, service: Services) -> None:
    # kb send, or any other caller of the service: the rule holds in the transaction itself, and is explained.
    await _at_l2(service, agents)
    await agents.run(EVA, parse(LINE), People())
    jana = await service.desk.agent("desk", "jana", "Jana", "cs")
    with pytest.raises(AnswerForContact):
        await service.desk.add_agent_message(jana.id, 1001, "Try again")
    assert (await service.desk.contact_for(1001, jana.id)) is not None
    assert (await service.desk.contact_for(1001, (await service.desk.agent("desk", "eva")).id)) is None
    t = translator("cs")
    assert explain(t, AnswerForContact(1001)) == t._(
        "Ticket #{number} is at L3 and someone else is the customer's contact: write a note, or take the ticket "
        "first.", number=1001)


def test_the_questions_count_in_the_agents_digits() -> None:
    t = translator("fa")
    asking = Questions(handover_form(t, 1042, 3, "/"))
    assert asking.question().startswith("(۱/۳) ")
    assert asking.answered("x").question().startswith("(۲/۳) ")
    assert Questions(handover_form(translator("cs"), 1042, 3, "/")).question().startswith("(1/3) ")


def test_what_was_typed_comes_back_in_the_one_line_form() -> None:
    t = translator("en")
    form = handover_form(t, 1042, 3, "/agent ")
    assert form.filled(("Logs",)) == "/agent escalate 1042 checked: Logs | reproduce: … | told: …"
    back = typed_back(t, form, Handover("Logs", "Log in", "Today"))
    assert back.endswith("/agent escalate 1042 checked: Logs | reproduce: Log in | told: Today")
    assert parse_handover(back.partition("1042 ")[2]) == Handover("Logs", "Log in", "Today")


def test_a_command_leaves_the_questions_but_cancel_answers_them() -> None:
    assert commanded("/agent show 1042") and commanded(" /status 1042 resolved")
    assert not commanded("/cancel") and not commanded("/CANCEL ") and not commanded("Logs: /var/log")
