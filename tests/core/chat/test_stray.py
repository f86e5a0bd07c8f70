"""A stray message (outside any step, one open ticket): said where it went, with Undo and Move
for a minute; Undo and Move take back what the message caused at the agents' desk too."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from core.chat import Conversation
from core.chat.stray import UNDO_WINDOW
from core.delivery.outbox import DeskRoutes
from core.domain.model import Status
from core.services import Services
from core.storage.models import Attachment, OutboxMessage
from tests.conftest import FakeClock
from tests.core.chat.harness import Customer, open_ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


async def _bodies(service: Services, number: int) -> list[str]:
    ticket = await service.queries.get(number)
    return [m.body for m in await service.queries.thread(ticket.id)]


async def _desk(service: Services) -> list[tuple[str, dict[str, object], str]]:
    async with service.db.read() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.platform.like("desk:%"))
                                .order_by(OutboxMessage.id))).scalars()
        return [(r.event, dict(r.params), r.status) for r in rows]


def _key(customer: Customer, prefix: str) -> str:
    return next(k for k in customer.keys() if k.startswith(prefix))


async def _stray(customer: Customer, text: str = "It also fails on mobile") -> int:
    """Sends a stray message; returns its id, as its Undo button carries it."""
    await customer.say(text)
    return int(_key(customer, "added:undo:").rsplit(":", 1)[1])


async def test_a_stray_message_says_where_it_went_with_undo_and_move(customer: Customer, service: Services) -> None:
    number = await open_ticket(customer, subject="Login fails")
    message = await _stray(customer)
    assert customer.text.startswith("Your message was added to ticket #1001: Login fails")
    assert customer.keys() == [f"added:undo:{message}", f"added:move:{message}"]
    assert await _bodies(service, number) == ["It also fails on mobile"]
    await customer.press(f"added:undo:{message}")
    assert customer.text == "Done: your message has been taken out of ticket #1001."
    assert await _bodies(service, number) == []
    await customer.press_any(f"added:undo:{message}")  # twice: nothing left to take back
    assert "no longer active" in customer.text


async def test_after_the_window_the_message_stays(customer: Customer, service: Services, clock: FakeClock) -> None:
    number = await open_ticket(customer)
    message = await _stray(customer)
    clock.advance(seconds=UNDO_WINDOW.total_seconds() + 1)
    await customer.press(f"added:undo:{message}")
    assert customer.text == "Sorry, it is too late to undo or move this message: it stays in ticket #1001."
    await customer.press_any(f"added:move:{message}")
    assert "too late" in customer.text and not any(k.startswith("added:to:") for k in customer.keys())
    assert await _bodies(service, number) == ["It also fails on mobile"]


async def test_undo_takes_back_the_desk_news_or_tells_the_desk(customer: Customer, service: Services) -> None:
    service.news.desks = DeskRoutes(service.config, {"board": "C1"})
    await open_ticket(customer)
    message = await _stray(customer, "Not yet sent to the desk")
    assert ("customer_message", {"number": 1001, "message_id": message}, "pending") in await _desk(service)
    await customer.press(f"added:undo:{message}")
    assert [e for e, _, _ in await _desk(service)] == ["ticket_opened"]  # unsent: it simply goes

    message = await _stray(customer, "Already on the desk")
    async with service.db.write() as s:  # the relay sent it
        row = (await s.execute(select(OutboxMessage).where(OutboxMessage.event == "customer_message"))).scalar_one()
        row.status = "sent"
    await customer.press(f"added:undo:{message}")
    events = await _desk(service)
    assert events[-1] == ("message_withdrawn", {"number": 1001, "excerpt": "Already on the desk", "moved_to": None},
                          "pending")


async def test_move_to_another_open_ticket(customer: Customer, service: Services) -> None:
    await open_ticket(customer, subject="Login fails")
    await open_ticket(customer, subject="Invoice missing", department="billing", request_type="consultation")
    await customer.say("Any news?")  # two open tickets: asked which, as before
    assert {"pick:1001", "pick:1002", "pick:new"} <= set(customer.keys())
    await customer.press("nav:cancel")
    await customer.say("/withdraw 1002")
    await customer.press("withdraw_yes:1002")
    await customer.send_file("screen.png", PNG, caption="The invoice page is blank")
    message = int(_key(customer, "added:undo:").rsplit(":", 1)[1])
    await open_ticket(customer, subject="Invoice still missing", department="billing",
                      request_type="consultation")
    await customer.press_any(f"added:move:{message}")
    assert customer.keys() == [f"added:to:{message}:1003", f"added:to:{message}:new"]
    await customer.press(f"added:to:{message}:1003")
    assert customer.text == ("Done: your message has been moved from ticket #1001 to ticket #1003: "
                             "Invoice still missing")
    assert await _bodies(service, 1001) == [] and await _bodies(service, 1003) == ["The invoice page is blank"]
    async with service.db.read() as s:
        files = (await s.execute(select(Attachment))).scalars().all()
    assert [(f.filename, f.ticket_id) for f in files] == [("screen.png", (await service.queries.get(1003)).id)]


async def test_move_to_a_new_ticket_starts_the_form_with_the_message(customer: Customer, service: Services) -> None:
    await open_ticket(customer, subject="Login fails")
    message = await _stray(customer, "Also, my printer is on fire")
    await customer.press(f"added:move:{message}")
    await customer.press(f"added:to:{message}:new")
    assert "taken out of ticket #1001" in customer.text and "dep:technical" in customer.keys()
    await customer.press("dep:technical")
    await customer.press("rt:bug_critical")
    await customer.say("Printer fire")
    await customer.press("att:done")
    assert "Also, my printer is on fire" in customer.text  # the review shows it as the description
    await customer.press("rev:submit")
    assert (await service.queries.get(1002)).description == "Also, my printer is on fire"
    assert await _bodies(service, 1001) == []


async def test_the_buttons_work_in_another_process(customer: Customer, service: Services,
                                                   conversation: Conversation) -> None:
    from tests.core.chat.harness import make_conversation

    await open_ticket(customer)
    message = await _stray(customer)
    other = Customer(make_conversation(service, conversation.config, Path("/nonexistent")))
    await other.press_any(f"added:undo:{message}")
    assert "taken out of ticket #1001" in other.text
    assert (await service.queries.get(1001)).status == Status.NEW


async def test_anothers_message_cannot_be_taken(customer: Customer, service: Services,
                                                conversation: Conversation) -> None:
    await open_ticket(customer)
    message = await _stray(customer)
    eve = Customer(conversation, user_id="eve")
    await eve.say("/start")
    await eve.press("lang:en")
    await eve.press("nav:cancel")
    await eve.press_any(f"added:undo:{message}")
    await eve.press_any(f"added:to:{message}:1001")
    assert "no longer active" in eve.text
    assert await _bodies(service, 1001) == ["It also fails on mobile"]


async def test_undo_leaves_the_ticket_no_longer_waiting_on_it(customer: Customer, service: Services) -> None:
    await open_ticket(customer)
    agent = await service.desk.agent("slack", "U1")
    await service.desk.add_agent_message(agent.id, 1001, "Which browser?")
    assert (await service.queries.get(1001)).waiting_since is None  # answered
    message = await _stray(customer, "Oops, meant for someone else")
    assert (await service.queries.get(1001)).waiting_since is not None
    await customer.press(f"added:undo:{message}")
    ticket = await service.queries.get(1001)
    assert ticket.waiting_since is None and ticket.status == Status.ACCEPTED  # the status it took stays
