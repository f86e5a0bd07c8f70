"""The form's offer of articles (core.chat.deflection): after the subject and after the
description, in the customer's language; "This solved it" ends the form without a ticket;
Continue, Back, Cancel and the review's edit; what is recorded for the report."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.chat import Conversation
from core.domain.config import HelpdeskConfig, Limits
from core.services import Services
from core.services.articles import ArticleFigures
from core.storage.db import Database
from core.storage.models import OutboxMessage, Ticket
from tests.conftest import FakeClock
from tests.core.chat.harness import Customer, make_conversation
from tests.core.kb_samples import LONG_SLUG, sample_kb


@pytest.fixture
def kb_service(db: Database, config: HelpdeskConfig, clock: FakeClock) -> Services:
    return Services.build(db, config, clock, knowledge=sample_kb())


@pytest.fixture
def kb_conversation(kb_service: Services, config: HelpdeskConfig, tmp_path: Path) -> Conversation:
    relaxed = config.model_copy(update={"limits": Limits(messages_per_minute=10_000)})
    return make_conversation(kb_service, relaxed, tmp_path / "files")


async def customer_in(conversation: Conversation, language: str, user: str = "u1") -> Customer:
    c = Customer(conversation, user_id=user, language_code=language)
    await c.say("/start")
    await c.press(f"lang:{language}")
    await c.press("nav:cancel")
    return c


async def to_subject(c: Customer, subject: str, department: str = "technical") -> None:
    await c.say("/new")
    await c.press(f"dep:{department}")
    if any(k.startswith("rt:") for k in c.keys()):
        await c.press("rt:bug" if department == "technical" else "rt:consultation")
    await c.say(subject)


async def figures(service: Services, clock: FakeClock) -> ArticleFigures:
    return await service.articles.figures(clock() - timedelta(days=1), clock() + timedelta(days=1))


async def count(service: Services, model: type) -> int:
    async with service.db.read() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def draft_of(c: Customer):  # type: ignore[no-untyped-def]
    customer = await c.conversation.services.customers.customer(c.platform, c.user_id, f"chat-{c.user_id}")
    return await c.conversation.drafts.get(customer.id)


async def test_the_subject_offers_articles_and_this_solved_it_ends_without_a_ticket(
        kb_conversation: Conversation, kb_service: Services, clock: FakeClock) -> None:
    c = await customer_in(kb_conversation, "en")
    await to_subject(c, "Login fails")
    assert "These articles may already answer your question" in c.text
    assert "Reset your password" in c.text and "Login errors explained" in c.text
    keys = c.keys()
    assert {"kb:open:reset-password", "kb:open:login-errors", "kb:continue", "nav:back", "nav:cancel"} <= set(keys)
    assert f"kb:open:{LONG_SLUG}" not in keys  # a slug no button can carry is not offered
    assert not any(k.startswith("kb:open:invoice") for k in keys)  # another department's
    await c.press("kb:open:reset-password")
    assert "Open Settings and choose Forgot password (https://example.com/reset)" in c.text  # Markdown made plain
    assert "**" not in c.text
    assert {"kb:solved:reset-password", "kb:continue"} <= set(c.keys())
    await c.press("kb:solved:reset-password")
    assert "No ticket was opened" in c.text and c.keys() == []
    assert await draft_of(c) is None
    assert await count(kb_service, Ticket) == 0 and await count(kb_service, OutboxMessage) == 0  # nothing for agents
    found = await figures(kb_service, clock)
    assert (found.deflections, found.shown) == (1, 1)
    assert found.per_article["reset-password"] == {"shown": 1, "deflected": 1}


async def test_continue_goes_on_and_the_description_offers_only_new_articles(
        kb_conversation: Conversation, kb_service: Services, clock: FakeClock) -> None:
    c = await customer_in(kb_conversation, "en")
    await to_subject(c, "Login fails")
    await c.press("kb:open:login-errors")
    await c.press("nav:back")
    await c.press("kb:open:login-errors")  # opened twice, counted once
    await c.press("kb:continue")
    assert any(k.startswith("pri:") for k in c.keys())  # on with the form where it was
    await c.press("pri:high")
    await c.say("The login page answers 500 since this morning")
    offered = [k for k in c.keys() if k.startswith("kb:open:")]
    assert offered == ["kb:open:server-error"]  # the subject's articles are not offered again
    await c.press("kb:continue")
    await c.press("att:done")
    await c.press("rev:submit")
    assert "#1001" in c.text
    found = await figures(kb_service, clock)
    assert (found.deflections, found.shown) == (0, 1)  # opened once, counted once


async def test_back_and_cancel_in_the_offer(kb_conversation: Conversation) -> None:
    c = await customer_in(kb_conversation, "en")
    await to_subject(c, "Login fails")
    await c.press("kb:open:reset-password")
    await c.press("nav:back")
    assert "These articles may already answer your question" in c.text  # from the article to the list
    await c.press("nav:back")
    assert "short subject" in c.text  # the subject asked again
    await c.say("Login fails")
    assert any(k.startswith("pri:") for k in c.keys())  # the same articles are not offered twice
    await c.press("nav:back")
    await c.say("Login error after the update")
    await c.press("nav:cancel")
    assert "Cancelled" in c.text and await draft_of(c) is None


async def test_a_typed_number_opens_an_offered_article(kb_conversation: Conversation) -> None:
    c = await customer_in(kb_conversation, "en")
    await to_subject(c, "Login fails")
    await c.say("1")
    assert "kb:solved:" + c.keys()[0].split(":")[-1] == c.keys()[0]


async def test_editing_the_subject_at_the_review_does_not_loop_the_offer(kb_conversation: Conversation) -> None:
    c = await customer_in(kb_conversation, "en")
    await to_subject(c, "Login fails")
    await c.press("kb:continue")
    await c.press("pri:high")
    await c.say("Nope")
    await c.press("att:done")
    await c.press("rev:edit:subject")
    await c.say("Login fails again")
    assert "rev:submit" in c.keys()  # straight back to the review
    await c.press("rev:edit:subject")
    await c.say("Server error 500 at login")
    assert c.keys()[0] == "kb:open:server-error"  # a new article, offered once
    await c.press("kb:continue")
    assert "rev:submit" in c.keys()  # and back to the review, not around the form


async def test_a_question_that_finds_nothing_is_kept_for_the_report(
        kb_conversation: Conversation, kb_service: Services, clock: FakeClock) -> None:
    c = await customer_in(kb_conversation, "en")
    await to_subject(c, "Printer jams!")
    assert any(k.startswith("pri:") for k in c.keys())  # nothing offered
    await c.press("nav:back")
    await c.say("printer   JAMS")
    found = await figures(kb_service, clock)
    assert found.unanswered == [("printer jams", 2)]


async def test_no_articles_in_the_customers_language_offer_nothing(
        kb_conversation: Conversation, kb_service: Services, clock: FakeClock) -> None:
    c = await customer_in(kb_conversation, "ru")
    await to_subject(c, "Login")
    assert any(k.startswith("pri:") for k in c.keys())
    assert (await figures(kb_service, clock)).empty  # not a question the articles failed


@pytest.mark.parametrize(("language", "subject", "title", "text"), [
    ("fa", "فراموشی رمز عبور", "بازیابی رمز عبور", "در تنظیمات گزینهٔ «فراموشی رمز عبور»"),
    ("cs", "Zapomenuté heslo", "Obnovení hesla", "Zvolte v Nastavení Zapomenuté heslo"),
])
async def test_the_offer_in_persian_and_czech(kb_conversation: Conversation, kb_service: Services, clock: FakeClock,
                                              language: str, subject: str, title: str, text: str) -> None:
    c = await customer_in(kb_conversation, language)
    await to_subject(c, subject)
    assert title in c.text
    assert [k for k in c.keys() if k.startswith("kb:open:")] == ["kb:open:reset-password"]
    await c.press("kb:open:reset-password")
    assert text in c.text
    await c.press("kb:solved:reset-password")
    assert await draft_of(c) is None and await count(kb_service, Ticket) == 0
    assert (await figures(kb_service, clock)).deflections == 1


async def test_the_duplicate_question_comes_first_then_the_articles(
        kb_conversation: Conversation, kb_service: Services) -> None:
    c = await customer_in(kb_conversation, "en")
    await to_subject(c, "Login fails")
    await c.press("kb:continue")
    await c.press("pri:high")
    await c.say("Nope")
    await c.press("att:done")
    await c.press("rev:submit")
    await to_subject(c, "Login fails")
    assert any(k.startswith("dup:add:") for k in c.keys())
    await c.press("dup:new")
    assert "kb:open:reset-password" in c.keys()  # a new form: offered again
