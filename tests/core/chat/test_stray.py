"""A stray message (outside any step, one open ticket): said where it went, with Undo and Move
for a minute; Undo and Move take back what the message caused at the agents' desk too."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from core.chat import Conversation, Inbound
from core.chat.stray import UNDO_WINDOW
from core.delivery.inbound import InboundLog
from core.delivery.outbox import DeskRoutes
from core.domain.model import Status, Who
from core.services import Services
from core.services.forget import forget_customer
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


async def _to_new_form(customer: Customer, message: int) -> None:
    await customer.press_any(f"added:move:{message}")  # from the notice, still in the chat
    await customer.press(f"added:to:{message}:new")


async def _fill_form(customer: Customer) -> None:
    await customer.press("dep:technical")
    await customer.press("rt:bug_critical")
    await customer.say("Printer fire")
    await customer.press("att:done")


async def test_move_to_a_new_ticket_leaves_the_message_until_submitted(customer: Customer,
                                                                       service: Services) -> None:
    await open_ticket(customer, subject="Login fails")
    message = await _stray(customer, "Also, my printer is on fire")
    await _to_new_form(customer, message)
    assert "stays in ticket #1001 until you send" in customer.text and "dep:technical" in customer.keys()
    assert await _bodies(service, 1001) == ["Also, my printer is on fire"]
    await _fill_form(customer)
    assert "Also, my printer is on fire" in customer.text  # the review shows it as the description
    await customer.press("rev:submit")
    assert (await service.queries.get(1002)).description == "Also, my printer is on fire"
    assert await _bodies(service, 1001) == []


async def test_a_cancelled_or_expired_move_loses_nothing(customer: Customer, service: Services,
                                                         clock: FakeClock) -> None:
    await open_ticket(customer, subject="Login fails")
    message = await _stray(customer, "Important detail")
    await _to_new_form(customer, message)
    await customer.press("nav:cancel")
    assert customer.text == "Cancelled. Your message stays in ticket #1001."
    assert await _bodies(service, 1001) == ["Important detail"]
    await _to_new_form(customer, message)
    clock.advance(hours=service.config.lifecycle.draft_ttl_hours + 1)
    assert await customer.conversation.expire_drafts() == 1
    assert await _bodies(service, 1001) == ["Important detail"]


async def test_a_message_undone_before_the_submit_still_opens_the_ticket(customer: Customer,
                                                                         service: Services) -> None:
    await open_ticket(customer, subject="Login fails")
    message = await _stray(customer, "Also, my printer is on fire")
    await _to_new_form(customer, message)
    await customer.press_any(f"added:undo:{message}")
    assert "taken out of ticket #1001" in customer.text
    await customer.say("/new")
    await customer.press("resume:continue")
    await _fill_form(customer)
    await customer.press("rev:submit")
    assert (await service.queries.get(1002)).description == "Also, my printer is on fire"


async def test_a_file_moved_to_a_new_ticket_goes_with_it(customer: Customer, service: Services) -> None:
    await open_ticket(customer)
    await customer.send_file("screen.png", PNG, caption="Blank page")
    message = int(_key(customer, "added:undo:").rsplit(":", 1)[1])
    await _to_new_form(customer, message)
    await _fill_form(customer)
    await customer.press("rev:submit")
    files = await service.queries.attachments((await service.queries.get(1002)).id)
    assert [f.filename for f in files] == ["screen.png"] and Path(files[0].stored_path).exists()
    assert await service.queries.attachments((await service.queries.get(1001)).id) == []


async def test_a_file_undone_while_its_move_is_in_the_form_is_kept_for_the_form(customer: Customer,
                                                                                 service: Services) -> None:
    await open_ticket(customer)
    await customer.send_file("screen.png", PNG, caption="Blank page")
    message = int(_key(customer, "added:undo:").rsplit(":", 1)[1])
    await _to_new_form(customer, message)
    await customer.press_any(f"added:undo:{message}")
    await customer.say("/new")
    await customer.press("resume:continue")
    await _fill_form(customer)
    await customer.press("rev:submit")
    files = await service.queries.attachments((await service.queries.get(1002)).id)
    assert [f.filename for f in files] == ["screen.png"] and Path(files[0].stored_path).exists()


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


async def _waiting(service: Services) -> None:
    """Ticket #1001 waits on its customer: an agent asked a question."""
    agent = await service.desk.agent("slack", "U1")
    await service.desk.add_agent_message(agent.id, 1001, "Which browser?")
    assert (await service.queries.get(1001)).status == Status.WAITING


