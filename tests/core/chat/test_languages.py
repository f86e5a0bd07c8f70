"""Walk the whole form and every command in each language: no English reaches others."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from core.chat import Conversation, Reply
from core.chat.notices import render
from core.domain.config import LANGUAGES, HelpdeskConfig
from core.domain.model import Status, Who
from core.i18n import LOCALES_DIR, translator
from core.services import Services
from tests.core.chat.harness import Customer, open_ticket

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _english(config: HelpdeskConfig, lang: str) -> tuple[set[str], set[str]]:
    """Whole English strings (for labels) and English phrases of 3+ words (for any text)."""
    with (LOCALES_DIR / "messages.pot").open("rb") as fh:
        ids = [m.id for m in read_po(fh) if m.id]
    whole: set[str] = set()
    phrases: set[str] = set()
    for mid in ids:
        for text in (mid if isinstance(mid, tuple) else (mid,)):
            whole.add(text)
            for part in re.split(r"\{\w+\}|[.:;?!\n“”()]", text):
                part = part.strip(" ,•—-")
                if len(part.split()) >= 3:
                    phrases.add(part)
    for item in [*config.departments, *config.request_types, *config.priorities]:
        if item.name.en != item.name.get(lang):
            whole.add(item.name.en)
            if len(item.name.en.split()) >= 2:
                phrases.add(item.name.en)
    return whole, phrases


async def _walk(c: Customer, service: Services) -> list[Reply]:
    await c.say("/start")
    await c.press(f"lang:{c.language_code}")
    await c.press("dep:technical")
    await c.press("rt:bug")
    await c.say("   ")  # an error message
    await c.say("x" * 130)  # another
    await c.say("Přihlášení nefunguje")
    await c.press("pri:high")
    await c.press("nav:back")  # back
    await c.press("pri:high")
    await c.say("Popis problému")
    await c.send_file("screen.png", PNG)
    await c.send_file("tool.exe", b"MZ\x90\x00" + b"\x00" * 100)
    await c.press("att:done")
    await c.press("rev:edit:subject")
    await c.say("Přihlášení stále nefunguje")
    await c.press("rev:submit")
    await c.say("doplňující zpráva")
    await c.say("ještě jedna")
    number = await open_ticket(c, subject="Faktura", department="billing", request_type="consultation")
    await c.say("která z nich?")
    await c.press(f"pick:{number}")
    for command in ("/help", "/tickets", "/tickets open", "/tickets done", f"/ticket {number}", "/ticket",
                    "/ticket 999999", f"/reply {number}", "/cancel", "/cancel", "/language", "/nonsense",
                    "/confirm", f"/notsolved {number}"):
        await c.say(command)
    await c.press_any("rev:submit")  # stale
    await c.say("/new")
    await c.press("dep:sales")
    await c.say("/new")
    await c.press("resume:continue")
    await c.press("nav:cancel")
    await c.press_any(f"withdraw:{number}")
    await c.press("withdraw_no")
    agent = await service.desk.agent("slack", "UAGENT")
    await service.desk.change_status(1001, Status.RESOLVED, Who.agent(agent.id))
    await c.say("/ticket 1001")
    await c.press("dispute:1001")
    await c.say("nefunguje to")
    await service.desk.change_status(1001, Status.RESOLVED, Who.agent(agent.id))
    await c.press_any("confirm:1001")
    await c.press_any(f"withdraw:{number}")
    await c.press(f"withdraw_yes:{number}")
    t = translator(c.language_code or "en")
    for event, params in [
        ("status_changed", {"number": 1, "old": "new", "new": "accepted"}),
        ("status_changed", {"number": 1, "old": "accepted", "new": "waiting"}),
        ("status_changed", {"number": 1, "old": "waiting", "new": "resolved"}),
        ("agent_reply", {"number": 1, "body": "Dobrý den"}),
        ("escalated", {"number": 1, "tier": 2}),
        ("draft_expired", {"hours": 24}),
    ]:
        c.transcript.append(render(t, event, params))
    return c.transcript


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_every_screen_speaks_the_customers_language(
    lang: str, conversation: Conversation, service: Services, config: HelpdeskConfig
) -> None:
    c = Customer(conversation, user_id=f"walker-{lang}", language_code=lang)
    transcript = await _walk(c, service)
    assert len(transcript) > 60
    assert all(r.locale == lang for r in transcript)
    if lang == "en":
        return
    whole, phrases = _english(config, lang)
    leaks = []
    for reply in transcript:
        for label in [c.label.removesuffix(" ✓") for c in reply.flat_choices]:
            if label in whole:
                leaks.append(f"button {label!r}")
        for phrase in phrases:
            if phrase in reply.text:
                leaks.append(f"{phrase!r} in {reply.text[:80]!r}")
    assert leaks == []


def test_persian_rating_shows_persian_digits() -> None:
    ask = render(translator("fa"), "rating_request", {"number": 1001})
    assert [c.label for c in ask.flat_choices] == [f"{d} ★" for d in "۱۲۳۴۵"]
    assert "۱" in ask.text and "۵" in ask.text and not re.search(r"[0-9]", ask.text.replace("#1001", ""))
    assert [c.label for c in render(translator("en"), "rating_request", {"number": 1}).flat_choices][0] == "1 ★"
