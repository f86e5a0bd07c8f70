"""The configuration's problems said as the file spells its keys, one line each."""

from __future__ import annotations

from calendar import day_name
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.domain.schedule import WEEKDAYS


def describe(file: Path, exc: ValidationError, data: Any, sections: list[str]) -> str:
    """Every problem of a configuration file, one line each, by the key as the file spells it, in
    the file's order (`sections`: its top-level keys as the model lists them)."""

    def position(err: Any) -> tuple[int, int]:  # in the file's order: section, then item
        loc = err["loc"]
        section = sections.index(loc[0]) if loc and loc[0] in sections else len(sections)
        return section, loc[1] if len(loc) > 1 and isinstance(loc[1], int) else -1

    lines = [f"{file}: {exc.error_count()} problem(s) in the configuration:"]
    for err in sorted(exc.errors(), key=position):
        key = _key(err["loc"], data)
        kind = err["type"]
        if kind == "extra_forbidden":
            problem = "unknown key"
        elif kind == "missing":
            problem = "required key is missing"
        else:
            problem = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"  {key or '(top level)'}: {problem}")
    return "\n".join(lines)


def _key(loc: tuple[int | str, ...], data: Any) -> str:
    """The dotted key of a problem as the file spells it: a list item by its code
    (`departments.billing`), a weekday by its key and name (`hours.tue (Tuesday)`)."""
    parts: list[str] = []
    node = data
    for part in _as_written(loc):
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            code = item.get("code") if isinstance(item, dict) else None
            parts.append(code if isinstance(code, str) and code else f"[{part}]")
        elif part in ("tuple[str, str]", "list[tuple[str, str]]"):
            continue
        else:
            item = node.get(part) if isinstance(node, dict) else None
            if parts and parts[-1] == "hours" and part in WEEKDAYS:
                part = f"{part} ({day_name[WEEKDAYS.index(part)]})"
            parts.append(str(part))
        node = item
    return ".".join(parts).replace(".[", "[")


def _as_written(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """A channel's key as the file writes it: `delivery.channels.<channel>.<key>` is
    `<channel>_<key>` in [delivery], `departments[0].desks.<channel>` is `<channel>_channel`."""
    out: list[int | str] = []
    rest = list(loc)
    while rest:
        part = rest.pop(0)
        if part == "channels" and out == ["delivery"] and rest:
            channel = rest.pop(0)
            out.append(f"{channel}_{rest.pop(0)}" if rest else str(channel))
        elif part == "desks" and len(out) == 2 and out[0] == "departments" and rest:
            out.append(f"{rest.pop(0)}_channel")
        else:
            out.append(part)
    return tuple(out)
