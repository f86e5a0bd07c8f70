"""The knowledge base's search: `python -m tests.bench kb`.

The bundled articles (core/knowledge/articles) and the labelled questions of
tests/bench/kb_questions.toml: per language the share of questions whose article comes first,
the share where it is among the first three (what the form offers), the questions missed with
what came back instead, and the time a search takes.
"""

from __future__ import annotations

import time
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.domain.config import BUNDLED_ARTICLES, load_config
from core.knowledge import KnowledgeBase
from core.knowledge.files import load

QUESTIONS = Path(__file__).with_name("kb_questions.toml")
HELD_OUT = Path(__file__).with_name("kb_heldout.toml")  # written apart from the engine, never tuned on


def questions(path: Path = QUESTIONS) -> dict[str, list[tuple[str, str]]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {language: [(item["q"], item["a"]) for item in items] for language, items in data.items()}


def bundled() -> KnowledgeBase:
    config = load_config()  # the bundled departments, and the examples shipped for them
    return load(BUNDLED_ARTICLES, [d.code for d in config.departments], config.languages[0])[0]


def evaluate(kb: KnowledgeBase, repeat: int = 1, path: Path = QUESTIONS) -> dict[str, dict[str, Any]]:
    """Per language: questions, top1 and top3 shares, misses (question, expected, found), and
    microseconds per search: the first time each question is asked (`us_first`: its words not
    yet stemmed unless an article has them) and the median of `repeat` rounds over every question
    after that (`us_per_search`)."""
    out: dict[str, dict[str, Any]] = {}
    for language, asked in questions(path).items():
        top1 = top3 = 0
        misses = []
        start = time.perf_counter()
        first = [[a.slug for a in kb.search(question, language, limit=3)] for question, _slug in asked]
        cold = (time.perf_counter() - start) / len(asked)
        for (question, slug), found in zip(asked, first, strict=True):
            top1 += bool(found) and found[0] == slug
            top3 += slug in found
            if slug not in found:
                misses.append({"question": question, "expected": slug, "found": found})
        rounds = []
        for _ in range(repeat):
            start = time.perf_counter()
            for question, _slug in asked:
                kb.search(question, language, limit=3)
            rounds.append((time.perf_counter() - start) / len(asked))
        out[language] = {"questions": len(asked), "top1": top1 / len(asked), "top3": top3 / len(asked),
                         "misses": misses, "us_first": cold * 1e6,
                         "us_per_search": sorted(rounds)[len(rounds) // 2] * 1e6}
    return out


def scaled(kb: KnowledgeBase, copies: int) -> KnowledgeBase:
    """`copies` times the articles, under other slugs: an index the size of a real help centre."""
    return KnowledgeBase.of(replace(a, slug=f"{a.slug}-{n}" if n else a.slug) for n in range(copies)
                            for a in kb.items)


def timed(kb: KnowledgeBase, rounds: int) -> float:
    """Microseconds per search over every labelled question, the median of `rounds`."""
    asked = [(q, language) for language, items in questions().items() for q, _slug in items]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for question, language in asked:
            kb.search(question, language, limit=3)
        times.append((time.perf_counter() - start) / len(asked))
    return sorted(times)[len(times) // 2] * 1e6


async def run(folder: Path, *, quick: bool = False) -> dict[str, Any]:
    start = time.perf_counter()
    kb = bundled()
    built = time.perf_counter() - start
    figures = evaluate(kb, repeat=3 if quick else 21)
    start = time.perf_counter()
    large = scaled(kb, 8)
    large_built = time.perf_counter() - start
    large_us = timed(large, 3 if quick else 11)
    print(f"  {len(kb.items)} articles, loaded and indexed in {built * 1000:.0f} ms")
    print(f"  {'language':<9}{'questions':>10}{'top-1':>8}{'top-3':>8}{'µs first':>10}{'µs again':>10}")
    for language, f in figures.items():
        print(f"  {language:<9}{f['questions']:>10}{f['top1']:>8.0%}{f['top3']:>8.0%}{f['us_first']:>10.0f}"
              f"{f['us_per_search']:>10.0f}")
    for language, f in figures.items():
        for miss in f["misses"]:
            print(f"  missed ({language}): {miss['question']!r} -> {miss['found']} (wanted {miss['expected']})")
    held_out = evaluate(kb, path=HELD_OUT)
    print("  held out (" + HELD_OUT.name + "): " + ", ".join(
        f"{language} {f['questions']} top-1 {f['top1']:.0%} top-3 {f['top3']:.0%}" for language, f in held_out.items()))
    for language, f in held_out.items():
        for miss in f["misses"]:
            print(f"  missed ({language}, held out): {miss['question']!r} -> {miss['found']} "
                  f"(wanted {miss['expected']})")
    print(f"  {len(large.items)} articles (the same, 8 times): indexed in {large_built * 1000:.0f} ms, "
          f"{large_us:.0f} µs a search")
    return {"articles": len(kb.items), "load_ms": built * 1000, "languages": figures, "held_out": held_out,
            "scaled": {"articles": len(large.items), "index_ms": large_built * 1000, "us_per_search": large_us}}
