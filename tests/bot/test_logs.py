"""What the log filters keep out: secrets (see tests/reliability/test_secrets.py for a full run)
and the body of a request refused for its signature."""

from __future__ import annotations

import logging
from urllib.parse import quote

from bot.logs import NoForgedBodies, RedactSecrets, secrets_of
from bot.settings import Settings


def _record(name: str, msg: str) -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, msg, None, None)


def test_a_forged_requests_body_is_not_logged() -> None:
    record = _record("slack_bolt.AsyncApp", "Invalid request signature detected (signature: v0=1, "
                     "timestamp: 1, body: token=x&text=a%20stranger%27s%20message)")
    assert NoForgedBodies().filter(record)
    assert "stranger" not in record.getMessage() and "body not logged" in record.getMessage()


def test_other_lines_pass_unchanged() -> None:
    bolt = _record("slack_bolt.AsyncApp", "Unhandled request ({'type': 'event_callback'})")
    other = _record("adapters.slack", "Invalid request signature detected (body: kept)")
    for record, text in ((bolt, "Unhandled request ({'type': 'event_callback'})"),
                         (other, "Invalid request signature detected (body: kept)")):
        assert NoForgedBodies().filter(record) and record.getMessage() == text


def test_the_mail_servers_passwords_are_redacted() -> None:
    password = 'pa"ss/wo\\rd 1'
    url = f"imaps://support%40example.com:{quote(password, safe='')}@imap.example.com/INBOX"
    settings = Settings(EMAIL_IMAP_URL=url, EMAIL_SMTP_URL="smtp://relay.example.com:25")  # type: ignore[arg-type]
    redact = RedactSecrets(secrets_of(settings))
    for form in (url, quote(password, safe=""), password, 'pa\\"ss/wo\\\\rd 1'):
        record = _record("aioimaplib", f"Sending : LOGIN support@example.com {form} done")
        assert redact.filter(record)
        assert record.getMessage() == "Sending : LOGIN support@example.com *** done", form
    assert len(secrets_of(settings)) == 5  # the SMTP URL, with no password in it, is one
