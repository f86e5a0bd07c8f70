"""The e-mail channel when things go wrong: a mail that fails every time, a failure after the
commit, a reply that keeps our quoted words, a forged bounce, a mail program's own language."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from core.chat.letters import ASK
from core.storage.models import Customer
from tests.adapters.email.test_bounces_e2e import dsn
from tests.adapters.email.world import MailWorld, mail, text_of

JANA, EVE = "jana.novakova@example.cz", "eve@example.net"


async def _customer(world: MailWorld, address: str) -> Customer:
    async with world.app.db.read() as s:
        return (await s.execute(select(Customer).where(Customer.platform_user_id == address))).scalar_one()


async def test_a_mail_that_fails_every_time_is_set_aside_and_the_rest_go_on(
        world: MailWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    channel: Any = world.app.served["email"]
    take = channel.letters.take

    async def refusing(letter: Any) -> Any:
        if letter.sender == EVE:  # a value the database refuses: the mail's own fault, every time
            raise DataError("INSERT", {}, Exception("invalid byte sequence"))
        return await take(letter)

    monkeypatch.setattr(channel.letters, "take", refusing)
    await world.arrive(mail(EVE, "Poison", "This one always fails."))
    await world.arrive(mail(JANA, "Nelze se přihlásit", "Nemohu se přihlásit do systému."))
    [ack] = await world.answers(JANA, 1)
    assert "[#" in str(ack["Subject"]) and len(world.dovecot.messages("Quarantine")) == 1
    assert world.app.served["email"].health()[0]


async def test_a_failure_after_the_commit_sends_the_answer_later(
        world: MailWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    sender: Any = world.app.served["email"].sender
    subject = sender._subject
    failed: list[int] = []

    async def once_away(number: int | None, locale: str) -> str:
        if not failed:  # the database blinks after the ticket was committed
            failed.append(1)
            raise OSError("database away for a moment")
        return str(await subject(number, locale))

    monkeypatch.setattr(sender, "_subject", once_away)
    await world.arrive(mail(JANA, "Nelze se přihlásit", "Nemohu se přihlásit do systému."))
    [ack] = await world.answers(JANA, 1, timeout=30)
    assert failed and "[#1001]" in str(ack["Subject"])
    assert len(await world.app.services.queries.list_for_customer((await _customer(world, JANA)).id)) == 1


async def test_the_department_is_picked_by_a_quoted_reply(world: MailWorld) -> None:
    world.app.served["email"].letters.default_department = ASK  # type: ignore[attr-defined]
    await world.arrive(mail(JANA, "Faktura", "Dobrý den, faktura za listopad má špatnou částku."))
    [question] = await world.answers(JANA, 1)
    assert "[#" not in str(question["Subject"]) and "2." in text_of(question)
    quoted = "2\n\nDne 7. 12. 2026 v 10:00 Podpora <support@example.com> napsal(a):\n> " + \
        "\n> ".join(text_of(question).splitlines())
    await world.arrive(mail(JANA, f"Re: {question['Subject']}", quoted, in_reply_to=question["Message-ID"]))
    [_, ack] = await world.answers(JANA, 2)
    ticket = await world.app.services.queries.get(1001)
    assert "[#1001]" in str(ack["Subject"]) and ticket.department == world.app.config.departments[1].code
    assert ticket.description.startswith("Dobrý den, faktura")


async def test_a_reply_to_the_acknowledgement_finds_its_ticket_whatever_its_subject(world: MailWorld) -> None:
    await world.arrive(mail(JANA, "Nelze se přihlásit", "Nemohu se přihlásit do systému."))
    [ack] = await world.answers(JANA, 1)
    await world.arrive(mail(JANA, "jeste neco", "Zapomněla jsem: je to v Chrome.", in_reply_to=ack["Message-ID"]))
    ticket = await world.app.services.queries.get(1001)
    bodies = [m.body for m in await world.app.services.queries.thread(ticket.id)]
    assert bodies == ["Zapomněla jsem: je to v Chrome."]
    assert len(await world.app.services.queries.list_for_customer(ticket.customer_id)) == 1


async def test_a_forged_bounce_cuts_nobody_off(world: MailWorld) -> None:
    await world.arrive(mail(JANA, "Nelze se přihlásit", "Nemohu se přihlásit do systému."))
    await world.answers(JANA, 1)
    forged = world.thread(1001).replace(world.thread(1001).split(".")[3].split("@")[0], "0" * 16)
    await world.arrive(dsn("5.1.1", "failed", 3, forged))
    assert (await _customer(world, JANA)).reachable


async def test_a_mail_programs_language_does_not_change_the_customers(world: MailWorld) -> None:
    await world.arrive(mail(JANA, "Nelze se přihlásit", "Dobrý den, nemohu se přihlásit do systému, hlásí chybu."))
    [ack] = await world.answers(JANA, 1)
    await world.arrive(mail(JANA, f"Re: {ack['Subject']}", "Díky!", in_reply_to=ack["Message-ID"],
                            headers={"Content-Language": "en-US"}))
    assert (await _customer(world, JANA)).locale == "cs"


async def test_a_bare_1_answers_the_quote_its_mail_showed_and_no_newer_one(world: MailWorld) -> None:
    """The agent replaced a 1 h quote by a 40 h one: Jana's "1" in answer to the first quote's
    mail is kept as a message and she is shown the quote pending, whose own mail a "1" approves."""
    from core.domain.quotes import QuoteState

    await world.arrive(mail(JANA, "New report", "Please add a monthly report."))
    [ack] = await world.answers(JANA, 1)
    services = world.app.services
    agent = await services.desk.agent("desk", "eva", "Eva", "en")
    first = await services.quotes.send(agent.id, 1001, minutes=60)
    [_, first_mail] = await world.answers(JANA, 2)
    dearer = await services.quotes.send(agent.id, 1001, minutes=40 * 60)
    await world.answers(JANA, 3)
    await world.arrive(mail(JANA, f"Re: {first_mail['Subject']}", "1", in_reply_to=first_mail["Message-ID"]))
    told = (await world.answers(JANA, 4))[-1]
    latest = await services.quotes.latest(1001)
    assert latest is not None and (latest.id, latest.state) == (dearer.id, QuoteState.PENDING) and first.id != dearer.id
    assert "40" in text_of(told)
    await world.arrive(mail(JANA, f"Re: {told['Subject']}", "1", in_reply_to=told["Message-ID"]))
    await world.answers(JANA, 5)
    latest = await services.quotes.latest(1001)
    assert latest is not None and (latest.id, latest.state) == (dearer.id, QuoteState.APPROVED)
