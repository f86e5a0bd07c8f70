"""The TOML configuration: the bundled default, and each kind of mistake named precisely."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.domain.config import DEFAULT_CONFIG, LANGUAGES, ConfigError, load_config

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


def test_each_department_offers_its_request_types() -> None:
    config = load_config()
    assert [rt.code for rt in config.request_types_of("billing")] == ["consultation", "change"]
    assert "bug_critical" not in [rt.code for rt in config.request_types_of("sales")]
    assert [rt.code for rt in config.request_types_of("feedback")] == ["feedback"]
    every = [rt.code for rt in config.request_types]
    unlisted = config.model_copy(update={"departments": [config.departments[1].model_copy(
        update={"request_types": None})]})
    assert [rt.code for rt in unlisted.request_types_of("billing")] == every  # no list: every type


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('reopen_window_days = 7', 'reopen_window_days = 7\ncolour = "red"', "lifecycle.colour: unknown key"),
        (', pt = "Suporte técnico" }', ' }', "departments.technical.name.pt: required key is missing"),
        ('timezone = "Asia/Tehran"', 'timezone = "Asia/Teheran"', "calendars.iran.timezone: unknown time zone 'Asia/Teheran'"),
        ('country = "IR"', 'country = "XX"', "calendars.iran.country: no holiday calendar"),
        ('hours.thu = [["09:00", "13:00"]]', 'hours.thu = [["13:00", "09:00"]]', "calendars.iran.hours.thu (Thursday): range 13:00-09:00 ends before it starts"),
        ('calendar = "office"\nrequest_types = ["change", "bug_critical"', 'calendar = "mars"\nrequest_types = ["change", "bug_critical"', "departments.technical.calendar: unknown calendar 'mars'"),
        ('default_priority = "low"\n\n[[request_types]]\ncode = "bug_critical"', 'default_priority = "lowest"\n\n[[request_types]]\ncode = "bug_critical"', "request_types.change.default_priority: unknown priority 'lowest'"),
        ('code = "sales"', 'code = "billing"', "departments.billing.code: duplicate code 'billing'"),
        ("[delivery]\n", '[delivery]\ntelegram_chat_interval_seconds = "fast"\n',
         "delivery.telegram_chat_interval_seconds: Input should be a valid number"),
        ('code = "technical"\n', 'code = "technical"\nslack_channel = 5\n',
         "departments.technical.slack_channel: Input should be a valid string"),
        ('request_types = ["consultation", "change"]', 'request_types = ["consultation", "bug_critcal"]',
         "departments.billing.request_types[1]: unknown request type 'bug_critcal'"),
        ('request_types = ["consultation", "change"]', 'request_types = ["change", "change"]',
         "departments.billing.request_types[1]: request type 'change' listed twice"),
        ('request_types = ["consultation", "change"]', 'request_types = []',
         "departments.billing.request_types: List should have at least 1 item"),
        ('fa = "Asia/Tehran"', 'fa = "Asia/Teheran"', "timezones.fa: unknown time zone 'Asia/Teheran'"),
        ('ru = "Europe/Moscow"', 'ru = "Europe/Moscow"\nxx = "UTC"', "timezones.xx: unknown key"),
    ],
    ids=["unknown-key", "missing-language", "unknown-zone", "unknown-country", "bad-range",
         "unknown-calendar", "unknown-priority", "duplicate", "channel-pace", "channel-desk",
         "unknown-request-type", "request-type-twice", "no-request-type", "unknown-customer-zone",
         "customer-zone-language"],
)
def test_broken_config_names_file_key_and_problem(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in BASE
    path = _write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_every_problem_of_a_file_in_one_pass(tmp_path: Path) -> None:
    """Problems of every kind at once: field errors, references, duplicates, a weekday's hours."""
    broken = BASE
    for old, new in [
        ('reopen_window_days = 7', 'reopen_window_days = -7'),
        (', pt = "Suporte técnico" }', ' }'),
        ('hours.thu = [["09:00", "13:00"]]', 'hours.thu = [["13:00", "09:00"]]'),
        ('hours.tue = [["09:00", "17:00"]]', 'hours.tue = [["09:00", "17:00"], ["16:00", "18:00"]]'),
        ('calendar = "office"', 'calendar = "mars"'),
        ('default_priority = "low"', 'default_priority = "lowest"'),
        ('code = "sales"', 'code = "billing"'),
    ]:
        assert old in broken
        broken = broken.replace(old, new, 1)
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, broken))
    lines = str(info.value).splitlines()
    assert lines[0].endswith(": 7 problem(s) in the configuration:")
    assert [line.strip() for line in lines[1:]] == [
        "lifecycle.reopen_window_days: Input should be greater than or equal to 0",
        "calendars.office.hours.tue (Tuesday): range 16:00-18:00 overlaps or precedes the one before it",
        "calendars.iran.hours.thu (Thursday): range 13:00-09:00 ends before it starts",
        "request_types.change.default_priority: unknown priority 'lowest'",
        "departments.technical.name.pt: required key is missing",
        "departments.technical.calendar: unknown calendar 'mars'",
        "departments.billing.code: duplicate code 'billing'",
    ]


def test_items_without_a_usable_code_are_named_by_position(tmp_path: Path) -> None:
    broken = BASE.replace('code = "technical"', 'kode = "technical"', 1)
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, broken))
    message = str(info.value)
    assert "departments[0].code: required key is missing" in message
    assert "departments[0].kode: unknown key" in message


def test_unknown_weekday_is_named(tmp_path: Path) -> None:
    broken = BASE.replace('hours.fri = [["09:00", "17:00"]]', 'hours.friday = [["09:00", "17:00"]]', 1)
    with pytest.raises(ConfigError, match=r"calendars\.office\.hours: unknown weekday 'friday'; use mon, tue"):
        load_config(_write(tmp_path, broken))


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


def test_customer_zones_per_language_are_optional(tmp_path: Path) -> None:
    assert load_config().timezones.of("fa") == "Asia/Tehran"
    start = BASE.index("[timezones]")
    config = load_config(_write(tmp_path, BASE[:start] + BASE[BASE.index("[[priorities]]"):]))
    assert config.timezones.of("fa") is None and config.timezones.of(None) is None
