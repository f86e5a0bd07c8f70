"""The `helpdesk-bot` command line, run as a real subprocess."""

from __future__ import annotations

import os
import pty
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from core.domain.config import DEFAULT_CONFIG
from core.storage.migrate import head_revision


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    full_env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", **env})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=60,
        env=full_env, cwd=tmp_path, stdin=subprocess.DEVNULL,
    )


def test_every_command_has_help(tmp_path: Path) -> None:
    for args in (["--help"], ["run", "--help"], ["db", "--help"], ["db", "upgrade", "--help"],
                 ["check-config", "--help"]):
        result = _cli(tmp_path, *args)
        assert result.returncode == 0 and "usage: helpdesk-bot" in result.stdout, args


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    result = _cli(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert f"revision {head_revision()}" in result.stdout
    with sqlite3.connect(tmp_path / "h.db") as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
        assert {"tickets", "customers", "outbox", "drafts", "status_changes"} <= tables
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert _cli(tmp_path, "db", "upgrade").returncode == 0  # idempotent


def test_bad_settings_are_named(tmp_path: Path) -> None:
    result = _cli(tmp_path, "db", "upgrade", DEFAULT_LOCALE="de")
    assert result.returncode != 0
    assert "DEFAULT_LOCALE" in result.stderr and "en, fa, cs, ru, pt" in result.stderr


def test_broken_config_stops_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[lifecycle]\nreopen_window_days = -1\n", encoding="utf-8")
    result = _cli(tmp_path, "run", HELPDESK_CONFIG=str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "lifecycle.reopen_window_days" in result.stderr


def test_unknown_customer_zone_stops_start_up(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_CONFIG.read_text(encoding="utf-8").replace('ru = "Europe/Moscow"', 'ru = "Moscow"'),
                   encoding="utf-8")
    result = _cli(tmp_path, "run", HELPDESK_CONFIG=str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "timezones.ru: unknown time zone 'Moscow'" in result.stderr


def test_outbox_command(tmp_path: Path) -> None:
    assert _cli(tmp_path, "db", "upgrade").returncode == 0
    with sqlite3.connect(tmp_path / "h.db") as conn:
        conn.execute("insert into customers (platform, platform_user_id, chat_id, display_name, reachable, "
                     "created_at) values ('telegram', '1', '1', 'x', 0, '2026-11-20 10:00:00')")
        for status in ("pending", "dead", "dead", "sent"):
            conn.execute("insert into outbox (idempotency_key, platform, chat_id, customer_id, event, params, "
                         "status, attempts, next_attempt_at, created_at) values (?, 'telegram', '1', 1, "
                         "'escalated', '{}', ?, 3, '2026-11-20 10:00:00', '2026-11-20 10:00:00')",
                         (f"k-{status}-{id(status)}-{conn.total_changes}", status))
    result = _cli(tmp_path, "outbox")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[1].split() == ["telegram", "1", "0", "1", "2"]
    retried = _cli(tmp_path, "outbox", "--retry-dead")
    assert "2 dead letter(s) put back in line" in retried.stdout
    assert retried.stdout.split("\n")[2].split() == ["telegram", "3", "0", "1", "0"]
    with sqlite3.connect(tmp_path / "h.db") as conn:
        assert conn.execute("select reachable from customers").fetchone()[0] == 1


def test_report_command(tmp_path: Path) -> None:
    assert _cli(tmp_path, "db", "upgrade").returncode == 0
    text = _cli(tmp_path, "report", "--from", "2026-11-01", "--to", "2026-11-30")
    assert text.returncode == 0, text.stderr
    assert "Report for the period: November 1, 2026 – November 30, 2026" in text.stdout
    assert "Recurring subjects:" in text.stdout
    csv_out = _cli(tmp_path, "report", "--csv", "-")
    assert csv_out.stdout.startswith("section,department,metric,value")
    written = _cli(tmp_path, "report", "--csv", str(tmp_path / "r.csv"))
    assert written.returncode == 0 and (tmp_path / "r.csv").read_text().startswith("section,")
    bad = _cli(tmp_path, "report", "--from", "November")
    assert bad.returncode == 2 and "not a date" in bad.stderr
    backwards = _cli(tmp_path, "report", "--from", "2026-11-30", "--to", "2026-11-01")
    assert backwards.returncode == 2 and "--from is after --to" in backwards.stderr


def test_version_and_the_new_commands_have_help(tmp_path: Path) -> None:
    from bot import __version__

    result = _cli(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"helpdesk-bot {__version__}"
    for args in (["db", "current", "--help"], ["db", "downgrade", "--help"], ["db", "history", "--help"],
                 ["customer", "forget", "--help"]):
        result = _cli(tmp_path, *args)
        assert result.returncode == 0 and "usage: helpdesk-bot" in result.stdout, args


def test_db_current_upgrade_downgrade_history(tmp_path: Path) -> None:
    head = head_revision()
    assert "has no schema" in _cli(tmp_path, "db", "current").stdout
    assert _cli(tmp_path, "db", "upgrade", "0005").stdout.strip() == f"database is at revision 0005 (head is {head})"
    previous = f"{int(head) - 1:04d}"  # the revisions are numbered in order
    history = _cli(tmp_path, "db", "history").stdout.splitlines()
    assert history[0].startswith(f"{previous} -> {head} (head), ")
    assert "0004 -> 0005 (current), " in history[int(head) - 5]
    assert _cli(tmp_path, "db", "upgrade").stdout.strip() == f"database is at revision {head} (head)"
    assert _cli(tmp_path, "db", "downgrade", "-1").stdout.strip() == \
        f"database is at revision {previous} (head is {head})"
    bad = _cli(tmp_path, "db", "downgrade", "nonsense")
    assert bad.returncode == 1 and "nonsense" in bad.stderr and "Traceback" not in bad.stderr
    assert _cli(tmp_path, "db", "downgrade").returncode == 2  # the revision is required
    assert "has no schema" in _cli(tmp_path, "db", "downgrade", "base").stdout
    with sqlite3.connect(tmp_path / "h.db") as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type='table'")}
    assert tables <= {"alembic_version"}
    assert _cli(tmp_path, "db", "current").stdout.strip().startswith("database has no schema")


def _customer_with_a_ticket(tmp_path: Path) -> None:
    assert _cli(tmp_path, "db", "upgrade").returncode == 0
    with sqlite3.connect(tmp_path / "h.db") as conn:
        conn.execute("insert into customers (platform, platform_user_id, chat_id, display_name, locale, reachable, "
                     "created_at) values ('telegram', '42', '42', 'Jana', 'cs', 1, '2026-11-20 10:00:00')")
        conn.execute("insert into tickets (number, customer_id, department, request_type, priority, subject, "
                     "description, status, tier, created_at, updated_at, queue_rank, queue_hint_sent) values "
                     "(1001, 1, 'technical', 'bug', 'normal', 'Jana''s login', 'secret', 'new', 1, "
                     "'2026-11-20 10:00:00', '2026-11-20 10:00:00', '2026-11-20 10:00:00', 0)")


def _jana(tmp_path: Path) -> tuple[str, str]:
    with sqlite3.connect(tmp_path / "h.db") as conn:
        name = conn.execute("select display_name from customers").fetchone()[0]
        subject = conn.execute("select subject from tickets").fetchone()[0]
    return name, subject


def test_customer_forget_wants_a_yes(tmp_path: Path) -> None:
    _customer_with_a_ticket(tmp_path)
    refused = _cli(tmp_path, "customer", "forget", "telegram", "42")  # stdin is not a terminal
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert _jana(tmp_path) == ("Jana", "Jana's login")
    missing = _cli(tmp_path, "customer", "forget", "telegram", "99", "--yes")
    assert missing.returncode == 1 and "no customer telegram:99" in missing.stderr
    done = _cli(tmp_path, "customer", "forget", "telegram", "42", "--yes")
    assert done.returncode == 0, done.stderr
    assert "forgot customer telegram:42" in done.stdout
    assert re.search(r"tickets anonymised\s+1\b", done.stdout)
    assert _jana(tmp_path) == ("", "—")


def test_customer_forget_asks_on_a_terminal(tmp_path: Path) -> None:
    _customer_with_a_ticket(tmp_path)

    def answer(text: bytes) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
        env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
        master, slave = pty.openpty()
        try:
            proc = subprocess.Popen([sys.executable, "-m", "bot", "customer", "forget", "telegram", "42"],
                                    stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=env, cwd=tmp_path)
            os.write(master, text)
            out, err = proc.communicate(timeout=60)
        finally:
            os.close(slave)
            os.close(master)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    declined = answer(b"no\n")
    assert declined.returncode == 2 and "Forget customer telegram:42" in declined.stdout
    assert "nothing changed" in declined.stdout and _jana(tmp_path) == ("Jana", "Jana's login")
    accepted = answer(b"yes\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "forgot customer telegram:42" in accepted.stdout and _jana(tmp_path) == ("", "—")


def test_org_command(tmp_path: Path) -> None:
    assert _cli(tmp_path, "org", "--help").returncode == 0
    listed = _cli(tmp_path, "org")
    assert listed.returncode == 0 and "No organisations yet" in listed.stdout
    made = _cli(tmp_path, "org", "new", "Acme Corp", "everybody")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("Organisation Acme Corp created; sharing: everybody")
    assert _cli(tmp_path, "org", "Acme Corp", "domain", "add", "acme.com").returncode == 0
    added = _cli(tmp_path, "org", "acme corp", "member", "add", "boss@gmail.com", "primary")
    assert added.stdout.strip() == "boss@gmail.com now belongs to Acme Corp (role: primary contact)."
    shown = _cli(tmp_path, "org", "Acme Corp")
    assert shown.returncode == 0
    assert shown.stdout.split("\n")[:5] == ["Acme Corp", "Sharing: everybody (every member sees all the "
                                            "organisation's tickets)", "Colleagues who see a ticket may only read it.",
                                            "Domains: acme.com", "Members added: 1"]
    assert "Acme Corp — sharing: everybody; domains: acme.com; members: 1; tickets: 0" in _cli(tmp_path, "org").stdout
    for args, said in ((["org", "Nowhere"], "There is no organisation “Nowhere”."),
                       (["org", "Acme Corp", "member", "add", "nobody"], "“nobody” is not a mail address."),
                       (["org", "Acme Corp", "sharing", "open"], "“open” is not a sharing mode."),
                       (["org", "new"], "Name the organisation, for example: helpdesk-bot org new Acme Corp"),
                       (["org", "Acme Corp", "dance"], "Not understood: “dance”."),
                       (["report", "--organisation", "Nowhere"], "There is no organisation “Nowhere”.")):
        refused = _cli(tmp_path, *args)
        assert refused.returncode == 1 and said in refused.stderr and not refused.stdout, args
    report = _cli(tmp_path, "report", "--organisation", "acme corp")
    assert report.returncode == 0 and "Only the tickets of the organisation Acme Corp" in report.stdout
    assert "period,*,organisation,Acme Corp" in _cli(tmp_path, "report", "--organisation", "Acme Corp",
                                                     "--csv", "-").stdout
    deleted = _cli(tmp_path, "org", "Acme Corp", "delete")
    assert deleted.returncode == 0 and "Organisation Acme Corp deleted" in deleted.stdout
    assert "No organisations yet" in _cli(tmp_path, "org").stdout


def test_time_export(tmp_path: Path) -> None:
    _customer_with_a_ticket(tmp_path)
    with sqlite3.connect(tmp_path / "h.db") as conn:
        conn.execute("insert into agents (platform, platform_user_id, display_name, locale, created_at) values "
                     "('slack', 'U1', 'Eva', 'en', '2026-11-20 10:00:00')")
        for minutes, activity, note, at in ((25, "investigation", "checked the logs, twice", "2026-11-20 11:00:00"),
                                            (90, "", "", "2026-11-21 09:30:00"),
                                            (5, "communication", "", "2026-12-02 09:00:00")):
            conn.execute("insert into time_entries (ticket_id, agent_id, minutes, activity, note, at) "
                         "values (1, 1, ?, ?, ?, ?)", (minutes, activity, note, at))
    out = _cli(tmp_path, "time-export", "--from", "2026-11-01", "--to", "2026-11-30")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["date,agent,ticket,activity,minutes,note",
                                       '2026-11-20,Eva,1001,investigation,25,"checked the logs, twice"',
                                       "2026-11-21,Eva,1001,,90,"]
    written = _cli(tmp_path, "time-export", "--from", "2026-12-01", "--to", "2026-12-31", "--csv",
                   str(tmp_path / "t.csv"))
    assert written.returncode == 0 and "1 time entries written" in written.stdout
    assert (tmp_path / "t.csv").read_text().splitlines()[1] == "2026-12-02,Eva,1001,communication,5,"
    backwards = _cli(tmp_path, "time-export", "--from", "2026-11-30", "--to", "2026-11-01")
    assert backwards.returncode == 2 and "--from is after --to" in backwards.stderr
    assert "date, agent, ticket, activity, minutes, note" in _cli(tmp_path, "time-export", "--help").stdout


def test_report_counts_quotes(tmp_path: Path) -> None:
    _customer_with_a_ticket(tmp_path)
    with sqlite3.connect(tmp_path / "h.db") as conn:
        conn.execute("insert into agents (platform, platform_user_id, display_name, locale, created_at) values "
                     "('slack', 'U1', 'Eva', 'en', '2026-11-20 10:00:00')")
        for minutes, amount, currency, state, decided in ((None, 150000, "CZK", "approved", "2026-11-21 10:00:00"),
                                                          (180, None, None, "approved", "2026-11-22 10:00:00"),
                                                          (60, None, None, "declined", "2026-11-22 11:00:00"),
                                                          (60, None, None, "pending", None)):
            conn.execute("insert into quotes (ticket_id, agent_id, minutes, amount, currency, note, state, "
                         "created_at, decided_at) values (1, 1, ?, ?, ?, '', ?, '2026-11-20 11:00:00', ?)",
                         (minutes, amount, currency, state, decided))
    text = _cli(tmp_path, "report", "--from", "2026-11-01", "--to", "2026-11-30")
    assert text.returncode == 0, text.stderr
    assert "Quotes: sent 4, approved 2, declined 1, awaiting approval now 1" in text.stdout
    assert "Approved: 3 hr, CZK1,500.00" in text.stdout
    rows = _cli(tmp_path, "report", "--from", "2026-11-01", "--to", "2026-11-30", "--csv", "-").stdout.splitlines()
    assert {"quotes,*,sent,4", "quotes,*,approved,2", "quotes,*,declined,1", "quotes,*,pending_now,1",
            "quotes,*,approved_minutes,180", "quotes_approved_minor_units,*,CZK,150000"} <= set(rows)
