"""A deployment offering some languages: the picker, the first greeting, one language alone."""

from __future__ import annotations

from pathlib import Path

from core.chat import Conversation
from core.domain.config import HelpdeskConfig, Limits, load_config
from core.i18n import translator
from core.services import Services
from core.storage.db import Database
from tests.conftest import FakeClock
from tests.core.chat.harness import Customer, make_conversation
from tests.core.test_offered_languages import only

WELCOME = "Hello! This is the support desk. We will open a ticket for your request and keep you informed here."


def welcome(lang: str) -> str:
    return translator(lang)._(WELCOME)


def offering(languages: list[str], db: Database, clock: FakeClock, tmp_path: Path) -> Conversation:
    path = tmp_path / "helpdesk.toml"
    path.write_text(only(languages), encoding="utf-8")
    config = load_config(path).model_copy(update={"limits": Limits(messages_per_minute=10_000)})
    return make_conversation(Services.build(db, config, clock), config, tmp_path / "files")


def languages_offered(c: Customer) -> list[str]:
    return [k.removeprefix("lang:") for k in c.keys() if k.startswith("lang:")]


async def test_the_picker_shows_exactly_the_offered_languages(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    conversation = offering(["fa", "cs"], db, clock, tmp_path)
    c = Customer(conversation, language_code="ru")  # not offered: the default language speaks
    await c.say("/start")
    assert [r.text for r in c.last] == [welcome("fa"), translator("fa")._("Please choose your language.")]
    assert languages_offered(c) == ["fa", "cs"]
    await c.press("lang:cs")
    assert c.last[0].text == welcome("cs")  # greeted again in the chosen language, then the form
    assert any(k.startswith("dep:") for k in c.keys())
    await c.say("/language")
    assert languages_offered(c) == ["cs", "fa"]
    await c.press_any("lang:ru")  # a forged or old button for a language no longer offered
    assert c.last[0].text == translator("cs")._("This button is no longer active.")
    assert "/language" in (await c.say("/help"))[0].text


async def test_the_first_greeting_speaks_the_platforms_language(conversation: Conversation) -> None:
    c = Customer(conversation, user_id="pt", language_code="pt-BR")
    await c.say("Minha fatura está errada")
    assert c.last[0].text == welcome("pt") and c.last[0].locale == "pt"
    assert languages_offered(c)[0] == "pt" and len(languages_offered(c)) == 5
    await c.press("lang:cs")
    assert c.last[0].text == welcome("cs")
    assert all(r.locale == "cs" for r in c.last)
    same = Customer(conversation, user_id="cs", language_code="cs")
    await same.say("/start")
    await same.press("lang:cs")  # greeted in it already: not twice
    assert welcome("cs") not in [r.text for r in same.last]
    assert any(k.startswith("dep:") for k in same.keys())


async def test_a_greeting_without_a_platform_language_is_in_the_default(
        db: Database, clock: FakeClock, tmp_path: Path) -> None:
    c = Customer(offering(["cs", "fa"], db, clock, tmp_path), language_code=None)
    await c.say("/start")
    assert c.last[0].text == welcome("cs") and languages_offered(c) == ["cs", "fa"]


async def test_one_language_offered_is_never_asked(db: Database, clock: FakeClock, tmp_path: Path) -> None:
    conversation = offering(["cs"], db, clock, tmp_path)
    c = Customer(conversation, language_code="en")
    await c.say("Nemohu se přihlásit")
    assert c.last[0].text == welcome("cs")
    assert not languages_offered(c) and any(k.startswith("dep:") for k in c.keys())
    await c.press("nav:cancel")
    help_text = (await c.say("/help"))[0].text
    assert "/language" not in help_text and "/tickets" in help_text
    await c.say("/language")
    assert c.last[0].text == translator("cs")._("I do not know that command.") and not languages_offered(c)
    stored = await conversation.services.customers.customer("telegram", "u1", "chat-u1")
    assert stored.locale == "cs"


async def test_a_stored_language_no_longer_offered_falls_back_to_the_default(
        db: Database, clock: FakeClock, tmp_path: Path, config: HelpdeskConfig) -> None:
    before = make_conversation(Services.build(db, config, clock), config, tmp_path / "files")
    c = Customer(before, language_code="ru")
    await c.say("/start")
    await c.press("lang:ru")
    c.conversation = offering(["fa", "cs"], db, clock, tmp_path)
    await c.say("/tickets")
    assert c.last[0].text == translator("fa")._("You have no tickets here yet.") and c.last[0].locale == "fa"
