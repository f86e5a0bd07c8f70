"""Bounces and answers by reply, end to end: the real process reads a real mailbox (Dovecot),
sends through a real SMTP server, and the agents work in a fake Slack.

A delivery report (RFC 3464) saying that our acknowledgement of #1001 failed for good marks the
customer unreachable: the agents read it in the ticket's thread, MAILER-DAEMON gets no answer,
and the agent's next answer waits as a dead letter instead of bouncing again. A delay report
changes nothing; the customer writing again makes them reachable again. A resolved ticket is
confirmed by a reply of "1", and rated by a reply of "5" with a comment, all in Czech."""

from __future__ import annotations

from sqlalchemy import select

from core.domain.model import Status
from core.storage.models import Customer, OutboxMessage, Rating
from tests.adapters.email.world import SUPPORT, MailWorld, mail, text_of
from tests.adapters.slack.conftest import AGENT, DESK

JANA = "jana.novakova@example.cz"
DAEMON = "MAILER-DAEMON@mx.example.cz"


def dsn(status: str, action: str, number: int, thread: str) -> bytes:
    """A delivery report from the customer's mail server about our acknowledgement."""
    return f"""\
Return-Path: <>
From: Mail Delivery System <{DAEMON}>
To: {SUPPORT}
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn.{number}@mx.example.cz>
Date: Mon, 7 Dec 2026 10:05:00 +0100
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.cz.
Your message could not be delivered to one or more recipients.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.cz

Final-Recipient: rfc822; {JANA}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {status[0]}50 {status} mailbox unavailable

--B1
Content-Type: text/rfc822-headers

From: Example Support <{SUPPORT}>
To: {JANA}
Subject: [#1001] Nelze se prihlasit
Message-ID: {thread}

--B1--
""".replace("\n", "\r\n").encode()


async def _reachable(world: MailWorld) -> bool:
    async with world.app.db.read() as s:
        customer = (await s.execute(select(Customer).where(Customer.platform_user_id == JANA))).scalar_one()
        return customer.reachable


async def _agent_says(world: MailWorld, text: str) -> None:
    card = world.desk.card(1001)
    assert card is not None
    await world.desk.processed(await world.desk.events.channel_message(AGENT, text, channel=DESK,
                                                                       thread_ts=card["ts"]))


async def test_a_bounce_marks_the_customer_unreachable_until_they_write_again(world: MailWorld) -> None:
    await world.arrive(mail(JANA, "Nelze se přihlásit", "Dobrý den, nemohu se přihlásit do systému.",
                            name="Jana Nováková"))
    [ack] = await world.answers(JANA, 1)
    assert ack["Message-ID"] == world.thread(1001)
    await world.desk.click(AGENT, "desk:claim", 1001)
    sent = len(world.smtp.messages)
    told_before = len(world.desk.thread(1001))

    # A delay report: nothing changes.
    await world.arrive(dsn("4.4.1", "delayed", 1, world.thread(1001)))
    assert await _reachable(world)
    assert len(world.desk.thread(1001)) == told_before and len(world.smtp.messages) == sent

    # The customer's server refuses our mail for good.
    await world.arrive(dsn("5.1.1", "failed", 2, world.thread(1001)))
    assert not await _reachable(world)
    told = [m.get("text") or "" for m in world.desk.thread(1001)[told_before:]]
    assert any("cannot be reached" in line and "email" in line for line in told), told
    assert world.sent_to(DAEMON) == [] and world.sent_to(DAEMON.lower()) == []
    assert len(world.smtp.messages) == sent  # no answer to anybody

    # The agent answers: it waits as a dead letter, not as a mail that would bounce again.
    await _agent_says(world, "Zkuste prosím jiný prohlížeč.")
    assert len(world.smtp.messages) == sent
    async with world.app.db.read() as s:
        dead = (await s.execute(select(OutboxMessage.event).where(
            OutboxMessage.platform == "email", OutboxMessage.status == "dead"))).scalars().all()
    assert dead == ["agent_reply"], dead

    # She writes again: she can be reached again, and hears from us.
    await world.arrive(mail(JANA, f"Re: {ack['Subject']}", "Pořád to nefunguje.", in_reply_to=world.thread(1001)))
    assert await _reachable(world)
    count = len(world.sent_to(JANA))
    await _agent_says(world, "Podívám se na to.")
    answer = (await world.answers(JANA, count + 1))[-1]
    assert "Podívám se na to." in text_of(answer)


async def test_resolution_is_confirmed_and_rated_by_reply(world: MailWorld) -> None:
    await world.arrive(mail(JANA, "Nelze se přihlásit", "Dobrý den, nemohu se přihlásit do systému.",
                            name="Jana Nováková"))
    await world.answers(JANA, 1)
    await world.desk.click(AGENT, "desk:claim", 1001)
    count = len(world.sent_to(JANA))

    await world.desk.click(AGENT, "desk:status", 1001, selected_option="resolved")
    question = (await world.answers(JANA, count + 1))[-1]
    assert (await world.app.services.queries.get(1001)).status == Status.RESOLVED
    text = text_of(question)  # in Czech, the options numbered: what works in any mail program
    assert "Je váš problém vyřešen?" in text and "1 — Ano, vyřešeno" in text and "2 — Ne" in text, text
    assert "[#1001]" in str(question["Subject"])

    await world.arrive(mail(JANA, f"Re: {question['Subject']}", "1", in_reply_to=question["Message-ID"]))
    assert (await world.app.services.queries.get(1001)).status == Status.CLOSED
    thanked, asked = [text_of(m) for m in (await world.answers(JANA, count + 3))[count + 1:]]
    assert "Děkujeme za potvrzení" in thanked, thanked
    assert "Jak jste byli spokojeni" in asked and all(f"{n} — {'★' * n}" in asked for n in range(1, 6)), asked
    rating_question = world.sent_to(JANA)[count + 2]

    await world.arrive(mail(JANA, f"Re: {rating_question['Subject']}", "5 Výborné",
                            in_reply_to=rating_question["Message-ID"]))
    ticket = await world.app.services.queries.get(1001)
    async with world.app.db.read() as s:
        rating = await s.get(Rating, ticket.id)
    assert rating is not None and (rating.score, rating.comment) == (5, "Výborné")
    thanks = (await world.answers(JANA, count + 4))[-1]
    assert "Děkujeme za hodnocení" in text_of(thanks), text_of(thanks)
