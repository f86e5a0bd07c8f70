"""Each catalog keeps to its glossary (locales/glossary.toml): one word for a ticket, Cancel and
Withdraw told apart, and none of the words it must avoid."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parents[2] / "locales"
GLOSSARY = tomllib.loads((LOCALES / "glossary.toml").read_text(encoding="utf-8"))


def _entries(locale: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    with (LOCALES / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    out = []
    for m in catalog:
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        out.append((tuple(ids), tuple(s for s in strings if s)))
    return out


@pytest.mark.parametrize("locale", sorted(GLOSSARY))
def test_a_ticket_has_one_name(locale: str) -> None:
    stem = GLOSSARY[locale]["ticket"]
    wrong = [ids[0] for ids, strings in _entries(locale)
             if any(re.search(r"\bticket", i, re.IGNORECASE) for i in ids)
             and any(stem not in s.lower() for s in strings)]
    assert wrong == [], f"{locale}: a text that names a ticket without «{stem}»"


@pytest.mark.parametrize("locale", sorted(GLOSSARY))
def test_cancel_and_withdraw_are_two_words(locale: str) -> None:
    terms = GLOSSARY[locale]
    entries = dict(_entries(locale))
    assert entries[("Cancel",)] == (terms["cancel"],)
    withdraw = [(ids[0], s) for ids, strings in entries.items() for s in strings
                if any(re.search(r"\bwithdr", i, re.IGNORECASE) for i in ids)]
    assert withdraw, "the catalog has no text about withdrawing"
    wrong = [(i, s) for i, s in withdraw
             if not any(stem in s.lower() for stem in terms["withdraw"]) or terms["cancel"].lower() in s.lower()]
    assert wrong == []


@pytest.mark.parametrize("locale", sorted(GLOSSARY))
def test_words_to_avoid(locale: str) -> None:
    avoid = GLOSSARY[locale]["avoid"]
    found = [(word, ids[0]) for ids, strings in _entries(locale) for s in strings for word in avoid if word in s]
    assert found == []
