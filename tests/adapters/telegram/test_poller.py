"""The poller against the fake Bot API: a slow update in hand does not hold back the others."""

from __future__ import annotations

import asyncio

from tests.adapters.telegram.conftest import Running, TgUser


async def test_an_update_slow_to_answer_does_not_hold_back_the_ones_that_come_meanwhile(bot: Running) -> None:
    # While one update is in hand, Telegram answers every getUpdates call at once with it, so the
    # poller waits for it to finish before asking again; but not for as long as it takes: a reply
    # retried, or a commit waiting for the disk, would hold every other customer's update back.
    slow, other = TgUser(bot, 530), TgUser(bot, 531)
    await slow.say("/start")
    await other.say("/start")
    slow_before, other_before = len(slow.sent()), len(other.sent())
    bot.api.delay_next("sendMessage", 2.0, chat_id=530)  # its reply is taken, the answer comes late
    bot.api.user_message(530, "/help")
    await bot.api.wait_for(lambda: len(slow.sent()) > slow_before)  # its reply is being sent
    loop = asyncio.get_running_loop()
    asked = loop.time()
    bot.api.user_message(531, "/help")
    await bot.api.wait_for(lambda: len(other.sent()) > other_before)
    answered = loop.time() - asked
    assert bot.api.requests_for("sendMessage", 530)[-1].status is None  # the slow one still in hand
    assert answered < 0.5, f"answered after {answered:.2f} s, behind the update in hand"
