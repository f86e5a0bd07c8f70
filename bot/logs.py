"""Logging set-up: configured secrets are redacted from every line, whoever logs it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from bot.settings import Settings


class RedactSecrets(logging.Filter):
    """Replaces each secret with *** in the formatted message and its arguments."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        redacted = self._redact(message)
        if redacted != message or record.exc_info:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
            # Bot API URLs and download paths carry the token percent-encoded too.
            text = text.replace(secret.replace(":", "%3A"), "***")
        return text


# Attributes every LogRecord has; anything else was passed in `extra` and goes into the JSON.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class NoForgedBodies(logging.Filter):
    """slack-bolt logs the whole body of a request whose signature is wrong, at INFO: a stranger's
    text in our logs. The fact is kept, the body is not."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("slack_bolt") and str(record.msg).startswith("Invalid request signature"):
            record.msg, record.args = "Invalid request signature detected (request refused, body not logged)", None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the `extra` fields
    (ticket, platform, ...). Message bodies are never logged at INFO by this code."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}",
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The plain format, with the `extra` fields appended as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD)
        return f"{text} {extra}" if extra else text


def secrets_of(settings: Settings) -> list[str]:
    values = [settings.telegram_bot_token, settings.telegram_webhook_secret, settings.bale_bot_token,
              settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token]
    secrets = [v.get_secret_value() for v in values if v is not None]
    if settings.telegram_bot_token is not None and settings.telegram_webhook_secret is None:
        # The webhook secret derived from the token guards /telegram/webhook just as a configured
        # one would, and python-telegram-bot logs setWebhook's parameters at DEBUG.
        from adapters.telegram.adapter import derive_webhook_secret

        secrets.append(derive_webhook_secret(settings.telegram_bot_token.get_secret_value()))
    for url in (settings.email_imap_url, settings.email_smtp_url):
        if url is not None:
            secrets += url_password(url.get_secret_value())
    return secrets


def url_password(url: str) -> list[str]:
    """The password inside a URL in the forms a line may hold it: the whole URL, as written
    there (percent-encoded), as typed, and escaped in an IMAP quoted string."""
    try:
        written = urlsplit(url.strip()).password or ""
    except ValueError:  # unreadable: its setting's check says so, and only the whole URL is known
        written = ""
    typed = unquote(written)
    escaped = typed.replace("\\", "\\\\").replace('"', '\\"')
    return [url, *(form for form in {written, typed, escaped} if form)]


def setup_logging(settings: Settings, extra_secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else
                         TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(NoForgedBodies())
    handler.addFilter(RedactSecrets([*secrets_of(settings), *extra_secrets]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # Request logs of the HTTP clients name every URL, Bot API tokens included.
    for noisy in ("httpx", "httpcore", "alembic", "aiohttp.access", "aiosqlite", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
