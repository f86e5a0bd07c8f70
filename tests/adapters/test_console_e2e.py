"""The console chat as a real subprocess: a ticket in each language, an agent, notifications."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.agents.handover import Questions, handover_form
from core.chat.notices import render
from core.domain.config import LANGUAGES
from core.i18n import translator
from tests.core.test_offered_languages import only

SCRIPT = [
    "/new",
    "1",  # Technical support
    "3",  # Bug report (non-critical)
    "Přihlášení / ورود / Вход",
    "2",  # Normal priority
    "The login page answers 500.",
    "1",  # no files
    "1",  # send
    "/agent queue",
    "/agent claim 1001",
    "/agent reply 1001 Which browser do you use?",
    "Firefox 133",
    "/agent status 1001 resolved",
    "/tickets",
]


def _run(tmp_path: Path, args: list[str], lines: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", ATTACHMENTS_DIR=str(tmp_path / "files"))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input="\n".join(lines) + "\n", capture_output=True,
        text=True, timeout=120, env=env, cwd=tmp_path,
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_ticket_and_notifications_in_each_language(tmp_path: Path, lang: str) -> None:
    result = _run(tmp_path, ["console", "--lang", lang], SCRIPT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    t = translator(lang)
    created = t._("Thank you! Your ticket {ticket} has been created. Our replies will arrive in this chat. "
                  "Expected first response by {when}.", ticket=t.ticket(1001), when="@@").split("@@")[0]
    assert created in out
    taken = render(t, "status_changed", {"number": 1001, "old": "new", "new": "accepted"}).text
    reply = render(t, "agent_reply", {"number": 1001, "body": "Which browser do you use?"}).text
    resolved = render(t, "status_changed", {"number": 1001, "old": "accepted", "new": "resolved"}).text
    for notification in (taken, reply, resolved):
        assert "🔔 " + notification in out
    assert out.index(taken) < out.index(reply) < out.index(resolved)
    if lang != "en":
        english = translator("en")
        assert render(english, "status_changed", {"number": 1001, "old": "accepted", "new": "resolved"}).text not in out
        assert "Which department should handle your request?" not in out


def test_run_without_tokens_starts_the_console(tmp_path: Path) -> None:
    result = _run(tmp_path, ["run"], ["/start", "2"])
    assert result.returncode == 0, result.stderr
    assert "console chat" in result.stderr
    assert "Please choose your language." in result.stdout


def test_console_survives_a_restart_mid_form(tmp_path: Path) -> None:
    first = _run(tmp_path, ["console", "--lang", "cs"], ["/new", "2", "1", "Faktura za listopad"])
    assert first.returncode == 0
    second = _run(tmp_path, ["console", "--lang", "cs"], ["1", "2", "Chybí mi faktura.", "1", "1"])
    assert second.returncode == 0
    assert "#1001" in second.stdout and "Faktura za listopad" in second.stdout


def test_the_console_offers_the_configured_languages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "helpdesk.toml").write_text(only(["fa", "cs"]), encoding="utf-8")
    monkeypatch.setenv("HELPDESK_CONFIG", str(tmp_path / "helpdesk.toml"))
    result = _run(tmp_path, ["console"], ["/start", "2"])
    refused = _run(tmp_path, ["console", "--lang", "ru"], ["/start"])
    assert result.returncode == 0, result.stderr
    welcome = "Hello! This is the support desk. We will open a ticket for your request and keep you informed here."
    fa, cs = translator("fa"), translator("cs")
    out = result.stdout
    assert out.index(fa._(welcome)) < out.index(fa._("Please choose your language.")) < out.index(cs._(welcome))
    assert "Русский" not in out and "English" not in out and "فارسی" in out and "Čeština" in out
    assert refused.returncode == 2 and "--lang ru: this help desk offers fa, cs" in refused.stderr


def test_the_agent_side_and_the_help_speak_the_language_the_customer_chose(tmp_path: Path) -> None:
    # No --lang: the customer picks Russian (the fourth language) in the chat, and the agent's
    # commands answer in it from then on.
    result = _run(tmp_path, ["console"], ["4", "/help", "/agent frobnicate", "/agent claim 1001 now",
                                          "/file missing.png"])
    assert result.returncode == 0, result.stderr
    out, t = result.stdout, translator("ru")
    for command, text in (("/file PATH", t._("attach a file from this computer, by its path")),
                          ("/agent help", t._("use the agents' commands (act as an agent)"))):
        assert f"{command} — {text}" in out
    assert t._("Unknown agent command: {command}", command="frobnicate") in out
    assert any(line.startswith("/agent claim 1042 ") and line.endswith(f"— {t._('take a ticket')}")
               for line in out.splitlines())
    assert t._("Unexpected words after the command: “{extra}”. Usage: {usage}",
               extra="now", usage="/agent claim 1042") in out
    assert t._("The file {path} cannot be read: {reason}.", path="missing.png", reason="@@").split("@@")[0] in out
    assert "Unknown agent command" not in out and "take a ticket" not in out


def test_the_agent_manages_organisations_in_the_console(tmp_path: Path) -> None:
    result = _run(tmp_path, ["console", "--lang", "en"], [
        '/agent org new "Acme Corp" everybody', "/agent org “Acme Corp” domain add acme.com",
        '/agent org "Acme Corp" member add ana@gmail.com primary', "/agent org", "/agent org Nowhere"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Organisation Acme Corp created; sharing: everybody" in out
    assert "Every address at acme.com now belongs to Acme Corp." in out
    assert "ana@gmail.com now belongs to Acme Corp (role: primary contact)." in out
    assert "Organisations:\nAcme Corp — sharing: everybody; domains: acme.com; members: 1; tickets: 0" in out
    assert "There is no organisation “Nowhere”." in out


def test_the_agent_logs_time_in_the_console(tmp_path: Path) -> None:
    result = _run(tmp_path, ["console", "--lang", "en"], [
        *SCRIPT[:8], "/agent time 1001 25m investigation checked the logs", "/agent time 1001 1h30",
        "/agent time fix 2 40m", "/agent time 1001", "/agent time 1001 0", "/agent time 1001 25m dancing",
        "/agent time delete 1", "/agent time 1001", "/agent show 1001"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Logged 25 min on ticket #1001 (entry 1, Investigation)." in out
    assert "Entry 2 on ticket #1001 is now 40 min." in out
    assert "1 · " in out and " · 25 min · Investigation · checked the logs" in out
    assert "Total: 1 hr 5 min" in out
    assert "Log from 1 minute to 24 hours at a time." in out
    assert ("There is no activity “dancing”. Use one of: investigation, communication, development, "
            "or - for none.") in out
    assert "Entry 1 on ticket #1001 deleted." in out
    assert out.rindex("Total: 40 min") > out.index("Total: 1 hr 5 min")


def test_resolving_in_the_console_asks_the_time_spent(tmp_path: Path) -> None:
    result = _run(tmp_path, ["console", "--lang", "en"], [
        *SCRIPT[:8], "/agent claim 1001", "/agent status 1001 resolved", "soon", "1h30",
        "/agent status 1001 accepted", "/agent status 1001 resolved", "", "/agent time 1001",
        "/agent status 1001 accepted", "/agent status 1001 resolved", "/agent time 1001"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert ("Ticket #1001 is now Resolved, awaiting confirmation.\n"
            "Time spent on ticket #1001? (25m, Enter to skip)") in out
    assert ("“soon” is not a duration. Write it as 25m, 1h30, 1:30 or in minutes (90).\n"
            "Time spent on ticket #1001? (25m, Enter to skip)") in out
    assert "Logged 1 hr 30 min on ticket #1001 (entry 1, —)." in out
    assert "Time spent on ticket #1001? 1 hr 30 min logged so far. (25m, Enter to skip)" in out
    assert "No time logged on ticket #1001." in out  # Enter: skipped
    assert out.count("Total: 1 hr 30 min") == 2  # a command instead of an answer logs nothing either
def test_a_quote_is_approved_in_the_console_before_time_is_logged(tmp_path: Path) -> None:
    result = _run(tmp_path, ["console", "--lang", "en"], [
        *SCRIPT[:8], "/agent claim 1001", "/agent quote 1001 3h two more columns", "/agent time 1001 25m",
        "/ticket 1001", "1", "/agent time 1001 25m", "/agent quote 1001", "/agent show 1001"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Quote sent to the customer of ticket #1001: 3 hr. The ticket awaits their approval." in out
    assert "🔔 The work on ticket #1001 is paid. Our team's quote: 3 hr of work." in out
    assert "two more columns" in out and "[1] Approve" in out and "[2] Decline" in out
    refused = out.index("Ticket #1001 has been awaiting the customer's approval of a quote since")
    assert "no work can be logged on it until they approve it." in out
    assert out.index("Quote: 3 hr of work, awaiting your approval.") > refused  # /ticket shows it, with the buttons
    approved = out.index("Thank you: you approved the quote for ticket #1001 (3 hr of work). We are starting the "
                         "work.")
    assert out.index("Logged 25 min on ticket #1001") > approved
    assert "3 hr, approved by Console user on" in out  # `quote 1001`, and the card of `show`
def test_the_agent_hands_a_ticket_over_to_l3_in_the_console(tmp_path: Path) -> None:
    t = translator("cs")
    result = _run(tmp_path, ["console", "--lang", "cs"], [
        *SCRIPT[:8], "/agent escalate 1001", "/agent escalate 1001", "",  # an empty first answer cancels
        "/agent escalate 1001", "Logy serveru, mezipaměť", "   ", "Přihlásit se jako ana@acme.cz",
        "Že se na to dnes podívá specialista", "/agent show 1001", "/agent escalate 1001"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    form = handover_form(t, 1001, 3, "/agent ")
    asking = Questions(form)
    assert out.count(asking.start(t, "/cancel")) == 2
    assert t._("Escalation cancelled: ticket {ticket} stays at L{tier}.", ticket=t.ticket(1001), tier=2) in out
    assert t._("Fill in “{field}”.", field=form.fields[1].label) + "\n" + asking.answered("x").question() in out
    assert t._("Ticket {ticket} is now at level L{tier}.", ticket=t.ticket(1001), tier=3) in out
    told = t._("Ticket {ticket} has been passed to our specialist team (level {tier}), who will look into it in "
               "depth. The agent who has been handling it remains your contact, and we will write to you "
               "here about every step.", ticket=t.ticket(1001), tier=t.number(3))
    assert "🔔 " + told in out
    assert t._("Hand-over to L{tier} by {name}:", tier=3, name="Console agent") in out
    assert f"{form.fields[1].label}: Přihlásit se jako ana@acme.cz" in out
    assert t._("Ticket #{number} is already at L3.", number=1001) in out


def test_a_command_typed_during_the_hand_over_questions_leaves_them_and_runs(tmp_path: Path) -> None:
    """Only /cancel answers the questions; another command leaves them (said, with the answers typed
    so far in the one-line form) and runs: it is never taken as a field of the hand-over."""
    t = translator("en")
    result = _run(tmp_path, ["console", "--lang", "en"], [
        *SCRIPT[:8], "/agent escalate 1001", "/agent escalate 1001", "Login as ana", "/agent show 1001",
        "A specialist looks today"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "What was checked: /agent show 1001" not in out
    assert t._("The hand-over was left unfinished: ticket {ticket} stays at L{tier}. To escalate it later, "
               "write: {example}", ticket=t.ticket(1001), tier=2,
               example="/agent escalate 1001 checked: Login as ana | reproduce: … | told: …") in out
    assert out.index("stays at L2. To escalate it later") < out.index("[System] Escalated to L2.")  # `show` ran
    assert t._("Ticket {ticket} is now at level L{tier}.", ticket=t.ticket(1001), tier=3) not in out
