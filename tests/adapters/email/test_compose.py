"""Replies composed as mails and read back with the email package, as a mail program would."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from adapters.email.compose import REFERENCES_KEPT, compose, options, thread_ids
from adapters.email.ids import MessageIds
from core.chat import actions as act
from core.chat.messages import Choice, Reply
from core.chat.notices import render
from core.domain.model import Status
from core.i18n import FSI, PDI, translator

DOMAIN = "support.example.com"
IDS = MessageIds(DOMAIN, b"k" * 32)
CHOOSE = "To answer, reply to this message with the number of your choice:"


def mail(reply: Reply, **kwargs: Any) -> EmailMessage:
    """Composed, flattened to bytes as SMTP sends it, parsed back."""
    args: dict[str, Any] = {"sender": f"help@{DOMAIN}", "sender_name": "Help desk", "to": "jan@example.cz",
                            "subject": "[#1042] Printer", "message_id": IDS.new(reply.ticket)}
    composed = compose(reply, **{**args, **kwargs})
    parsed = message_from_bytes(composed.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(msg: EmailMessage) -> tuple[str, str]:
    plain, markup = msg.get_body(("plain",)), msg.get_body(("html",))
    assert plain is not None and markup is not None
    # A base64 body keeps the CRLF line ends SMTP put in; a mail program shows them as line ends.
    return plain.get_content().replace("\r\n", "\n"), markup.get_content().replace("\r\n", "\n")


def resolved(locale: str, number: int = 1042) -> Reply:
    return render(translator(locale), "status_changed", {"number": number, "new": Status.RESOLVED,
                                                         "old": Status.ACCEPTED})


def test_headers() -> None:
    moment = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    reply = Reply("Hello", locale="cs", ticket=1042)
    own = IDS.new(1042)
    msg = mail(reply, message_id=own, in_reply_to="<parent@example.cz>", references=["<root@example.cz>"],
               automatic="auto-replied", now=moment, sender_name="Podpora – Tiskárny")
    assert msg["Message-ID"] == own
    assert msg["In-Reply-To"] == "<parent@example.cz>"
    assert msg["References"].split() == ["<root@example.cz>", "<parent@example.cz>"]
    assert msg["From"].addresses[0].display_name == "Podpora – Tiskárny"
    assert msg["From"].addresses[0].addr_spec == f"help@{DOMAIN}"
    assert msg["To"] == "jan@example.cz"
    assert parsedate_to_datetime(msg["Date"]) == moment
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Content-Language"] == "cs"
    assert msg["MIME-Version"] == "1.0"
    assert msg.get_content_type() == "multipart/alternative"


def test_a_person_s_answer_is_not_marked_automatic_and_a_first_mail_has_no_thread() -> None:
    msg = mail(Reply("Odpověď", locale="cs", ticket=7, personal=True))
    assert "Auto-Submitted" not in msg and "In-Reply-To" not in msg and "References" not in msg
    assert msg["X-Auto-Response-Suppress"] == "All"


def test_subject_is_encoded_and_reads_back_equal() -> None:
    subject = "[#1042] Tiskárna ve 3. patře netiskne — ЖК-монитор, چاپگر " + "dlouhý " * 12
    composed = compose(Reply("x", locale="cs"), sender=f"help@{DOMAIN}", sender_name="Podpora", to="a@b.cz",
                       subject=subject, message_id=IDS.new(1042))
    raw = composed.as_bytes(policy=policy.SMTP)
    assert raw.isascii() and b"=?utf-8?" in raw and all(len(line) <= 78 for line in raw.split(b"\r\n"))
    back = message_from_bytes(raw, policy=policy.default)
    assert back["Subject"] == " ".join(subject.split())
    assert "\n" not in mail(Reply("x"), subject="a\r\nBcc: someone@evil.test")["Subject"]


def test_czech_text_arrives_intact_in_both_parts() -> None:
    text = "Dobrý den,\npříliš žluťoučký kůň úpěl ďábelské ódy.\n\n<script>alert(1)</script> & „uvozovky“"
    plain, markup = parts(mail(Reply(text, locale="cs", ticket=1042)))
    assert plain.startswith(text + "\n")
    assert "příliš žluťoučký kůň úpěl ďábelské ódy.<br>" in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; „uvozovky“" in markup and "<script>" not in markup
    assert '<html lang="cs" dir="ltr">' in markup and '<div dir="ltr"' in markup
    assert "Chcete-li k tiketu #1042 něco dopsat, stačí odpovědět na tuto zprávu." in plain
    assert "<img" not in markup and "http" not in markup.replace("http-equiv", "")


def test_persian_mail_reads_right_to_left_with_persian_digits() -> None:
    msg = mail(resolved("fa"))
    plain, markup = parts(msg)
    assert msg["Content-Language"] == "fa"
    assert '<html lang="fa" dir="rtl">' in markup and '<div dir="rtl"' in markup and "text-align:right" in markup
    # The ticket number stays "#1042" (what a reply's subject tag and the chat use), isolated
    # left-to-right; the numbers to answer with are Persian digits.
    assert f"{FSI}#1042{PDI}" in plain and f"{FSI}#1042{PDI}" in markup
    assert "\n۱ — " in plain and "\n۲ — " in plain and "list-style-type:persian" in markup


def test_settle_and_rate_choices_become_numbered_options() -> None:
    reply = resolved("en")
    assert options(reply) == [(1, "Yes, it is solved"), (2, "No, not solved")]
    plain, markup = parts(mail(reply))
    assert f"{CHOOSE}\n1 — Yes, it is solved\n2 — No, not solved\n" in plain
    assert re.search(r"<ol[^>]*><li[^>]*>Yes, it is solved</li><li[^>]*>No, not solved</li></ol>", markup)

    rating = render(translator("en"), "rating_request", {"number": 1042})
    assert options(rating) == [(n, "★" * n) for n in range(1, 6)]
    assert "\n5 — ★★★★★\n" in parts(mail(rating))[0]


def test_choices_a_mail_cannot_answer_are_left_out() -> None:
    reply = render(translator("en"), "agent_reply", {"number": 1042, "body": "Try turning it off and on."})
    assert reply.choices and options(reply) == []
    plain, markup = parts(mail(reply))
    assert CHOOSE not in plain and "<ol" not in markup and "Answer" not in plain
    mixed = Reply("Pick", ((Choice(act.ShowTicket(5).encode(), "View"), Choice(act.Rate(5, 3).encode(), "3 ★")),))
    assert options(mixed) == [(1, "★★★")]


def test_no_footer_without_a_ticket() -> None:
    plain, markup = parts(mail(Reply("Welcome", locale="en")))
    assert plain == "Welcome\n" and "reply to this message" not in markup


def test_attachments_make_a_mixed_mail() -> None:
    files = [(b"%PDF-1.4 test", "faktura č. 12.pdf", "application/pdf"),
             (b"\x89PNG\r\n", "../../etc/screen.png", "image/png"),
             (b"raw", "", "nonsense"),
             (b"note", "note.txt", "text/plain; charset=utf-8")]
    msg = mail(Reply("Viz příloha", locale="cs", ticket=3), files=files)
    assert msg.get_content_type() == "multipart/mixed"
    assert msg["Content-Language"] == "cs" and msg["Message-ID"]
    plain, _ = parts(msg)
    assert plain.startswith("Viz příloha")
    found = [(p.get_filename(), p.get_content_type(), p.get_content()) for p in msg.iter_attachments()]
    assert found == [("faktura č. 12.pdf", "application/pdf", b"%PDF-1.4 test"),
                     ("screen.png", "image/png", b"\x89PNG\r\n"),
                     ("attachment", "application/octet-stream", b"raw"),
                     ("note.txt", "text/plain", "note")]


def test_references_are_deduplicated_and_trimmed() -> None:
    refs = [f"<m{i}@example.cz>" for i in range(30)]
    ids = thread_ids([*refs, refs[3], "not an id", "<bad id@x>"], "<parent@example.cz>")
    assert len(ids) == REFERENCES_KEPT == 20
    assert ids[0] == "<m0@example.cz>" and ids[-1] == "<parent@example.cz>"
    assert ids[1:-1] == refs[-18:]
    assert thread_ids(["<a@x> <b@x>", "<a@x>"], "<b@x>") == ["<a@x>", "<b@x>"]
    assert thread_ids([], "c@x") == ["<c@x>"]  # an id given without its brackets


def test_long_ids_stay_unencoded_on_the_wire() -> None:
    """A long id folded by the email package becomes an encoded word no mail program matches."""
    long_id = "<" + "CAKx8" * 20 + "@mail.gmail.com>"
    msg = compose(Reply("x"), sender=f"help@{DOMAIN}", sender_name="Help", to="a@b.cz", subject="s",
                  message_id=IDS.new(1), in_reply_to=long_id, references=["<root@x>", long_id])
    raw = msg.as_bytes(policy=policy.SMTP)
    assert b"=?" not in raw.split(b"\r\n\r\n", 1)[0].replace(b"Subject: s", b"")
    back = message_from_bytes(raw, policy=policy.default)
    assert back["In-Reply-To"] == long_id and back["References"].split() == ["<root@x>", long_id]


@pytest.mark.parametrize("locale", ["en", "fa", "cs", "ru", "pt"])
def test_every_language_makes_a_finished_letter(locale: str) -> None:
    plain, markup = parts(mail(resolved(locale)))
    for text in (plain, markup):
        assert "{" not in text and "}" not in text.replace("{}", "")
    assert markup.count("<html") == 1 and markup.rstrip().endswith("</html>")
