"""The TOML configuration: the bundled default, and each kind of mistake named precisely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.config import DEFAULT_CONFIG, LANGUAGES, ConfigError, load_config

BASE = DEFAULT_CONFIG.read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "helpdesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_has_the_expected_departments_in_every_language() -> None:
    config = load_config()
    assert [d.code for d in config.departments] == ["technical", "billing", "sales", "feedback"]
    for item in [*config.departments, *config.request_types, *config.priorities]:
        for lang in LANGUAGES:
            assert item.name.get(lang)
    critical = config.request_type("bug_critical")
    assert critical is not None and critical.fixed_priority and critical.default_priority == "urgent"
    change = config.request_type("change")
    assert change is not None and change.default_priority == "low"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('reopen_window_days = 7', 'reopen_window_days = 7\ncolour = "red"', "lifecycle.colour: unknown key"),
        (', pt = "Suporte técnico" }', ' }', "departments[0].name.pt: required key is missing"),
        ('timezone = "Asia/Tehran"', 'timezone = "Asia/Teheran"', "calendars.iran.timezone: unknown time zone 'Asia/Teheran'"),
        ('country = "IR"', 'country = "XX"', "calendars.iran.country: no holiday calendar"),
        ('hours.thu = [["09:00", "13:00"]]', 'hours.thu = [["13:00", "09:00"]]', "calendars.iran.hours: range 13:00-09:00 ends before it starts"),
        ('calendar = "office"\n\n[[departments]]\ncode = "billing"', 'calendar = "mars"\n\n[[departments]]\ncode = "billing"', "departments[0].calendar: unknown calendar 'mars'"),
        ('default_priority = "low"\n\n[[request_types]]\ncode = "bug_critical"', 'default_priority = "lowest"\n\n[[request_types]]\ncode = "bug_critical"', "request_types[0].default_priority: unknown priority 'lowest'"),
        ('code = "sales"', 'code = "billing"', "departments: duplicate code 'billing'"),
    ],
    ids=["unknown-key", "missing-language", "unknown-zone", "unknown-country", "bad-range",
         "unknown-calendar", "unknown-priority", "duplicate"],
)
def test_broken_config_names_file_key_and_problem(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in BASE
    path = _write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "departments = ["))
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=60, env=env,
    )


def test_check_config_command(tmp_path: Path) -> None:
    ok = _cli("check-config")
    assert ok.returncode == 0 and "OK (4 departments" in ok.stdout
    broken = _write(tmp_path, BASE.replace("auto_close_days = 5", "auto_close_dayz = 5"))
    bad = _cli("check-config", str(broken))
    assert bad.returncode == 2
    assert str(broken) in bad.stderr and "lifecycle.auto_close_dayz: unknown key" in bad.stderr
