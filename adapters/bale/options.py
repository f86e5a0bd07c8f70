"""Bale (بله), the messenger most customers in Iran can reach: a customer channel on the
Telegram adapter's code (its Bot API follows Telegram's), with what Bale does differently.

What differs (docs/how-it-works.md, "Bale", has the sources):
- no HTML (its formatting is a Markdown of its own): messages go as plain text;
- no setMyCommands: no command menu, the commands are typed (the help lists them);
- setWebhook takes no secret_token: updates are fetched by long polling only;
- getUpdates takes no allowed_updates: the server's default, every update type (those
  python-telegram-bot cannot read are skipped by the poller);
- users carry no language_code: Persian is assumed until the customer chooses;
- a callback query carries no chat_instance, which python-telegram-bot requires: filled in;
- its limits are not published: paced as Telegram's, a third slower overall.
"""

from __future__ import annotations

import json

from adapters.telegram.botapi import BotApi
from adapters.telegram.startup import pacing as bot_api_pacing
from core.delivery.contract import Pacing
from core.domain.config import Delivery, HelpdeskConfig


def completed(body: bytes) -> bytes:
    """A getUpdates answer with each callback query's chat_instance (which Bale's callback
    queries lack and python-telegram-bot requires; the adapter never reads it) filled in."""
    if b'"callback_query"' not in body:
        return body
    answer = json.loads(body)
    for update in answer.get("result") or []:
        query = update.get("callback_query") if isinstance(update, dict) else None
        if isinstance(query, dict):
            query.setdefault("chat_instance", "")
    return json.dumps(answer).encode()


BALE = BotApi(
    "bale", "Bale", "BALE", "@botfather in Bale", html=False, command_menu=False, webhook=False,
    allowed_updates=None, language="fa", completed=completed,
    pace={"chat_interval_seconds": 1.0, "group_interval_seconds": 3.0, "global_per_second": 20.0},
)


def pacing(delivery: Delivery) -> Pacing:
    """Bale's pace: its defaults, or [delivery] `bale_...` keys."""
    return bot_api_pacing(delivery, BALE)


def check_keys(config: HelpdeskConfig) -> None:
    """Bale's keys in the configuration: its pace (it serves no agents' desk)."""
    pacing(config.delivery)