async def test_undo_puts_a_waiting_ticket_back_to_waiting(customer: Customer, service: Services,
                                                          clock: FakeClock) -> None:
    service.news.desks = DeskRoutes(service.config, {"board": "C1"})
    await open_ticket(customer)
    await _waiting(service)
    before = await service.queries.get(1001)
    clock.advance(hours=2)
    message = await _stray(customer, "Oops, meant for someone else")
    moved = await service.queries.get(1001)
    assert moved.status == Status.ACCEPTED and moved.paused_at is None and moved.reminder_due_at is None
    await customer.press(f"added:undo:{message}")
    assert customer.text == "Done: your message has been taken out of ticket #1001."
    ticket = await service.queries.get(1001)
    assert ticket.status == Status.WAITING and ticket.waiting_since is None
    assert ticket.reminder_due_at == before.reminder_due_at  # the reminder as it was armed
    assert ticket.paused_at == moved.updated_at  # the two hours already counted are not counted again
    assert ticket.resolution_due == moved.resolution_due
    assert [c.reason for c in await service.queries.history(ticket.id)][-1] == "agent_replied"
    assert [p.get("reason") for e, p, _ in await _desk(service) if e == "status_changed"] == ["agent_replied"]


async def test_undo_after_more_happened_leaves_the_ticket_in_progress(customer: Customer,
                                                                       service: Services) -> None:
    await open_ticket(customer)
    await _waiting(service)
    message = await _stray(customer, "Oops, meant for someone else")
    await _stray(customer, "Chrome, by the way")  # the ticket moved on since
    await customer.press_any(f"added:undo:{message}")
    assert customer.text == ("Done: your message has been taken out of ticket #1001.\n"
                             "The ticket stays in progress.")
    assert (await service.queries.get(1001)).status == Status.ACCEPTED


async def test_a_refused_move_leaves_the_message_inside_the_events_unit(customer: Customer, service: Services,
                                                                         clock: FakeClock) -> None:
    await open_ticket(customer, subject="Old")
    agent = await service.desk.agent("slack", "U1")
    await service.desk.change_status(1001, Status.RESOLVED, Who.agent(agent.id))
    await service.desk.change_status(1001, Status.CLOSED, Who.agent(agent.id))
    clock.advance(days=service.config.lifecycle.reopen_window_days + 1)
    await open_ticket(customer, subject="New")
    message = await _stray(customer, "Keep me")
    press = Inbound(customer.platform, customer.user_id, f"chat-{customer.user_id}", "Test Customer", "en",
                    choice=f"added:to:{message}:1001")
    # As the pipeline runs it: in the event's unit, committed whole at its end.
    replies = await InboundLog(service.db, clock).once("telegram", "ev-1", lambda: customer.conversation.handle(press))
    assert replies and "#1001" in replies[0].text
    assert await _bodies(service, 1002) == ["Keep me"] and await _bodies(service, 1001) == []


async def test_forget_clears_the_excerpt_of_a_withdrawn_message(customer: Customer, service: Services) -> None:
    service.news.desks = DeskRoutes(service.config, {"board": "C1"})
    await open_ticket(customer)
    message = await _stray(customer, "My card number 4111 1111")
    await _mark_sent(service)
    await customer.press(f"added:undo:{message}")
    assert "4111" in str(await _desk(service))
    await forget_customer(service.db, "telegram", "u1")
    assert "4111" not in str(await _desk(service))


async def test_undo_deletes_the_files_no_other_ticket_names(customer: Customer, service: Services) -> None:
    await open_ticket(customer)
    await customer.send_file("screen.png", PNG)
    message = int(_key(customer, "added:undo:").rsplit(":", 1)[1])
    await customer.send_file("other.png", PNG + b"1")
    other = int(_key(customer, "added:undo:").rsplit(":", 1)[1])
    await customer.send_file("same.png", PNG + b"1")  # the same content, stored once
    paths = [Path(f.stored_path) for f in await service.queries.attachments((await service.queries.get(1001)).id)]
    assert paths[1] == paths[2]
    await customer.press_any(f"added:undo:{message}")
    await customer.press_any(f"added:undo:{other}")
    assert not paths[0].exists() and paths[1].exists()  # the second is still named by same.png


async def _mark_sent(service: Services, *chats: str) -> None:
    """The relay sent the customer messages queued (to `chats`, or to every desk)."""
    async with service.db.write() as s:
        for row in (await s.execute(select(OutboxMessage).where(OutboxMessage.event == "customer_message"))).scalars():
            if not chats or row.chat_id in chats:
                row.status = "sent"


async def test_the_withdrawal_goes_only_to_the_desks_shown_the_message(customer: Customer,
                                                                       service: Services) -> None:
    service.news.desks = DeskRoutes(service.config, {"board": "C1", "telegram": "-100"})
    await open_ticket(customer)
    await customer.send_file("screen.png", PNG)
    message = int(_key(customer, "added:undo:").rsplit(":", 1)[1])
    await _mark_sent(service, "C1")
    await customer.press_any(f"added:undo:{message}")
    async with service.db.read() as s:
        rows = (await s.execute(select(OutboxMessage).where(OutboxMessage.event == "message_withdrawn"))).scalars()
        assert [(r.chat_id, r.params["excerpt"]) for r in rows] == [("C1", "screen.png")]
