"""Logging set-up: configured secrets are redacted from every line, whoever logs it."""

from __future__ import annotations

import logging
from collections.abc import Iterable

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


def secrets_of(settings: Settings) -> list[str]:
    values = [settings.telegram_bot_token, settings.telegram_webhook_secret, settings.slack_bot_token,
              settings.slack_signing_secret, settings.slack_app_token]
    return [v.get_secret_value() for v in values if v is not None]


def setup_logging(settings: Settings, extra_secrets: Iterable[str] = ()) -> None:
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact = RedactSecrets([*secrets_of(settings), *extra_secrets])
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    # Request logs of the HTTP clients name every URL, Bot API tokens included.
    for noisy in ("httpx", "httpcore", "alembic", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
