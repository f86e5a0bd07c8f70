"""Commands, follow-ups, the duplicate guard, ticket actions and every kind of bad input."""

from __future__ import annotations

from sqlalchemy import func, select

from core.domain.model import Status, Who
from core.i18n import FSI, PDI, RLM
from core.services import Services
from core.storage.models import Ticket, TicketMessage
from tests.conftest import FakeClock
from tests.core.chat.harness import Customer, open_ticket


async def _messages(service: Services, number: int) -> list[str]:
    ticket = await service.queries.get(number)
    return [m.body for m in await service.queries.thread(ticket.id)]


async def test_follow_up_goes_to_the_only_open_ticket(customer: Customer, service: Services) -> None:
    number = await open_ticket(customer)
    await customer.say("It also fails on mobile")
    assert "Your message was added to ticket #1001: Login fails" in customer.text
    assert "keeps its place in the queue" in customer.text  # unanswered yet: told once...
    await customer.say("And on the tablet")
    assert "keeps its place" not in customer.text  # ...and only once
    await customer.say("And on the TV")
    assert await _messages(service, number) == ["It also fails on mobile", "And on the tablet", "And on the TV"]


async def test_follow_up_with_several_open_tickets_asks_which(customer: Customer, service: Services) -> None:
    await open_ticket(customer, subject="Login fails")
    await open_ticket(customer, subject="Invoice missing", department="billing", request_type="consultation")
    await customer.say("Any news?")
    assert {"pick:1001", "pick:1002", "pick:new"} <= set(customer.keys())
    await customer.say("Also this")  # a second message is kept with the first
    await customer.press("pick:1002")
    assert "added to ticket #1002" in customer.text
    assert await _messages(service, 1002) == ["Any news?\nAlso this"]


async def test_follow_up_without_tickets_offers_a_new_one(customer: Customer, service: Services) -> None:
    await customer.say("My printer is on fire")
    assert "no open tickets" in customer.text
    await customer.press("pick:new")
    await customer.press("dep:technical")
    await customer.press("rt:bug_critical")
    await customer.say("Printer fire")
    await customer.press("att:done")
    assert "My printer is on fire" in customer.text
    await customer.press("rev:submit")
    assert (await service.queries.get(1001)).description == "My printer is on fire"


async def test_duplicate_guard(customer: Customer, service: Services) -> None:
    await open_ticket(customer, subject="Cannot log in to the admin panel")
    await customer.say("/new")
    await customer.press("dep:technical")
    await customer.press("rt:bug")
    await customer.say("cannot login to admin panel")
    assert "dup:add:1001" in customer.keys() and "similar topic" in customer.text
    await customer.press("dup:add:1001")
    await customer.say("Still cannot log in, now with error 403")
    assert "added to ticket #1001" in customer.text
    assert await _messages(service, 1001) == ["Still cannot log in, now with error 403"]
    # ...or open a new ticket anyway.
    number = await open_ticket(customer, subject="Cannot log in to admin panel!")
    assert number == 1002


async def test_ticket_views_and_normalized_numbers(customer: Customer, service: Services) -> None:
    await open_ticket(customer)
    for typed in ("/ticket 1001", "/ticket #1001", "/ticket #۱۰۰۱", "/ticket ١٠٠١", "/ticket \u200b1001"):
        await customer.say(typed)
        assert "Ticket #1001: Login fails" in customer.text, typed
    assert "reply:1001" in customer.keys() and "withdraw:1001" in customer.keys()
    await customer.say("/tickets open")
    assert "#1001 · Login fails · New" in customer.text
    await customer.say("/tickets done")
    assert "no tickets here" in customer.text
    await customer.press("list:all")
    assert "t:1001" in customer.keys()


async def test_unknown_and_foreign_tickets(customer: Customer, conversation, service: Services) -> None:
    await open_ticket(customer)
    other = Customer(conversation, user_id="u2")
    await other.say("/start")
    await other.press("lang:en")
    for attempt in ("/ticket 1001", "/ticket 4242", "/reply 1001"):
        await other.say(attempt)
        assert "was not found among your tickets" in other.text, attempt
    # Forged buttons pointing at someone else's ticket change nothing.
    for key in ("reply:1001", "withdraw:1001", "confirm:1001", "dispute:1001", "t:1001", "rate:1001:1",
                "escalate:1001", "withdraw_yes:1001", "pick:1001", "link:1001"):
        await other.press_any(key)
        assert "not found" in other.text or "no longer active" in other.text, key
    assert (await service.queries.get(1001)).status == Status.NEW
    assert await _messages(service, 1001) == []
    await customer.say("/ticket")
    assert "for example: /ticket 1042" in customer.text


