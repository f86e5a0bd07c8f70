"""The layers hold: core names no platform and imports no platform library; no module is long."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_LIBRARIES = ("telegram", "slack_bolt", "slack_sdk")
PLATFORM_WORD = re.compile(r"telegram|slack", re.IGNORECASE)
QUOTED = re.compile(r"""(["'])[^"'\n]*(telegram|slack)[^"'\n]*\1""", re.IGNORECASE)
MAX_LINES = 400
# Being split on other branches at the time of writing (the lead merges them): remove each
# name when its split lands, so that the check holds for every module.
PENDING_SPLIT = frozenset({"core/chat/engine.py"})


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_core_imports_no_platform_library() -> None:
    offenders = []
    for path in _modules("core"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno} imports {name}" for name in names
                          if name.split(".")[0] in PLATFORM_LIBRARIES]
    assert offenders == []


def test_core_holds_no_platform_name_in_a_string() -> None:
    """Not in a string literal, and not quoted in a comment either (docstrings may explain)."""
    offenders = []
    for path in _modules("core"):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        docs = _docstrings(tree)
        offenders += [f"{path.relative_to(ROOT)}:{node.lineno} {node.value[:60]!r}" for node in ast.walk(tree)
                      if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                      and PLATFORM_WORD.search(node.value)]
        offenders += [f"{path.relative_to(ROOT)}:{n} {line.strip()[:60]!r}"
                      for n, line in enumerate(source.splitlines(), 1)
                      if "#" in line and QUOTED.search(line.split("#", 1)[1])]
    assert offenders == []


def test_the_checks_see_what_they_look_for() -> None:
    tree = ast.parse('"""Telegram may be explained."""\nimport telegram.ext\nx = "Slack"\n')
    docs = _docstrings(tree)
    literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in docs]
    assert literals == ["Slack"] and PLATFORM_WORD.search(literals[0])
    assert QUOTED.search("# as the 'telegram' platform says") and not QUOTED.search("# as Telegram says")


def test_no_module_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules("bot", "adapters", "core")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long.keys() <= PENDING_SPLIT, long
