"""Proving an address end to end: the code goes out by the e-mail channel's SMTP (a real SMTP
server), is read from the mail received, typed in Telegram, and links the identities: the
tickets Jana opened by mail are then listed in her Telegram chat."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from sqlalchemy import select

from core.delivery.outbox import SECRET_REPLY
from core.storage.models import Customer, OutboxMessage
from tests.adapters.email.world import MailWorld, mail, text_of
from tests.adapters.telegram.conftest import TgUser

JANA = "jana@firma.cz"
# The messaging libraries log every update and request at DEBUG, what customers type among it
# (a code typed in the chat too, used up by then); at INFO and above they do not.
MESSAGE_LOGGERS = ("telegram", "slack_sdk", "slack_bolt", "aioimaplib")


async def test_the_code_arrives_by_smtp_and_links_the_mail_tickets_to_the_telegram_chat(
        world: MailWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in MESSAGE_LOGGERS:  # their DEBUG lines carry what customers type (an operator's choice)
        caplog.set_level(logging.INFO, logger=name)
    services = world.app.services
    await services.organisations.create("Firma", "everybody")
    await services.organisations.add_domain("Firma", "firma.cz")
    await world.arrive(mail(JANA, "Faktura za listopad", "Faktura má špatnou částku.", name="Jana Nováková"))
    [ack] = await world.answers(JANA, 1)
    assert "[#1001]" in str(ack["Subject"])

    u = TgUser(world.desk.running, 801, "cs")
    await u.say("/start")
    await u.press("lang:cs")
    await u.press("nav:cancel")
    before = await u.say("/tickets")
    assert "#1001" not in before[-1]["text"]
    asked = await u.say(f"/organisation {JANA}")
    assert JANA in asked[-1]["text"] and "org:code" in u.buttons()

    received = await world.answers(JANA, 2)
    code_mail = received[-1]
    body = text_of(code_mail)
    assert "10 minut" in body and "ignorovat" in body  # valid 10 minutes; ignore it if not asked, in Czech
    found = re.search(r"(?<![0-9])([0-9]{4})(?![0-9])", body)
    assert found is not None
    code = found.group(1)
    assert all(code not in (m.get("text") or "") for m in u.sent())  # never in the chat

    confirmed = await u.say(code)
    assert JANA in confirmed[-1]["text"] and "Firma" in confirmed[-1]["text"]
    listed = await u.say("/tickets")
    assert "#1001" in listed[-1]["text"] and "t:1001" in u.buttons()  # the mail's ticket, in Telegram
    shown = await u.press("t:1001")
    assert "Faktura za listopad" in shown[-1]["text"] and "reply:1001" in u.buttons()  # hers: every button

    async with world.app.db.read() as s:
        people = (await s.execute(select(Customer).where(Customer.address == JANA))).scalars().all()
    for _ in range(500):  # marked sent right after the SMTP server took it
        async with world.app.db.read() as s:
            secret = (await s.execute(select(OutboxMessage).where(OutboxMessage.event == SECRET_REPLY))).scalar_one()
        if secret.status == "sent":
            break
        await asyncio.sleep(0.01)
    assert sorted(p.platform for p in people) == ["email", "telegram"]
    assert len({p.organisation_id for p in people}) == 1 and people[0].organisation_id is not None
    assert (secret.platform, secret.chat_id, secret.status, secret.params) == ("email", JANA, "sent", {})
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]  # but the test's SMTP server's
    assert ours and not [r.name for r in ours if code in r.getMessage()]  # no log line of the bot carries it