async def test_reply_withdraw_confirm_dispute(customer: Customer, service: Services) -> None:
    await open_ticket(customer)
    await customer.say("/reply 1001")
    await customer.say("Here is more detail")
    assert "added to ticket #1001" in customer.text
    await customer.press_any("withdraw:1001")
    await customer.press("withdraw_no")
    assert (await service.queries.get(1001)).status == Status.NEW
    agent = await service.desk.agent("slack", "U1")
    await service.desk.change_status(1001, Status.RESOLVED, Who.agent(agent.id))
    await customer.say("/ticket 1001")
    await customer.press("dispute:1001")
    assert "still not working" in customer.text
    await customer.say("The error is back")
    assert (await service.queries.get(1001)).status == Status.ACCEPTED
    await service.desk.change_status(1001, Status.RESOLVED, Who.agent(agent.id))
    await customer.say("Thanks, works now")  # one resolved ticket: asked, not reopened
    assert "confirm:1001" in customer.keys()
    await customer.press("confirm:1001")
    ticket = await service.queries.get(1001)
    assert ticket.status == Status.CLOSED
    assert (await _messages(service, 1001))[-1] == "Thanks, works now"


async def test_withdraw(customer: Customer, service: Services) -> None:
    await open_ticket(customer)
    await customer.say("/ticket 1001")
    await customer.press("withdraw:1001")
    await customer.press("withdraw_yes:1001")
    assert "withdrawn" in customer.text
    assert (await service.queries.get(1001)).status == Status.CLOSED


async def test_reply_to_long_closed_ticket_offers_linked_ticket(
    customer: Customer, service: Services, clock: FakeClock
) -> None:
    await open_ticket(customer)
    owner = (await service.queries.get(1001)).customer_id
    await service.tickets.change_status(1001, Status.CLOSED, Who.customer(owner))
    clock.advance(days=30)
    await customer.say("/reply 1001")
    await customer.say("The same problem again")
    assert "link:1001" in customer.keys()
    await customer.press("link:1001")
    await customer.press("dep:technical")
    await customer.press("rt:bug")
    await customer.say("Login fails again")
    await customer.press("pri:normal")
    await customer.press("att:done")
    await customer.press("rev:submit")
    new = await service.queries.get(1002)
    assert new.linked_ticket_id == (await service.queries.get(1001)).id
    assert new.description == "The same problem again"


async def test_a_button_pressed_mid_form_keeps_the_form(customer: Customer) -> None:
    await open_ticket(customer)
    await customer.say("/new")
    await customer.press("dep:sales")
    await customer.press_any("reply:1001")
    await customer.say("quick note")
    assert "added to ticket #1001" in customer.text
    await customer.say("/start")
    await customer.press("resume:continue")
    assert "rt:consultation" in customer.keys()


async def test_bad_input_is_explained_and_nothing_half_written(customer: Customer, service: Services) -> None:
    await customer.say("/new")
    await customer.press("dep:technical")
    await customer.press("rt:bug")
    await customer.say("   ")
    assert "subject cannot be empty" in customer.text and "short subject" in customer.text
    await customer.say("x" * 121)
    assert "at most 120 characters are allowed, yours has 121" in customer.text
    await customer.say("Fine subject")
    await customer.press("pri:low")
    await customer.say("d" * 4001)
    assert "at most 4,000 characters" in customer.text
    await customer.say("Real description")
    await customer.send_file("evil.pdf", b"MZ\x90\x00" + b"\x00" * 200)  # an .exe called .pdf
    assert "type of file is not accepted" in customer.text
    await customer.send_file("huge.zip", b"", declared_size=10 * 1024 * 1024 + 1)
    assert "at most 10 MB" in customer.text
    assert customer.fetches == 1  # the oversized file was never downloaded
    await customer.send_file("empty.txt", b"")
    assert "empty" in customer.text
    await customer.press("att:done")
    assert "Attached" not in customer.text
    async with service.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(Ticket))).scalar_one() == 0
        assert (await s.execute(select(func.count()).select_from(TicketMessage))).scalar_one() == 0


