"""Agents and the knowledge base (core.agents.articles): `kb` searches in the ticket's customer's
language, `kb send` puts the article into the ticket's conversation and notifies the customer
in their language (or says honestly it is in another), counted as shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core.agents import AgentDesk, Done, Refused, Result, as_text, parse
from core.agents.actions import ArticleSearch, SendArticle, decode, encode
from core.agents.results import ArticleList
from core.chat.notices import render
from core.delivery.attachments import AttachmentStore
from core.domain.config import HelpdeskConfig, Limits
from core.domain.model import MessageKind
from core.i18n import translator
from core.services import Services
from core.storage.db import Database
from core.storage.models import ArticleEvent, OutboxMessage, Ticket
from tests.conftest import FakeClock
from tests.core.agents.test_interpreter import DARIUSH, EVA, JANA, People
from tests.core.chat.harness import Customer, make_conversation
from tests.core.kb_samples import sample_kb


@pytest.fixture
def kb_service(db: Database, config: HelpdeskConfig, clock: FakeClock) -> Services:
    return Services.build(db, config, clock, knowledge=sample_kb())


@pytest.fixture
def agents(kb_service: Services, tmp_path: Path) -> AgentDesk:
    return AgentDesk(kb_service, AttachmentStore(tmp_path / "files"))


async def ticket_of(service: Services, locale: str, user: str = "100") -> Ticket:
    customer = await service.customers.customer("telegram", user, user, "Ali", locale)
    await service.customers.set_locale(customer.id, locale)
    return await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                             subject="Login fails", description="The login page says 500.")


async def run(agents: AgentDesk, line: str, who=EVA) -> Result:  # type: ignore[no-untyped-def]
    return await agents.run(who, parse(line), People(), prefix="/agent ")


def test_kb_commands_parse_and_the_send_key_round_trips() -> None:
    assert parse("kb password reset") == ArticleSearch("password reset")
    assert parse("kb 1042 password") == ArticleSearch("password", 1042)
    assert parse("kb send #1042 Reset-Password") == SendArticle(1042, "reset-password")
    key = encode(SendArticle(1042, "z" * 40))
    assert decode(key) == SendArticle(1042, "z" * 40) and len(key.encode()) <= 64
    assert decode("ag:kbsend:1042") is None


async def test_kb_searches_in_the_tickets_customers_language(agents: AgentDesk, kb_service: Services) -> None:
    ticket = await ticket_of(kb_service, "fa")
    found = await run(agents, f"kb {ticket.number} رمز عبور")
    assert isinstance(found, ArticleList) and found.number == ticket.number
    assert [r.slug for r in found.rows] == ["reset-password"] and found.rows[0].title == "بازیابی رمز عبور"
    assert f"/agent kb send {ticket.number} reset-password" in as_text(found)
    mine = await run(agents, "kb heslo", JANA)  # no ticket: the agent's own language
    assert isinstance(mine, ArticleList) and mine.number is None and mine.rows[0].title == "Obnovení hesla"
    nothing = await run(agents, f"kb {ticket.number} printer")
    assert isinstance(nothing, ArticleList) and as_text(nothing) == nothing.empty and "فارسی" in nothing.empty


@pytest.mark.parametrize("who", [EVA, JANA, DARIUSH])
async def test_incomplete_kb_commands_are_explained(agents: AgentDesk, who) -> None:  # type: ignore[no-untyped-def]
    for line in ("kb", "kb 1042", "kb send", "kb send 1042", "kb send x y"):
        result = await run(agents, line, who)
        assert isinstance(result, Refused) and result.text, line


async def test_kb_send_reaches_the_thread_and_the_customer_in_persian(
        agents: AgentDesk, kb_service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    ticket = await ticket_of(kb_service, "fa")
    result = await run(agents, f"kb send {ticket.number} reset-password")
    assert isinstance(result, Done) and "Reset your password" not in result.text
    thread = await kb_service.queries.thread(ticket.id, internal=True)
    assert thread[-1].kind == MessageKind.AGENT and thread[-1].body.startswith("بازیابی رمز عبور")
    async with kb_service.db.read() as session:
        row = (await session.execute(select(OutboxMessage).where(OutboxMessage.event == "article"))).scalar_one()
        shown = (await session.execute(select(ArticleEvent))).scalar_one()
    assert (shown.kind, shown.slug, shown.locale, shown.source, shown.ticket_id) == (
        "shown", "reset-password", "fa", "agent", ticket.id)
    reply = render(translator("fa"), row.event, row.params)
    assert "بازیابی رمز عبور" in reply.text and "تنظیمات" in reply.text and "**" not in reply.text
    assert [c.key for c in reply.flat_choices] == ["kb:yes:fa:reset-password", "kb:no:fa:reset-password"]
    assert reply.ticket == ticket.number
    # The customer's verdict is counted once, as an answer to the article the agent sent.
    relaxed = config.model_copy(update={"limits": Limits(messages_per_minute=10_000)})
    customer = Customer(make_conversation(kb_service, relaxed, tmp_path / "f"), user_id="100", language_code="fa")
    await customer.press_any("kb:no:fa:reset-password")
    await customer.say("تصویر بیشتری لازم است")
    async with kb_service.db.read() as session:
        verdict = (await session.execute(select(ArticleEvent).order_by(ArticleEvent.id.desc()).limit(1))).scalar_one()
    assert (verdict.kind, verdict.source, verdict.text) == ("not_helpful", "agent", "تصویر بیشتری لازم است")


async def test_kb_send_falls_back_to_the_first_language_and_says_so(
        agents: AgentDesk, kb_service: Services) -> None:
    ticket = await ticket_of(kb_service, "ru")
    await run(agents, f"kb send {ticket.number} login-errors")
    async with kb_service.db.read() as session:
        row = (await session.execute(select(OutboxMessage).where(OutboxMessage.event == "article"))).scalar_one()
    assert row.params["locale"] == kb_service.config.languages[0] and row.params["fallback"] is True
    reply = render(translator("en"), row.event, row.params)
    assert "not available in your language yet" in reply.text and "Login errors explained" in reply.text
    assert reply.flat_choices[0].key == f"kb:yes:{row.params['locale']}:login-errors"


async def test_kb_send_of_an_unknown_article_or_ticket_is_refused(agents: AgentDesk, kb_service: Services) -> None:
    ticket = await ticket_of(kb_service, "cs")
    assert isinstance(await run(agents, f"kb send {ticket.number} no-such"), Refused)
    assert isinstance(await run(agents, "kb send 9999 reset-password"), Refused)
    async with kb_service.db.read() as session:
        assert (await session.execute(select(ArticleEvent))).first() is None
