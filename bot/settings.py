"""Process settings from the environment or `.env` (names fixed in DESIGN.md)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.domain.config import LANGUAGES

# The asynchronous driver each supported database is used through; a URL naming the database
# alone (as PostgreSQL's own tools and hosting providers write it) gets it.
ASYNC_DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}
SCHEME_ALIASES = {"postgres": "postgresql"}
EXAMPLE_URLS = "postgresql://user:password@host:5432/database or sqlite:///path/to/file.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True,
        hide_input_in_errors=True,  # a DATABASE_URL may hold a password
    )

    database_url: str = Field("sqlite+aiosqlite:///./helpdesk.db", alias="DATABASE_URL")
    # PostgreSQL connections one process may open at most: N processes need N x this (plus a
    # few for the command line) within the server's max_connections.
    database_pool_size: int = Field(60, alias="DATABASE_POOL_SIZE", ge=2, le=1000)
    # Days sent notifications and handled platform events are kept; 0 keeps them for ever.
    retention_days: int = Field(30, alias="RETENTION_DAYS", ge=0)
    helpdesk_config: str | None = Field(None, alias="HELPDESK_CONFIG")
    default_locale: str = Field("en", alias="DEFAULT_LOCALE")
    http_host: str = Field("127.0.0.1", alias="HTTP_HOST")
    http_port: int = Field(8080, alias="HTTP_PORT")
    telegram_bot_token: SecretStr | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field("https://api.telegram.org", alias="TELEGRAM_API_URL")
    telegram_webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: SecretStr | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_desk_chat: str | None = Field(None, alias="TELEGRAM_DESK_CHAT")  # the agents' group with topics
    telegram_agent_users: str | None = Field(None, alias="TELEGRAM_AGENT_USERS")  # user ids beyond its members
    bale_bot_token: SecretStr | None = Field(None, alias="BALE_BOT_TOKEN")  # customers only, long polling
    bale_api_url: str = Field("https://tapi.bale.ai", alias="BALE_API_URL")
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    slack_agent_channel: str | None = Field(None, alias="SLACK_AGENT_CHANNEL")
    slack_agent_users: str | None = Field(None, alias="SLACK_AGENT_USERS")
    slack_agent_group: str | None = Field(None, alias="SLACK_AGENT_GROUP")
    email_address: str | None = Field(None, alias="EMAIL_ADDRESS")  # the support address, From of every mail
    email_name: str | None = Field(None, alias="EMAIL_NAME")  # the name shown with it
    email_imap_url: SecretStr | None = Field(None, alias="EMAIL_IMAP_URL")  # holds a password
    email_smtp_url: SecretStr | None = Field(None, alias="EMAIL_SMTP_URL")
    email_poll_seconds: float = Field(60.0, alias="EMAIL_POLL_SECONDS", gt=0, le=3600)
    attachments_dir: str = Field("./attachments", alias="ATTACHMENTS_DIR")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_format: str = Field("text", alias="LOG_FORMAT")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # The messages never quote the URL: it may hold a password.
        scheme, sep, rest = value.partition("://")
        backend, plus, driver = scheme.lower().partition("+")
        backend = SCHEME_ALIASES.get(backend, backend)
        if not sep or backend not in ASYNC_DRIVERS:
            unsupported = f"{scheme!r} is not supported: " if sep else ""
            raise ValueError(f"{unsupported}use {EXAMPLE_URLS}")
        expected = ASYNC_DRIVERS[backend]
        if plus and driver != expected:
            raise ValueError(f"the {driver!r} driver is not supported: use {backend}+{expected}:// "
                             f"or just {backend}://")
        url = f"{backend}+{expected}://{rest}"
        try:
            make_url(url)
        except (ArgumentError, ValueError):
            raise ValueError(f"not a database URL: use {EXAMPLE_URLS}") from None
        return url

    @field_validator("telegram_desk_chat")
    @classmethod
    def _group_id(cls, value: str | None) -> str | None:
        if value is not None and not value.strip().lstrip("-").isdigit():
            raise ValueError("must be the group's chat id, a number such as -1001234567890")
        return value.strip() if value is not None else None

    @field_validator("telegram_agent_users")
    @classmethod
    def _user_ids(cls, value: str | None) -> str | None:
        ids = [v.strip() for v in (value or "").split(",") if v.strip()]
        if any(not v.isdigit() for v in ids):
            raise ValueError("must be Telegram user ids (numbers), separated by commas")
        return ",".join(ids) or None

    @field_validator("email_address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        local, at, domain = value.rpartition("@")
        if not at or not local or "." not in domain or any(c.isspace() or c in "<>,;" for c in value):
            raise ValueError("must be the support address alone, such as support@example.com")
        return value

    @field_validator("log_format")
    @classmethod
    def _format(cls, value: str) -> str:
        value = value.lower()
        if value not in ("text", "json"):
            raise ValueError("must be text or json")
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None

    @property
    def bale_enabled(self) -> bool:
        return self.bale_bot_token is not None

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def email_enabled(self) -> bool:
        return any(v is not None for v in (self.email_address, self.email_imap_url, self.email_smtp_url))
