"""The Mermaid diagram of the ticket form in the docs says what the form table (core.chat.form.FORM)
does: every state, every step's way forward, the way past a step that may be skipped. A step
added to the table and not to the diagram fails here."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from core.chat import form
from core.chat.form import FORM, Step

ROOT = Path(__file__).resolve().parents[3]
BLOCK = re.compile(r"```mermaid\n(stateDiagram-v2\n.*?)```", re.S)
EDGE = re.compile(r"^\s*(\S+)\s*-->\s*([^:\s]+)", re.M)
OUTSIDE = {"[*]", "language", "reply"}  # first contact, and the reply flow the duplicate leads to


def form_diagrams() -> list[tuple[Path, str]]:
    """The state diagrams of the form (those that go through its first step), in README and docs."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in BLOCK.findall(path.read_text(encoding="utf-8")):
            if re.search(rf"-->\s*{FORM[0].key}\b", block):
                found.append((path, block))
    return found


def disagreements(table: tuple[Step, ...], diagram: str) -> list[str]:
    """What the diagram lacks or has too many of, against the table."""
    edges = set(EDGE.findall(diagram))
    keys = [step.key for step in table]
    wanted = {("language", keys[0]), (keys[-1], form.REVIEW), (form.REVIEW, "[*]"),
              (form.SUBJECT, form.DUPLICATE), (form.DUPLICATE, "reply")}
    for i, step in enumerate(table):
        after = keys[i + 1] if i + 1 < len(keys) else form.REVIEW
        wanted.add((step.key, after))
        if step.fixed is not None or step.skip_when_given:  # the way past it
            wanted.add((keys[i - 1] if i else "language", after))
        if step.key == form.SUBJECT:
            wanted.add((form.DUPLICATE, after))
        if step.detour is not None and step.key in (form.SUBJECT, form.DESCRIPTION):  # the articles offered
            wanted |= {(step.key, form.DEFLECT), (form.DEFLECT, after), (form.DEFLECT, "[*]")}
            if step.fixed is None and i + 1 < len(table) and table[i + 1].fixed is not None:
                wanted.add((form.DEFLECT, keys[i + 2]))
            if step.key == form.SUBJECT:
                wanted.add((form.DUPLICATE, form.DEFLECT))
    problems = [f"missing: {a} --> {b}" for a, b in sorted(wanted - edges)]
    if not any(a == form.REVIEW and b in keys for a, b in edges):
        problems.append("missing: review --> a step (edit a field)")
    states = {s for edge in edges for s in edge} - OUTSIDE
    known = {*keys, form.REVIEW, form.DUPLICATE, form.DEFLECT}
    problems += [f"not a state of the form: {s}" for s in sorted(states - known)]
    problems += [f"state missing: {s}" for s in sorted(known - states)]
    edits = {(form.REVIEW, key) for key in keys}
    problems += [f"not a way of the form: {a} --> {b}" for a, b in sorted(edges - wanted - edits)
                 if a in known and b in known]
    return problems


def test_the_docs_diagram_matches_the_form_table() -> None:
    diagrams = form_diagrams()
    assert diagrams, "no Mermaid state diagram of the form found in README.md or docs/"
    for path, diagram in diagrams:
        assert disagreements(FORM, diagram) == [], path.name


def test_a_step_added_to_the_table_only_is_caught() -> None:
    (_, diagram), *_ = form_diagrams()
    extra = replace(FORM[2], key="environment", field="environment", detour=None)
    table = (*FORM[:3], extra, *FORM[3:])
    problems = disagreements(table, diagram)
    assert "state missing: environment" in problems
    assert "missing: environment --> priority" in problems and "missing: subject --> environment" in problems


def test_a_way_the_table_does_not_take_is_caught() -> None:
    (_, diagram), *_ = form_diagrams()
    stale = diagram.replace("stateDiagram-v2\n", "stateDiagram-v2\n    subject --> attachments\n", 1)
    assert disagreements(FORM, stale) == ["not a way of the form: subject --> attachments"]
