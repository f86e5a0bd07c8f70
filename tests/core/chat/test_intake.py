"""The ticket form step by step: language, every step, back, cancel, review, restart."""

from __future__ import annotations

from pathlib import Path

from core.chat import Conversation
from core.domain.config import HelpdeskConfig
from core.domain.model import Status
from core.services import Services
from tests.conftest import FakeClock
from tests.core.chat.harness import Customer, make_conversation, open_ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_first_contact_offers_languages_preselected(conversation: Conversation) -> None:
    c = Customer(conversation, language_code="fa-IR")
    await c.say("/start")
    assert c.keys()[0] == "lang:fa"  # the platform's language first
    assert "پشتیبانی" in c.text  # and the greeting already in it
    await c.press("lang:cs")
    assert "Tipy" in c.last[0].text or "tiket" in c.text.lower()
    assert all(k.startswith("dep:") or k == "nav:cancel" for k in c.keys())


async def test_first_message_becomes_the_description(conversation: Conversation, service: Services) -> None:
    c = Customer(conversation)
    await c.say("My invoice is wrong")
    await c.press("lang:en")
    await c.press("dep:billing")
    await c.press("rt:consultation")
    await c.say("Invoice 2026-11")
    await c.press("pri:normal")
    assert any(k == "att:done" for k in c.keys())  # the description step was skipped
    await c.press("att:done")
    assert "My invoice is wrong" in c.text
    await c.press("rev:submit")
    assert "#1001" in c.text


async def test_full_intake_gives_number_and_due_time(customer: Customer, service: Services) -> None:
    number = await open_ticket(customer)
    assert number == 1001
    assert "#1001" in customer.text and "in this chat" in customer.text
    assert "Expected first response by" in customer.text and "(UTC)" in customer.text  # English: [timezones] en
    ticket = await service.queries.get(number)
    assert (ticket.department, ticket.request_type, ticket.priority, ticket.status) == (
        "technical", "bug", "high", Status.NEW)
    assert await conversation_draft(customer) is None


async def conversation_draft(c: Customer):
    customer = await c.conversation.services.customers.customer(c.platform, c.user_id, f"chat-{c.user_id}")
    return await c.conversation.drafts.get(customer.id)


async def test_critical_bug_skips_priority_and_is_urgent(customer: Customer, service: Services) -> None:
    number = await open_ticket(customer, request_type="bug_critical", priority=None)
    assert (await service.queries.get(number)).priority == "urgent"


async def test_change_request_defaults_to_low(customer: Customer) -> None:
    await customer.say("/new")
    await customer.press("dep:technical")
    await customer.press("rt:change")
    await customer.say("New export format")
    assert "pri:low" in customer.keys()
    low = next(c for r in customer.last for c in r.flat_choices if c.key == "pri:low")
    assert low.label.endswith("✓")


async def test_back_at_every_step(customer: Customer) -> None:
    await customer.say("/new")
    await customer.press("dep:sales")
    await customer.press("rt:consultation")
    await customer.say("Prices")
    await customer.press("pri:normal")
    await customer.say("What does the premium plan cost?")
    assert "att:done" in customer.keys()
    await customer.press("nav:back")
    assert "Describe the problem" in customer.text
    await customer.press("nav:back")
    assert "pri:normal" in customer.keys()
    await customer.press("nav:back")
    assert "short subject" in customer.text
    await customer.press("nav:back")
    assert "rt:change" in customer.keys()
    await customer.press("nav:back")
    assert "dep:sales" in customer.keys()
    assert "nav:back" not in customer.keys()  # the first step has only Cancel


async def test_cancel_discards_everything(customer: Customer, service: Services) -> None:
    await customer.say("/new")
    await customer.press("dep:sales")
    await customer.press("nav:cancel")
    assert "Nothing was sent" in customer.text
    assert await conversation_draft(customer) is None
    await customer.say("/cancel")
    assert "nothing to cancel" in customer.text


