"""A regression guard on the search's quality: the bundled articles answer the labelled
questions of tests/bench/kb_questions.toml, the right one among the first three for at least
80 % of them in every language (`python -m tests.bench kb` prints the figures and the misses)."""

from __future__ import annotations

from tests.bench.kb import HELD_OUT, bundled, evaluate, questions


def test_the_labelled_questions_find_their_article() -> None:
    asked = questions()
    assert set(asked) == {"en", "fa", "cs", "ru", "pt"} and all(len(q) >= 20 for q in asked.values())
    kb = bundled()
    slugs = {a.slug for a in kb.articles()}
    assert {slug for items in asked.values() for _q, slug in items} <= slugs
    figures = evaluate(kb)
    shares = {language: f["top3"] for language, f in figures.items()}
    assert all(share >= 0.8 for share in shares.values()), (shares, {lang: f["misses"] for lang, f in figures.items()})


def test_the_held_out_questions_find_their_article() -> None:
    """Questions another writer wrote from the articles alone, never tuned on."""
    asked = questions(HELD_OUT)
    assert set(asked) == {"en", "fa", "cs", "ru", "pt"} and all(len(q) >= 12 for q in asked.values())
    figures = evaluate(bundled(), path=HELD_OUT)
    shares = {language: f["top3"] for language, f in figures.items()}
    assert all(share >= 0.8 for share in shares.values()), (shares, {lang: f["misses"] for lang, f in figures.items()})
