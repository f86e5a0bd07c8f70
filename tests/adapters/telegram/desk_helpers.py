"""The desk group of the Telegram desk tests, and where a ticket's topic and card are."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram.constants import ParseMode

from adapters.telegram.card import card_html, card_keyboard
from core.agents.card import ticket_card
from core.i18n import translator
from core.storage.desk import card_state, post_at, save_post
from core.storage.models import DeskPost
from tests.adapters.telegram.conftest import Running

DESK = -1001234567890


async def _post(r: Running, number: int) -> DeskPost | None:
    ticket = await r.desk.services.queries.get(number)
    return (await card_state(r.desk.db, ticket.id, "telegram")).post


async def topic_of(r: Running, number: int) -> int:
    """The ticket's topic (its message_thread_id); made here as the desk would make it."""
    post = await _post(r, number)
    if post is None:
        ticket = await r.desk.services.queries.get(number)
        bot = r.desk.served["telegram"].application.bot  # type: ignore[attr-defined]
        topic = await bot.create_forum_topic(DESK, f"#{number} · {ticket.subject}")
        t = translator("en")
        card = ticket_card(t, r.desk.config, await card_state(r.desk.db, ticket.id, "telegram"))
        sent = await bot.send_message(DESK, card_html(card, "hint"), parse_mode=ParseMode.HTML,
                                      message_thread_id=topic.message_thread_id, reply_markup=card_keyboard(t, card))
        await save_post(r.desk.db, ticket.id, "telegram", str(DESK), str(topic.message_thread_id),
                        datetime.now(UTC), card=str(sent.message_id))
        post = await post_at(r.desk.db, "telegram", str(DESK), str(topic.message_thread_id))
    assert post is not None
    return int(post.ts)


async def card_message(r: Running, number: int) -> int:
    """The message id of the ticket's card in its topic."""
    await topic_of(r, number)
    post = await _post(r, number)
    assert post is not None
    return int(post.card)
