"""E-mail end to end: the real process reads a real mailbox (Dovecot) and sends through a real
SMTP server (aiosmtpd); agents work in a fake Slack.

A Czech customer's mail opens a ticket and is acknowledged with its number; the agent's answer
from Slack reaches them threaded; their reply (quoted history and all) lands on the same ticket,
stripped; a stranger naming the ticket opens one of their own; an out-of-office answer gets no
answer; a malformed mail is set aside and the next one handled; a Persian mail gets a
right-to-left Persian answer dated in the Solar Hijri calendar."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.domain.model import MessageKind, Status
from core.storage.models import Attachment, Customer
from tests.adapters.email.world import SUPPORT, MailWorld, html_of, mail, text_of
from tests.adapters.slack.conftest import AGENT, DESK

JANA = "jana.novakova@example.cz"


async def _messages(world: MailWorld, number: int) -> list[tuple[str, str]]:
    ticket = await world.app.services.queries.get(number)
    return [(m.kind, m.body) for m in await world.app.services.queries.thread(ticket.id, internal=True)]


async def test_a_customer_writes_by_mail_and_the_agent_answers_from_slack(world: MailWorld) -> None:
    first = "<first.1@example.cz>"
    await world.arrive(mail(JANA, "Nelze se přihlásit", "Dobrý den,\n\nnemohu se přihlásit do systému, "
                            "hlásí to chybu 500.\n\nJana Nováková", name="Jana Nováková", message_id=first))
    [ack] = await world.answers(JANA, 1)
    assert "[#1001]" in str(ack["Subject"]) and ack["In-Reply-To"] == first
    assert ack["Auto-Submitted"] == "auto-replied" and ack["Message-ID"] == world.thread(1001)
    assert "#1001" in text_of(ack) and "Nelze se přihlásit" in text_of(ack)
    assert "Děkujeme" in text_of(ack)  # in Czech, told from the text
    assert "nemohu se přihlásit" in (await world.app.services.queries.get(1001)).description
    card = world.desk.card(1001)
    assert card is not None and "email" in str(card["blocks"])  # the agents see the customer writes by e-mail
    [(uid, flags, _)] = world.dovecot.messages()
    assert "\\Seen" in flags

    await world.desk.click(AGENT, "desk:claim", 1001)
    await world.desk.processed(await world.desk.events.channel_message(
        AGENT, "Jaký prohlížeč používáte?", channel=DESK, thread_ts=world.desk.card(1001)["ts"]))  # type: ignore[index]
    answers = await world.answers(JANA, 3)  # taken, then the answer
    answer = answers[-1]
    assert "Jaký prohlížeč používáte?" in text_of(answer) and "[#1001]" in str(answer["Subject"])
    assert world.thread(1001) in str(answer["References"])  # one thread in her mail program
    assert answer["Auto-Submitted"] is None  # a person wrote it

    # Her reply, as Gmail writes it: the new lines on top, the whole history quoted below.
    reply = ("Firefox 133.\n\nDne 5. 12. 2026 v 10:00 Example Support <support@example.com> napsal(a):\n"
             "> Jaký prohlížeč používáte?\n>\n> Ticket #1001\n")
    await world.arrive(mail(JANA, f"Re: {answer['Subject']}", reply, in_reply_to=answer["Message-ID"],
                            references=f"{answer['References']} {answer['Message-ID']}"))
    thread = await _messages(world, 1001)
    assert thread[-1] == (MessageKind.CUSTOMER, "Firefox 133.")
    assert (await world.app.services.queries.get(1001)).status == Status.ACCEPTED
    assert any("Firefox 133." in (m.get("text") or "") for m in world.desk.thread(1001))
    async with world.app.db.read() as s:  # the whole mail is kept for the agents
        kept = list((await s.execute(select(Attachment.filename))).scalars())
    assert kept.count("original.eml") == 2


async def test_a_stranger_naming_the_ticket_gets_one_of_their_own(world: MailWorld) -> None:
    await world.arrive(mail(JANA, "Faktura za listopad", "Faktura má špatnou částku.", name="Jana"))
    await world.answers(JANA, 1)
    eve = "eve@example.net"
    await world.arrive(mail(eve, "Re: [#1001] Faktura za listopad", "Show me this ticket please.",
                            in_reply_to=world.thread(1001)))
    [ack] = await world.answers(eve, 1)
    # Her own subject, nothing of Jana's ticket: not its words, not her name.
    assert "[#1002] Faktura za listopad" == str(ack["Subject"])
    assert "špatnou částku" not in text_of(ack) and "Jana" not in text_of(ack)
    assert [body for _, body in await _messages(world, 1001)] == []
    ticket = await world.app.services.queries.get(1002)
    async with world.app.db.read() as s:
        owner = await s.get(Customer, ticket.customer_id)
    assert owner is not None and owner.platform_user_id == eve


async def test_automatic_mail_is_never_answered(world: MailWorld) -> None:
    await world.arrive(mail(JANA, "Nelze se přihlásit", "Nemohu se přihlásit."))
    [ack] = await world.answers(JANA, 1)
    await world.arrive(mail(JANA, f"Automatická odpověď: {ack['Subject']}", "Jsem mimo kancelář do pondělí.",
                            in_reply_to=ack["Message-ID"], headers={"Auto-Submitted": "auto-replied"}))
    await world.arrive(mail("noreply@shop.example", "Your order", "Thank you for your order.",
                            headers={"Precedence": "bulk"}))
    await world.arrive(mail(SUPPORT, "[#1001] loop", "Our own mail coming back."))
    assert len(world.sent_to(JANA)) == 1 and world.sent_to("noreply@shop.example") == []
    assert world.sent_to(SUPPORT) == []
    assert await _messages(world, 1001) == []  # the out-of-office answer is not the customer's word
    assert {m[1] for m in world.dovecot.messages() if "\\Seen" not in m[1]} == set()


async def test_a_malformed_mail_is_set_aside_and_the_next_one_handled(world: MailWorld) -> None:
    await world.arrive(b"\x00\x01garbage without any header\xff\xfe\r\n\r\n\x00")
    await world.arrive(mail(JANA, "Druhý pokus", "Tohle je normální e-mail."))
    await world.answers(JANA, 1)
    assert "Quarantine" in world.dovecot.folders()
    assert len(world.dovecot.messages("Quarantine")) == 1 and len(world.dovecot.messages()) == 1
    await world.desk.settle()
    told = [m for m in world.desk.slack.messages_in(DESK) if "Quarantine" in (m.get("text") or "")]
    assert told, "the agents are told about the mail set aside"


async def test_a_persian_mail_gets_a_right_to_left_persian_answer(world: MailWorld) -> None:
    ali = "ali@example.ir"
    await world.arrive(mail(ali, "مشکل ورود", "سلام، نمی‌توانم وارد سامانه شوم. لطفاً راهنمایی بفرمایید.",
                            html="<p dir=rtl>سلام، نمی‌توانم وارد سامانه شوم.</p>"))
    [ack] = await world.answers(ali, 1)
    html = html_of(ack)
    assert 'dir="rtl"' in html and ack["Content-Language"] == "fa"
    text = text_of(ack)
    assert "#1001" in text and "\u2068#1001\u2069" in text  # the number isolated left-to-right
    assert re.search("۱۴۰[۵۶]", text), text  # the due date in the Solar Hijri calendar


async def test_attachments_follow_the_chat_rules(world: MailWorld) -> None:
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    await world.arrive(mail(JANA, "Faktura v příloze", "Posílám fakturu a nástroj.", files=(
        ("faktura listopad.pdf", pdf, "application/pdf"),
        ("../../nastroj.exe", b"MZ\x90\x00" + b"\x00" * 200, "application/octet-stream"))))
    [ack] = await world.answers(JANA, 1)  # one mail: the ticket's number, and the file refused
    assert "[#1001]" in str(ack["Subject"]) and "nastroj.exe: " in text_of(ack) and "../" not in text_of(ack)
    async with world.app.db.read() as s:
        files = {a.filename: a.mime_type for a in (await s.execute(select(Attachment))).scalars()}
    assert files["faktura listopad.pdf"] == "application/pdf" and "original.eml" in files
    assert not any("exe" in name for name in files)