async def test_review_edits_a_field_and_returns(customer: Customer, service: Services) -> None:
    await customer.say("/new")
    await customer.press("dep:technical")
    await customer.press("rt:bug")
    await customer.say("Typo")
    await customer.press("pri:low")
    await customer.say("Typo on the pricing page")
    await customer.press("att:done")
    await customer.press("rev:edit:subject")
    await customer.say("Typo on pricing page")
    assert "rev:submit" in customer.keys() and "Subject: Typo on pricing page" in customer.text
    await customer.press("rev:edit:request_type")
    await customer.press("rt:bug_critical")
    assert "Urgent" in customer.text  # a critical bug forces urgent
    assert "rev:edit:priority" not in customer.keys()
    await customer.press("rev:submit")
    assert (await service.queries.get(1001)).priority == "urgent"


async def test_typed_label_or_number_works_as_a_button(customer: Customer) -> None:
    await customer.say("/new")
    await customer.say("billing")
    assert "rt:change" in customer.keys()
    await customer.say("2")
    assert "short subject" in customer.text
    await customer.say("/back")
    await customer.say("something else")
    assert "choose one of the options" in customer.text


async def test_restart_mid_intake_keeps_the_form(
    service: Services, config: HelpdeskConfig, tmp_path: Path, customer: Customer
) -> None:
    await customer.say("/new")
    await customer.press("dep:billing")
    await customer.press("rt:consultation")
    await customer.say("Double charge")
    # A new process on the same database: nothing in memory survives.
    fresh = Customer(make_conversation(Services.build(service.db, config, service.clock), config,
                                       tmp_path / "files"))
    await fresh.say("/start")
    assert "resume:continue" in fresh.keys()
    await fresh.press("resume:continue")
    assert "pri:normal" in fresh.keys()
    await fresh.press("pri:high")
    await fresh.say("Charged twice on 2026-11-20")
    await fresh.press("att:done")
    assert "Double charge" in fresh.text and "Billing" in fresh.text
    await fresh.press("rev:submit")
    assert "#1001" in fresh.text


async def test_new_while_form_open_asks(customer: Customer) -> None:
    await customer.say("/new")
    await customer.press("dep:billing")
    await customer.say("/new")
    assert customer.keys() == ["resume:continue", "resume:restart"]
    await customer.press("resume:restart")
    assert "dep:billing" in customer.keys()


async def test_stale_form_expires_with_a_message(customer: Customer, clock: FakeClock) -> None:
    await customer.say("/new")
    await customer.press("dep:billing")
    clock.advance(hours=25)
    await customer.press_any("rt:bug")
    assert "discarded after 24 hours" in customer.text
    assert "no longer active" in customer.text


async def test_sweep_expires_forms_and_notifies(customer: Customer, clock: FakeClock,
                                                service: Services) -> None:
    from sqlalchemy import select

    from core.storage.models import OutboxMessage

    await customer.say("/new")
    await customer.press("dep:billing")
    assert await customer.conversation.expire_drafts() == 0
    clock.advance(hours=25)
    assert await customer.conversation.expire_drafts() == 1
    assert await conversation_draft(customer) is None
    async with service.db.read() as s:
        events = [o.event for o in (await s.execute(select(OutboxMessage))).scalars()]
    assert events == ["draft_expired"]


async def test_attachments_in_the_form(customer: Customer, service: Services) -> None:
    await customer.say("/new")
    await customer.press("dep:technical")
    await customer.press("rt:bug")
    await customer.say("Broken chart")
    await customer.press("pri:normal")
    await customer.say("The chart on the dashboard is empty.")
    await customer.send_file("../../etc/screen shot.png", PNG)
    assert "Received “screen shot.png”. 1 file attached." in customer.text
    await customer.send_file("notes.log", b"2026-11-20 ERROR timeout\n")
    assert "2 files attached" in customer.text
    await customer.press("att:done")
    assert "screen shot.png, notes.log" in customer.text
    await customer.press("rev:submit")
    stored = await service.queries.attachments((await service.queries.get(1001)).id)
    assert [(a.filename, a.mime_type) for a in stored] == [
        ("screen shot.png", "image/png"), ("notes.log", "text/plain")]
    assert all(Path(a.stored_path).is_file() for a in stored)


async def test_send_pressed_twice_confirms_the_same_ticket(customer: Customer, service: Services) -> None:
    number = await open_ticket(customer)
    first = customer.text
    await customer.press_any("rev:submit")  # a double tap, or a redelivery after a crash
    assert customer.text == first and f"#{number}" in customer.text
    from sqlalchemy import func, select

    from core.storage.models import Ticket

    async with service.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(Ticket))).scalar_one() == 1


