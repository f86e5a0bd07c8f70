"""The ticket tag and the topic of a subject line; a subject for a mail that has none."""

from __future__ import annotations

import pytest

from adapters.email.subject import ticket_tag, topic


@pytest.mark.parametrize(
    ("subject", "expected"),
    [("Re: [#1042] Cannot log in", 1042), ("[#7]", 7), ("AW: Login [# 1042 ]", 1042),
     ("Cannot log in #1042", None), ("[1042]", None), ("", None)],
)
def test_ticket_tag(subject: str, expected: int | None) -> None:
    assert ticket_tag(subject) == expected


@pytest.mark.parametrize(
    "subject",
    ["Re: [#1042] Cannot log in", "RE: RE: Cannot log in", "Fwd: Re: Cannot log in", "AW: WG: Cannot log in",
     "Odp: Cannot log in", "Re[2]: Cannot log in", "Ответ: Cannot log in", "RE : Cannot log in",
     "پاسخ: Cannot log in", "Enc: RES: Cannot log in", "re:Cannot   log in", "[#1042] Re: Cannot log in",
     "FW: Cannot log in", "Cannot log in"],
)
def test_topic_strips_prefixes_and_tag(subject: str) -> None:
    assert topic(subject) == "Cannot log in"


def test_topic_keeps_words_that_only_start_like_a_prefix() -> None:
    assert topic("Reset password") == "Reset password"
    assert topic("Resumo: fatura") == "Resumo: fatura"
