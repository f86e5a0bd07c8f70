from __future__ import annotations

from pathlib import Path

import pytest

from core.chat import Conversation
from core.domain.config import HelpdeskConfig, Limits
from core.services import Services
from tests.core.chat.harness import Customer, make_conversation


@pytest.fixture
def conversation(service: Services, config: HelpdeskConfig, tmp_path: Path) -> Conversation:
    # Walks send far more than 20 messages in one (frozen) minute; test_limits tests the limit.
    relaxed = config.model_copy(update={"limits": Limits(messages_per_minute=10_000)})
    return make_conversation(service, relaxed, tmp_path / "files")


@pytest.fixture
async def customer(conversation: Conversation) -> Customer:
    """An English-speaking customer past the language choice."""
    c = Customer(conversation)
    await c.say("/start")
    await c.press("lang:en")
    await c.press("nav:cancel")
    return c
