"""A fake Bale Bot API (tapi.bale.ai) on 127.0.0.1: the fake Telegram Bot API where Bale's differs.

Bale's Bot API follows Telegram's: the same paths (`/bot<token>/<method>`, file downloads at
`/file/bot<token>/<file_path>`), the same answers (`ok`, `result`, `error_code`, `description`,
`parameters.retry_after` with a 429). What differs, as Bale documents it (docs/how-it-works.md,
"Bale", names the sources), is modelled here:

* no setMyCommands/getMyCommands/deleteMyCommands and no forum topics: answered as an unknown
  method (404, which python-telegram-bot reads as a rejected token: a client must not call them);
* no HTML: a text is shown as it was sent, whatever parse_mode says (an escaped "&lt;" would
  reach the customer as those four characters);
* users carry no language_code, and a callback query no chat_instance;
* getUpdates ignores allowed_updates: every update type is delivered.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.telegram_api import FakeTelegramAPI, JSONDict

BALE_TOKEN = "1480254897:Qv7bLwS9mXr2TdkYpF3nHc8aEjUz6WgK1oBiNs4e"  # shaped as Bale's are: digits, a colon, letters


class FakeBaleAPI(FakeTelegramAPI):
    lacks = frozenset({
        "setMyCommands", "getMyCommands", "deleteMyCommands",
        "createForumTopic", "editForumTopic", "closeForumTopic", "reopenForumTopic", "deleteForumTopic",
    })
    unknown_method = (404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"})
    parses_html = False
    default_language = None
    filters_updates = False

    def __init__(self, token: str = BALE_TOKEN, **kw: Any) -> None:
        kw.setdefault("bot_username", "helpdesk_test_bale_bot")
        super().__init__(token, **kw)
        # getMe on Bale: the user's own fields, none of Telegram's bot capabilities.
        self.bot_user = {k: v for k, v in self.bot_user.items()
                         if k in ("id", "is_bot", "first_name", "username")}

    def press_button(self, user_id: int, message_id: int, callback_data: str, **kw: Any) -> JSONDict:
        update = super().press_button(user_id, message_id, callback_data, **kw)
        del update["callback_query"]["chat_instance"]  # queued, not yet fetched: the same dict
        return update
