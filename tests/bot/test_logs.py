"""What the log filters keep out: secrets (see tests/reliability/test_secrets.py for a full run)
and the body of a request refused for its signature."""

from __future__ import annotations

import logging
from urllib.parse import quote

from bot.logs import MESSAGE_LOGGERS, NoForgedBodies, RedactSecrets, secrets_of, setup_logging
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


def test_what_customers_type_is_not_logged_even_at_debug() -> None:
    """The messaging libraries log every message's text at DEBUG (a verification code typed in
    the chat too): they stay at INFO whatever LOG_LEVEL says."""
    root = logging.getLogger()
    saved = root.level, root.handlers[:], {n: logging.getLogger(n).level for n in MESSAGE_LOGGERS}
    try:
        setup_logging(Settings(_env_file=None, LOG_LEVEL="DEBUG"))  # type: ignore[call-arg]
        assert root.level == logging.DEBUG
        for name in ("telegram.ext.ExtBot", "slack_sdk.web.async_base_client", "slack_bolt.AsyncApp", "aioimaplib"):
            assert not logging.getLogger(name).isEnabledFor(logging.DEBUG), name
        assert logging.getLogger("core.chat").isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