async def test_each_file_is_counted_once(customer: Customer) -> None:
    await customer.say("/new")
    await customer.press("dep:technical")
    await customer.press("rt:bug")
    await customer.say("Broken chart")
    await customer.press("pri:normal")
    await customer.say("The chart on the dashboard is empty.")
    for count, name in enumerate(["a.png", "b.log"], 1):
        await customer.send_file(name, PNG if name.endswith("png") else b"ERROR\n")
        [answer] = customer.last
        assert answer.text.count("attached") == 1 and f"{count} file" in answer.text
        assert answer.text.count(name) == 1 and "att:done" in customer.keys()


async def test_a_department_offers_only_its_request_types(customer: Customer) -> None:
    await customer.say("/new")
    await customer.press("dep:billing")
    assert [k for k in customer.keys() if k.startswith("rt:")] == ["rt:consultation", "rt:change"]
    await customer.press_any("rt:bug_critical")  # an old button, or a forged one
    assert "rt:consultation" in customer.keys() and "short subject" not in customer.text


async def test_a_department_with_one_request_type_does_not_ask(customer: Customer, service: Services) -> None:
    await customer.say("/new")
    await customer.press("dep:feedback")
    assert "short subject" in customer.text
    await customer.press("nav:back")
    assert "dep:feedback" in customer.keys()  # Back passes over the type nobody chose
    await customer.press("dep:feedback")
    await customer.say("Darker theme, please")
    await customer.press("pri:low")
    await customer.say("The white screen is hard on the eyes at night.")
    await customer.press("att:done")
    assert "Feedback or suggestion" in customer.text and "rev:edit:request_type" not in customer.keys()
    await customer.press("rev:submit")
    assert (await service.queries.get(1001)).request_type == "feedback"


async def test_a_new_department_asks_again_for_a_type_it_does_not_offer(
        customer: Customer, service: Services) -> None:
    await customer.say("/new")
    await customer.press("dep:technical")
    await customer.press("rt:bug_critical")
    await customer.say("Invoices page is down")
    await customer.say("Nobody can open an invoice.")
    await customer.press("att:done")
    assert "Urgent" in customer.text
    await customer.press("rev:edit:department")
    await customer.press("dep:billing")
    assert [k for k in customer.keys() if k.startswith("rt:")] == ["rt:consultation", "rt:change"]
    await customer.press("rt:consultation")
    assert "rev:submit" in customer.keys()  # back to the review, the rest kept
    assert "Consultation" in customer.text and "Urgent" not in customer.text and "Normal" in customer.text
    await customer.press("rev:submit")
    ticket = await service.queries.get(1001)
    assert (ticket.department, ticket.request_type, ticket.priority) == ("billing", "consultation", "normal")


async def test_a_new_department_keeps_a_type_it_offers(customer: Customer) -> None:
    await customer.say("/new")
    await customer.press("dep:technical")
    await customer.press("rt:change")
    await customer.say("Export to CSV")
    await customer.press("pri:normal")
    await customer.say("Please add an export.")
    await customer.press("att:done")
    await customer.press("rev:edit:department")
    await customer.press("dep:sales")
    assert "rev:submit" in customer.keys() and "Change request" in customer.text


async def test_a_kept_form_whose_type_the_department_no_longer_offers_asks_for_it(
        service: Services, config: HelpdeskConfig, tmp_path: Path, customer: Customer) -> None:
    await customer.say("/new")
    await customer.press("dep:technical")
    await customer.press("rt:consultation")
    await customer.say("How to export?")
    await customer.press("pri:normal")
    await customer.say("Where is the export button?")
    await customer.press("att:done")
    assert "rev:submit" in customer.keys()
    # The operator narrows technical support's types and restarts; the form waits at its review.
    narrowed = config.model_copy(update={"departments": [
        d.model_copy(update={"request_types": ["bug", "change"]}) if d.code == "technical" else d
        for d in config.departments]})
    fresh = Customer(make_conversation(Services.build(service.db, narrowed, service.clock), narrowed,
                                       tmp_path / "files"), user_id=customer.user_id)
    await fresh.press_any("rev:submit")
    assert [k for k in fresh.keys() if k.startswith("rt:")] == ["rt:bug", "rt:change"]
    await fresh.press("rt:change")
    await fresh.press("rev:submit")
    assert (await service.queries.get(1001)).request_type == "change"
