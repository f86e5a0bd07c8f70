"""The layers hold: core names no platform and imports no platform library; no module is long;
no private name (`_name`) is used outside the module that defines it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_LIBRARIES = ("telegram", "slack_bolt", "slack_sdk", "aioimaplib", "aiosmtplib", "imaplib", "smtplib")
MIGRATIONS = ROOT / "core" / "storage" / "migrations" / "versions"
_PLATFORMS = r"telegram|slack|e-?mail|imap|smtp"
PLATFORM_WORD = re.compile(_PLATFORMS, re.IGNORECASE)
QUOTED = re.compile(rf"""(["'])[^"'\n]*({_PLATFORMS})[^"'\n]*\1""", re.IGNORECASE)
MAX_LINES = 400


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
    """Not in a string literal, and not quoted in a comment either (docstrings may explain).
    Migrations are the exception: they record the data of their time, which names platforms."""
    offenders = []
    for path in _modules("core"):
        if MIGRATIONS in path.parents:
            continue
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
    assert long == {}


def _private(name: str) -> bool:
    # `_` alone is gettext's (a Translator's method), by convention everywhere.
    return name.startswith("_") and not name.startswith("__") and name != "_"


def _defined_private(tree: ast.AST) -> set[str]:
    """The private names a module defines: functions, classes, variables, attributes, arguments."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if _private(n)}


def _private_uses(source: str) -> list[str]:
    tree = ast.parse(source)
    own = _defined_private(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found += [f"line {node.lineno}: imports {a.name} from {node.module}" for a in node.names
                      if _private(a.name)]
        elif isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
            found.append(f"line {node.lineno}: uses .{node.attr}, defined elsewhere")
    return found


def test_no_private_name_crosses_a_module() -> None:
    offenders = {str(p.relative_to(ROOT)): uses for p in _modules("bot", "adapters", "core")
                 if (uses := _private_uses(p.read_text(encoding="utf-8")))}
    assert offenders == {}


def test_the_private_name_check_sees_what_it_looks_for() -> None:
    assert len(_private_uses("from m import _hidden\n\ndef f(o):\n    return o._other\n")) == 2
    assert _private_uses("class A:\n    def _own(self):\n        return self._own\n") == []
