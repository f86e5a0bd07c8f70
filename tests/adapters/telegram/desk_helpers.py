"""The desk group of the Telegram desk tests, and where a ticket's topic and card are."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select

from core.delivery.inbound import InboundLog
from core.storage.desk import card_state
from core.storage.models import DeskPost, OutboxMessage, Ticket, TicketMessage
from tests.adapters.telegram.conftest import Running

DESK = -1001234567890


async def post_of(r: Running, number: int, timeout: float = 10.0) -> DeskPost:
    """The ticket's topic and card on the Telegram desk, once the desk has made them."""
    ticket = await r.desk.services.queries.get(number)
    deadline = time.monotonic() + timeout
    while True:
        post = (await card_state(r.desk.db, ticket.id, "telegram")).post
        # The topic is recorded as soon as it is made, and its card once posted (until then the
        # post's card is the topic itself): both, or a busy machine finds the topic alone.
        if post is not None and post.card != post.ts:
            return post
        if time.monotonic() > deadline:
            raise TimeoutError(f"ticket #{number} has no topic with its card on the Telegram desk")
        await asyncio.sleep(0.02)


async def topic_of(r: Running, number: int) -> int:
    """The ticket's topic (its message_thread_id)."""
    return int((await post_of(r, number)).ts)


async def card_message(r: Running, number: int) -> int:
    """The message id of the ticket's card in its topic."""
    return int((await post_of(r, number)).card)


async def desk_settled(r: Running, timeout: float = 15.0) -> None:
    """Every news row for the Telegram desk delivered (none pending or being sent, none dead)."""
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


async def processed(r: Running, update: dict[str, Any]) -> None:
    log = InboundLog(r.desk.db)
    key = str(update["update_id"])
    for _ in range(1000):
        if await log.state("telegram", key) == "done":
            return
        await asyncio.sleep(0.01)
    raise TimeoutError(f"update {key} not processed")


async def say(r: Running, user_id: int, text: str, thread: int | None = None) -> dict[str, Any]:
    update = r.api.user_message(user_id, text, chat_id=DESK, message_thread_id=thread)
    await processed(r, update)
    return update


async def messages_of(r: Running, number: int) -> list[TicketMessage]:
    async with r.desk.db.read() as s:
        ticket = (await s.execute(select(Ticket).where(Ticket.number == number))).scalar_one()
        return list((await s.execute(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                                     .order_by(TicketMessage.id))).scalars())
