"""Mail no person wrote: auto-replies, lists, robots and bounces."""

from __future__ import annotations

import pytest

from adapters.email.parse import parse_mail
from tests.adapters.email.mails import PERSON, PLAIN_BOUNCE, RETURNED_HEADERS, RETURNED_MESSAGE, dsn, mail

OUT_OF_OFFICE = {
    "outlook": """
From: Petr Dvořák <petr@example.cz>
To: support@example.com
Subject: =?utf-8?Q?Automatick=C3=A1_odpov=C4=9B=C4=8F:_[#1004]_Faktura?=
Message-ID: <oof.1@example.cz>
Auto-Submitted: auto-generated
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=utf-8

Jsem mimo kancelář do 12. 12.
""",
    "gmail": """
From: Ana Souza <ana@example.com.br>
To: support@example.com
Subject: Ausente: Re: [#1004] Fatura
Message-ID: <oof.2@mail.gmail.com>
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=UTF-8

Estou de férias até 2 de janeiro.
""",
    "exchange, suppress only": """
From: Petr <petr@example.cz>
To: support@example.com
Subject: Out of office
Message-ID: <oof.3@example.cz>
X-Auto-Response-Suppress: DR, OOF, AutoReply
Content-Type: text/plain

Away.
""",
}


@pytest.mark.parametrize("raw", OUT_OF_OFFICE.values(), ids=OUT_OF_OFFICE.keys())
def test_out_of_office_is_automatic(raw: str) -> None:
    m = parse_mail(mail(raw))
    assert m.automatic is not None and m.bounce is None


def test_out_of_office_reasons() -> None:
    assert parse_mail(mail(OUT_OF_OFFICE["gmail"])).automatic == "Auto-Submitted: auto-replied"
    assert parse_mail(mail(OUT_OF_OFFICE["exchange, suppress only"])).automatic == "X-Auto-Response-Suppress"


@pytest.mark.parametrize("returned", [RETURNED_MESSAGE, RETURNED_HEADERS], ids=["message", "headers"])
def test_dsn_bounce_of_our_mail(returned: str) -> None:
    m = parse_mail(dsn("5.1.1", "failed", returned))
    assert m.automatic == "bounce"
    assert m.bounce is not None
    assert m.bounce.recipient == "nobody@example.org"
    assert m.bounce.message_ids == ("<hd.1001.abc@support.example.com>",)
    assert m.bounce.permanent
    assert "could not be delivered" in m.text and "Reporting-MTA" not in m.text


def test_delayed_delivery_is_no_permanent_bounce() -> None:
    m = parse_mail(dsn("4.4.1", "delayed", RETURNED_HEADERS))
    assert m.bounce is not None and not m.bounce.permanent


def test_success_notice_is_automatic_but_no_bounce() -> None:
    m = parse_mail(dsn("2.0.0", "delivered", RETURNED_HEADERS))
    assert m.bounce is None and m.automatic == "Auto-Submitted: auto-replied"


def test_plain_text_bounce_from_a_mailer_daemon() -> None:
    m = parse_mail(PLAIN_BOUNCE)
    assert m.automatic == "bounce" and m.event_id.startswith("sha256:")
    assert m.bounce is not None and m.bounce.permanent and m.bounce.recipient == "gone@old.example.net"
    assert m.bounce.message_ids == ("<hd.1008.r@support.example.com>", "<hd.1007.q@support.example.com>")


LIST_MAIL = mail("""
From: Weekly News <news@lists.example.org>
To: support-list@lists.example.org
Subject: [news] This week
Message-ID: <list.1@lists.example.org>
List-Id: Weekly news <news.lists.example.org>
List-Unsubscribe: <mailto:leave@lists.example.org>
Precedence: list
Content-Type: text/plain

News.
""")


def test_mailing_list_mail_is_automatic() -> None:
    assert parse_mail(LIST_MAIL).automatic == "Precedence: list"
    only_list_id = LIST_MAIL.replace(b"Precedence: list\r\n", b"")
    assert parse_mail(only_list_id).automatic == "List-Id"




@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("Auto-Submitted: no\n", None),
        ("Auto-Submitted: auto-generated\n", "Auto-Submitted: auto-generated"),
        ("Precedence: bulk\n", "Precedence: bulk"),
        ("Precedence: junk\n", "Precedence: junk"),
        ("Precedence: auto_reply\n", "Precedence: auto_reply"),
        ("Precedence: first-class\n", None),
        ("List-Unsubscribe: <https://x.example/u>\n", "List-Unsubscribe"),
        ("X-Autoreply: yes\n", "X-Autoreply"),
        ("X-Autorespond: yes\n", "X-Autorespond"),
        ("X-Autoreply-From: jan@example.cz\n", "X-Autoreply-From"),
        ("Return-Path: <>\n", "Return-Path: <>"),
        ("Return-Path: <jan@example.cz>\n", None),
    ],
)
def test_automatic_headers(extra: str, reason: str | None) -> None:
    assert parse_mail(mail(PERSON + extra + "\nHello.\n")).automatic == reason


@pytest.mark.parametrize(
    "local", ["noreply", "No-Reply", "no_reply", "do-not-reply", "DoNotReply", "do.not.reply", "postmaster",
              "mailer-daemon", "Mailer_Daemon"],
)
def test_robot_senders_are_automatic(local: str) -> None:
    m = parse_mail(mail(f"From: Shop <{local}@shop.example>\nTo: support@example.com\nSubject: x\n\nHello.\n"))
    assert m.automatic is not None
    assert parse_mail(mail(f"From: <{local}x@shop.example>\nSubject: x\n\nHello.\n")).automatic is None


def test_read_receipt_report_is_automatic() -> None:
    raw = mail(PERSON + 'Content-Type: multipart/report; report-type=disposition-notification; boundary="R"\n\n'
               "--R\nContent-Type: text/plain\n\nRead.\n--R--\n")
    m = parse_mail(raw)
    assert m.automatic == "multipart/report" and m.bounce is None


def test_a_person_at_postmaster_writes_no_bounce() -> None:
    """A mail from postmaster@ that names no failed address is a person's (or a robot's) mail,
    automatic but not a bounce: it is kept, not taken as a customer's address failing."""
    m = parse_mail(mail("From: Petr <postmaster@firma.cz>\r\nSubject: Dotaz\r\n\r\nDobrý den, mám dotaz k faktuře."))
    assert m.bounce is None and m.automatic is not None
