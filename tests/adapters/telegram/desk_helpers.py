"""The desk group of the Telegram desk tests, and where a ticket's topic and card are."""

from __future__ import annotations

import asyncio
import inspect
import time
from datetime import UTC, datetime

from sqlalchemy import func, select
from telegram.constants import ParseMode

from adapters.telegram.card import card_html, card_keyboard
from adapters.telegram.desk import TelegramDesk
from core.agents.card import ticket_card
from core.i18n import translator
from core.storage.desk import card_state, save_post
from core.storage.models import DeskPost, OutboxMessage
from tests.adapters.telegram.conftest import Running

DESK = -1001234567890
# Until the desk's outbound side (branch desk-out) is merged, the desk makes no topics: the tests
# make each ticket's topic and card as it would.
DESK_DELIVERS = "NotImplementedError" not in inspect.getsource(TelegramDesk.deliver)


async def post_of(r: Running, number: int, timeout: float = 10.0) -> DeskPost:
    """The ticket's topic and card on the Telegram desk, once the desk has made them."""
    ticket = await r.desk.services.queries.get(number)
    if not DESK_DELIVERS:
        return await _made(r, ticket.id, number)
    deadline = time.monotonic() + timeout
    while True:
        post = (await card_state(r.desk.db, ticket.id, "telegram")).post
        if post is not None and post.card != post.ts:  # until the card is posted, the post names the topic
            return post
        if time.monotonic() > deadline:
            raise TimeoutError(f"ticket #{number} has no topic with its card on the Telegram desk")
        await asyncio.sleep(0.02)


async def _made(r: Running, ticket_id: int, number: int) -> DeskPost:
    post = (await card_state(r.desk.db, ticket_id, "telegram")).post
    if post is not None:
        return post
    bot = r.desk.served["telegram"].application.bot  # type: ignore[attr-defined]
    topic = await bot.create_forum_topic(DESK, f"#{number}")
    t = translator("en")
    card = ticket_card(t, r.desk.config, await card_state(r.desk.db, ticket_id, "telegram"))
    sent = await bot.send_message(DESK, card_html(card, "hint"), parse_mode=ParseMode.HTML,
                                  message_thread_id=topic.message_thread_id, reply_markup=card_keyboard(t, card))
    return await save_post(r.desk.db, ticket_id, "telegram", str(DESK), str(topic.message_thread_id),
                           datetime.now(UTC), card=str(sent.message_id))


async def topic_of(r: Running, number: int) -> int:
    """The ticket's topic (its message_thread_id)."""
    return int((await post_of(r, number)).ts)


async def card_message(r: Running, number: int) -> int:
    """The message id of the ticket's card in its topic."""
    return int((await post_of(r, number)).card)


async def desk_settled(r: Running, timeout: float = 15.0) -> None:
    """Every news row for the Telegram desk delivered (none pending or being sent, none dead)."""
    if not DESK_DELIVERS:
        return
    deadline = time.monotonic() + timeout
    while True:
        async with r.desk.db.read() as session:
            rows = dict((await session.execute(select(OutboxMessage.status, func.count()).where(
                OutboxMessage.platform == "desk:telegram").group_by(OutboxMessage.status))).all())
        if not rows.get("pending") and not rows.get("sending"):
            assert not rows.get("dead"), rows
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"desk rows not delivered: {rows}")
        await asyncio.sleep(0.05)


def card_keys(r: Running, card: int) -> list[str]:
    """The callback data of the buttons the card shows now."""
    markup = r.api.messages[(DESK, card)].get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]
