"""`/help <words>` and "Was this helpful?" (core.chat.selfhelp): search in the customer's
language, open an article, one verdict per article shown, the optional comment."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from core.chat import Conversation
from core.chat import actions as act
from core.chat.selfservice_keys import slug_fits
from core.domain.config import HelpdeskConfig, Limits
from core.knowledge.articles import SLUG_MAX
from core.services import Services
from core.storage.db import Database
from core.storage.models import ArticleEvent
from tests.conftest import FakeClock
from tests.core.chat.harness import make_conversation
from tests.core.chat.test_deflection import customer_in, figures, to_subject
from tests.core.kb_samples import LONG_SLUG, sample_kb


@pytest.fixture
def kb_service(db: Database, config: HelpdeskConfig, clock: FakeClock) -> Services:
    return Services.build(db, config, clock, knowledge=sample_kb())


@pytest.fixture
def kb_conversation(kb_service: Services, config: HelpdeskConfig, tmp_path: Path) -> Conversation:
    relaxed = config.model_copy(update={"limits": Limits(messages_per_minute=10_000)})
    return make_conversation(kb_service, relaxed, tmp_path / "files")


async def events(service: Services) -> list[tuple[str, str | None, str, str, str]]:
    async with service.db.read() as session:
        rows = (await session.execute(select(ArticleEvent).order_by(ArticleEvent.id))).scalars().all()
    return [(e.kind, e.slug, e.locale, e.source, e.text) for e in rows]


async def test_help_with_words_finds_articles_and_one_verdict_counts(
        kb_conversation: Conversation, kb_service: Services, clock: FakeClock) -> None:
    c = await customer_in(kb_conversation, "en")
    await c.say("/help login")
    assert "These articles may help" in c.text
    assert {"kb:read:reset-password", "kb:read:login-errors", "new"} <= set(c.keys())
    assert f"kb:read:{LONG_SLUG}" not in c.keys()
    await c.press("kb:read:reset-password")
    assert "Reset your password" in c.text and c.text.endswith("Was this helpful?")
    assert c.keys() == ["kb:yes:en:reset-password", "kb:no:en:reset-password"]
    await c.press("kb:yes:en:reset-password")
    assert "glad it helped" in c.text
    await c.press_any("kb:yes:en:reset-password")
    assert "already told us" in c.text
    await c.press_any("kb:no:en:reset-password")
    assert "already told us" in c.text
    assert await events(kb_service) == [("shown", "reset-password", "en", "help", ""),
                                        ("helpful", "reset-password", "en", "help", "")]
    await c.say("/help password")  # shown again: a new verdict may be given
    await c.press("kb:read:reset-password")
    await c.press("kb:no:en:reset-password")
    assert "what was missing" in c.text and c.keys() == ["kb:nocomment"]
    await c.say("A screenshot of the settings page")
    assert "Thank you for your feedback" in c.text
    assert (await events(kb_service))[-1] == ("not_helpful", "reset-password", "en", "help",
                                              "A screenshot of the settings page")
    found = await figures(kb_service, clock)
    assert found.per_article["reset-password"] == {"shown": 2, "helpful": 1, "not_helpful": 1}


async def test_no_comment_leaves_the_verdict_and_gives_back_the_form(
        kb_conversation: Conversation, kb_service: Services) -> None:
    c = await customer_in(kb_conversation, "en")
    await to_subject(c, "Printer")  # in the middle of the form
    await c.say("/help login")
    await c.press("kb:read:login-errors")
    await c.press("kb:no:en:login-errors")
    await c.press("kb:nocomment")
    assert "Thank you!" in c.text
    assert any(k.startswith("pri:") for k in c.keys())  # the form asks where it was
    assert (await events(kb_service))[-1][:2] == ("not_helpful", "login-errors")


async def test_help_that_finds_nothing_offers_a_ticket_and_is_kept(
        kb_conversation: Conversation, kb_service: Services, clock: FakeClock) -> None:
    c = await customer_in(kb_conversation, "en")
    await c.say("/help Printer jams")
    assert "I found no article about “Printer jams”" in c.text
    assert c.keys() == ["new"]
    await c.press("new")
    assert any(k.startswith("dep:") for k in c.keys())
    assert (await figures(kb_service, clock)).unanswered == [("printer jams", 1)]
    assert (await events(kb_service))[0][3] == "help"


async def test_help_alone_is_the_help_with_a_line_about_searching(kb_conversation: Conversation) -> None:
    c = await customer_in(kb_conversation, "en")
    await c.say("/help")
    assert "Commands:" in c.text and "/help password" in c.text


@pytest.mark.parametrize(("language", "words", "title"), [
    ("fa", "رمز عبور", "بازیابی رمز عبور"),
    ("cs", "heslo", "Obnovení hesla"),
])
async def test_help_in_persian_and_czech(kb_conversation: Conversation, kb_service: Services,
                                         language: str, words: str, title: str) -> None:
    c = await customer_in(kb_conversation, language)
    await c.say(f"/help {words}")
    assert title in c.text and "kb:read:reset-password" in c.keys()
    await c.press("kb:read:reset-password")
    assert c.keys() == [f"kb:yes:{language}:reset-password", f"kb:no:{language}:reset-password"]
    await c.press(f"kb:yes:{language}:reset-password")
    assert (await events(kb_service))[-1] == ("helpful", "reset-password", language, "help", "")


def test_article_keys_round_trip_and_fit_a_button() -> None:
    longest = "z" * SLUG_MAX
    for action in (act.ArticleOpen(longest), act.ArticleOpen(longest, offered=False), act.ArticleSolved(longest),
                   act.ArticleHelpful("pt", longest, True), act.ArticleHelpful("fa", longest, False),
                   act.ArticleContinue(), act.ArticleNoComment()):
        key = action.encode()
        assert act.decode(key) == action and len(key.encode()) <= act.KEY_MAX_BYTES
    assert slug_fits(longest) and not slug_fits(longest + "z")
    for forged in ("kb:open:" + "z" * 41, "kb:open:Slug", "kb:read:", "kb:yes:fa", "kb:yes:f1:x", "kb:what:x",
                   "kb:solved:a/b", "kb:open:رمز"):
        assert act.decode(forged) is None, forged


async def test_a_forged_or_gone_article_is_not_shown(kb_conversation: Conversation, kb_service: Services) -> None:
    c = await customer_in(kb_conversation, "en")
    await c.press_any("kb:read:no-such-article")
    assert "no longer available" in c.text
    await c.press_any("kb:open:reset-password")  # the form's key, outside the form
    assert "no longer active" in c.text
    await c.press_any("kb:solved:reset-password")
    assert "no longer active" in c.text
    await c.press_any("kb:yes:en:reset-password")  # a verdict on an article never shown to them
    assert "no longer active" in c.text
    assert await events(kb_service) == []