async def test_stale_and_unknown_buttons(customer: Customer) -> None:
    await customer.press_any("rev:submit")
    assert "no longer active" in customer.text
    await customer.press_any("garbage-from-a-client")
    assert "no longer active" in customer.text
    await customer.say("/frobnicate")
    assert "do not know that command" in customer.text


async def test_language_command(customer: Customer) -> None:
    await customer.say("/language")
    await customer.press("lang:ru")
    await customer.say("/help")
    assert "/new" in customer.text and "Open a new ticket" not in customer.text


async def test_persian_help_lists_each_command_right_to_left(customer: Customer) -> None:
    await customer.say("/language")
    await customer.press("lang:fa")
    await customer.say("/help")
    lines = [line for line in customer.text.split("\n") if "/" in line and "—" in line]
    assert len(lines) >= 8
    assert all(line.startswith(f"{RLM}{FSI}/") for line in lines), lines
    await open_ticket(customer, subject="VPN قطع است")
    await customer.say("/tickets")
    listed = [line for line in customer.text.split("\n") if "#1001" in line]
    assert listed and listed[0].startswith(f"{RLM}{FSI}#1001{PDI}") and f"{FSI}VPN{PDI}" in listed[0]


async def test_ticket_action_commands(customer: Customer, service: Services) -> None:
    await open_ticket(customer)
    await customer.say("/withdraw")
    assert "for example: /withdraw 1042" in customer.text
    agent = await service.desk.agent("slack", "U1")
    await service.desk.change_status(1001, Status.RESOLVED, Who.agent(agent.id))
    await customer.say("/notsolved ۱۰۰۱")
    assert (await service.queries.get(1001)).status == Status.ACCEPTED
    await customer.say("Still failing")
    await service.desk.change_status(1001, Status.RESOLVED, Who.agent(agent.id))
    await customer.say("/confirm 1001")
    assert (await service.queries.get(1001)).status == Status.CLOSED
    await customer.say("/withdraw 1001")
    await customer.press("withdraw_yes:1001")
    assert "not possible for ticket #1001" in customer.text
    # Only a resolved ticket is confirmed or disputed: a closed one is not reopened by /notsolved,
    # nor an open one closed by /confirm.
    await customer.say("/notsolved 1001")
    assert "not possible for ticket #1001" in customer.text
    assert (await service.queries.get(1001)).status == Status.CLOSED
    await open_ticket(customer, subject="Another problem entirely")
    await customer.say("/confirm 1002")
    assert "not possible for ticket #1002" in customer.text
    assert (await service.queries.get(1002)).status == Status.NEW


async def test_escalation_request_and_rating(customer: Customer, service: Services, clock: FakeClock) -> None:
    await open_ticket(customer)
    await customer.say("/escalate 1001")
    assert "only once its first response is overdue" in customer.text
    await customer.say("/ticket 1001")
    assert "escalate:1001" not in customer.keys()
    clock.advance(days=3)  # the first response is overdue now
    await customer.say("/ticket 1001")
    assert "escalate:1001" in customer.keys()
    await customer.press("escalate:1001")
    assert "passed to our senior specialists" in customer.text
    assert (await service.queries.get(1001)).tier == 2
    agent = await service.desk.agent("slack", "U1")
    await service.desk.change_status(1001, Status.RESOLVED, Who.agent(agent.id))
    await customer.say("/confirm 1001")
    from core.chat.notices import render
    from core.i18n import translator

    ask = render(translator("en"), "rating_request", {"number": 1001})
    assert [c.key for c in ask.flat_choices] == [f"rate:1001:{s}" for s in range(1, 6)]
    await customer.press_any("rate:1001:5")
    assert "Thank you for your rating" in customer.text
    await customer.say("Quick and kind")
    assert "Thank you for your feedback" in customer.text
    from core.storage.models import Rating

    async with service.db.read() as s:
        rating = (await s.execute(select(Rating))).scalar_one()
    assert (rating.score, rating.comment) == (5, "Quick and kind")
    await customer.press_any("rate:1001:9")
    assert "can be rated once it is closed" in customer.text  # nonsense scores are refused
