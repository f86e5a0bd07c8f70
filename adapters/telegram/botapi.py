"""What sets apart the messengers that speak the Telegram Bot API (Telegram itself, Bale): the
customer-side adapter is written once and takes one of these, so that a second such messenger
is a BotApi value rather than a copy of the adapter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BotApi:
    name: str  # the platform: customers' identities (`<name>:<id>`), the inbound log, the outbox
    title: str  # as operators read it in start-up errors ("the Telegram Bot API")
    setting: str  # the prefix of its settings: `<setting>_BOT_TOKEN`, `<setting>_API_URL`
    token_from: str  # where an operator gets a token, for the start-up error
    html: bool = True  # messages sent as HTML (else as plain text, no parse_mode)
    command_menu: bool = True  # setMyCommands exists: the commands are registered per language
    webhook: bool = True  # setWebhook takes a secret_token, sent back in a header
    # The update types asked for (None: the parameter is left out, the server's own default).
    # Telegram's include edits: an agent's edit of a message in a desk topic is answered.
    allowed_updates: list[str] | None = field(default_factory=lambda: ["message", "edited_message",
                                                                       "callback_query"])
    # The language assumed for a user whose updates carry no language_code (None: the default).
    language: str | None = None
    # A getUpdates answer given the fields python-telegram-bot requires and this messenger's
    # updates lack (one it still cannot read is skipped by the poller, so never handled).
    completed: Callable[[bytes], bytes] | None = None
    # Its limits, as [delivery] `<name>_...` keys override them.
    pace: dict[str, float] = field(default_factory=lambda: {
        "chat_interval_seconds": 1.0,  # one message a second per chat
        "group_interval_seconds": 3.0,  # 20 a minute per group
        "global_per_second": 30.0,  # per process
    })


TELEGRAM = BotApi("telegram", "Telegram", "TELEGRAM", "@BotFather")
