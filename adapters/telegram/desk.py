"""The agents' desk in a Telegram supergroup with topics: each ticket a topic, its first message
the ticket's card, the topic the ticket's conversation. Delivers the desk's outbox rows
(core.delivery.contract.DeskSender).
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot

from adapters.telegram.startup import NAME
from core.domain.clock import Clock, utcnow
from core.domain.config import HelpdeskConfig
from core.i18n import Translator, translator
from core.storage.db import Database

log = logging.getLogger(__name__)


class TelegramDesk:
    def __init__(
        self, bot: Bot, db: Database, config: HelpdeskConfig, *, default_chat: str | None, locale: str,
        interval: float, clock: Clock = utcnow,
    ) -> None:
        self.bot = bot
        self.db = db
        self.config = config
        self.default_chat = default_chat
        self.clock = clock
        self.interval = interval  # between two deliveries into one group (the group's pace)
        self.t: Translator = translator(locale)  # the group is shared: the desk reads the deployment's language

    def chat_for(self, department: str) -> str | None:
        dep = self.config.department(department)
        return (dep.desks.get(NAME) if dep else None) or self.default_chat

    def chats(self) -> set[str]:
        found = {self.chat_for(d.code) for d in self.config.departments}
        return {c for c in found if c}

    async def deliver(self, event: str, params: dict[str, Any], ticket_id: int) -> None:
        raise NotImplementedError  # H2 builds it
