"""Our message ids name their ticket and are signed: a forged one names nothing."""

from __future__ import annotations

import re

from adapters.email.ids import MessageIds

DOMAIN = "support.example.com"
IDS = MessageIds(DOMAIN, b"k" * 32)


def test_message_ids_name_their_ticket() -> None:
    one, two = IDS.new(1042), IDS.new(1042)
    assert one != two and re.fullmatch(r"<hd\.1042\.[0-9a-f]{12}\.[0-9a-f]{16}@support\.example\.com>", one)
    assert IDS.ticket_of(one) == 1042
    assert IDS.ticket_of(f"  {one} ") == 1042
    assert MessageIds("SUPPORT.example.COM", b"k" * 32).ticket_of(one) == 1042
    assert IDS.ticket_of(one.replace(DOMAIN, DOMAIN.upper())) == 1042
    assert IDS.ticket_of(one.strip("<>")) == 1042
    assert IDS.ticket_of(IDS.new(None)) is None and IDS.ours(IDS.new(None))  # ours, but about no ticket
    assert MessageIds("other.example.com", b"k" * 32).ticket_of(one) is None
    assert IDS.ticket_of("<CAKx8=abc@mail.gmail.com>") is None and not IDS.ours("<CAKx8=abc@mail.gmail.com>")


def test_a_ticket_has_one_thread_id() -> None:
    assert IDS.thread(1001) == IDS.thread(1001) != IDS.thread(1002)
    assert IDS.ticket_of(IDS.thread(1001)) == 1001


def test_a_forged_id_names_nothing() -> None:
    """Ids are signed with the installation's key: knowing the form is not enough to name a
    ticket (a made-up bounce, a stranger's In-Reply-To), nor is an id of another installation."""
    real = IDS.thread(1001)
    assert IDS.ticket_of(real.replace("hd.1001.", "hd.1002.")) is None
    assert IDS.ticket_of("<hd.1001.t.0000000000000000@support.example.com>") is None
    assert MessageIds(DOMAIN, b"x" * 32).ticket_of(real) is None
    assert IDS.ticket_of(real.replace(DOMAIN, DOMAIN + ".evil.test")) is None


def test_a_quote_mail_names_its_quote() -> None:
    """A mail showing a quote's Approve and Decline names the quote, signed like the ticket: a
    bare "1" in answer approves that quote only, and a forged quote id names nothing."""
    shown = IDS.new(1042, quote=77)
    assert IDS.ticket_of(shown) == 1042 and IDS.quote_of(shown) == 77
    assert IDS.quote_of(IDS.new(1042)) is None and IDS.quote_of(IDS.thread(1042)) is None
    assert IDS.quote_of(shown.replace("q77-", "q78-")) is None
    assert IDS.ticket_of(shown.replace("q77-", "q78-")) is None
