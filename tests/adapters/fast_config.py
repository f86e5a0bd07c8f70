"""The bundled configuration with notification pacing scaled down, so tests need not wait seconds."""

from __future__ import annotations

import re
from pathlib import Path

from core.domain.config import DEFAULT_CONFIG


def fast_config(directory: Path, *, chat: float = 0.05, group: float = 0.1, global_rate: float = 500,
                knowledge: bool = False) -> Path:
    """`knowledge`: with the bundled example articles, which the form offers after a subject that
    matches one (the bundled file names none)."""
    text = DEFAULT_CONFIG.read_text(encoding="utf-8")
    if knowledge:
        text, n = re.subn(r"^# folder = \"<bundled>\".*$", 'folder = "<bundled>"', text, flags=re.M)
        assert n == 1
    keys = "".join(f"{key} = {value}\n" for key, value in (
        ("telegram_chat_interval_seconds", chat), ("telegram_group_interval_seconds", group),
        ("telegram_global_per_second", global_rate), ("slack_channel_interval_seconds", chat),
        ("bale_chat_interval_seconds", chat), ("bale_global_per_second", global_rate)))
    text, n = re.subn(r"^\[delivery\]\n", lambda m: m.group(0) + keys, text, flags=re.M)
    assert n == 1
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "fast.toml"
    path.write_text(text, encoding="utf-8")
    return path
