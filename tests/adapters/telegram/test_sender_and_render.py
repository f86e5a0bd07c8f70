"""Rendering rules and the notification sender's mapping of Telegram's errors."""

from __future__ import annotations

import pytest
from telegram import Bot

from adapters.telegram.render import messages, split_text
from adapters.telegram.sender import TelegramSender
from core.chat.messages import Choice, Reply
from core.delivery.contract import DeliveryError
from tests.adapters.telegram.conftest import TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI


def test_split_at_line_boundaries() -> None:
    text = "\n".join(f"line {i:04d} " + "x" * 90 for i in range(100))  # ~10,000 characters
    parts = split_text(text)
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text  # nothing lost, cut only at line ends


def test_split_counts_utf16_and_cuts_overlong_lines() -> None:
    parts = split_text("😀" * 3000)  # 6,000 UTF-16 units in one line
    assert [len(p.encode("utf-16-le")) // 2 for p in parts] == [4096, 1904]


def test_html_is_escaped_and_keyboard_on_the_last_part() -> None:
    reply = Reply("a <b> & c\n" * 600, ((Choice("new", "New"),),))
    rendered = messages(reply)
    assert len(rendered) == 2 and rendered[0][1] is None and rendered[1][1] is not None
    assert "&lt;b&gt; &amp;" in rendered[0][0]


def test_overlong_callback_data_is_refused() -> None:
    with pytest.raises(ValueError):
        messages(Reply("x", ((Choice("k" * 65, "too long"),),)))


async def _sender(api: FakeTelegramAPI) -> tuple[Bot, TelegramSender]:
    bot = Bot(TOKEN, base_url=api.api_base_url, base_file_url=api.file_base_url)
    await bot.initialize()
    return bot, TelegramSender(bot)


async def test_sender_maps_errors() -> None:
    async with FakeTelegramAPI(token=TOKEN) as api:
        bot, sender = await _sender(api)
        await sender.send("42", Reply("hello <you>", ((Choice("t:1", "View"),),)))
        assert api.sent(42)[-1]["text"] == "hello <you>"
        api.fail_next("sendMessage", status=429, retry_after=3)
        with pytest.raises(DeliveryError) as info:
            await sender.send("42", Reply("x"))
        assert info.value.retry_after == 3 and not info.value.permanent
        api.block_bot(43)
        with pytest.raises(DeliveryError) as info:
            await sender.send("43", Reply("x"))
        assert info.value.permanent
        api.delete_chat(44)
        with pytest.raises(DeliveryError) as info:
            await sender.send("44", Reply("x"))
        assert info.value.permanent
        api.fail_next("sendMessage", status=500)
        with pytest.raises(DeliveryError) as info:
            await sender.send("42", Reply("x"))
        assert not info.value.permanent and info.value.retry_after is None
        await bot.shutdown()


@pytest.mark.parametrize("rate", [30.0, 400.0])
async def test_the_global_limiter_keeps_every_second_within_the_rate(rate: float) -> None:
    """A bucket of one at Telegram's 30/s; at a higher rate a bucket as large as the 2% margin
    leaves room for (fewer waits on microsecond timers), still within the rate in any one second."""
    import asyncio

    from adapters.telegram.startup import pacing, rate_limiter
    from core.domain.config import Delivery

    limiter = rate_limiter(pacing(Delivery(telegram_global_per_second=rate)))
    await limiter.initialize()
    loop = asyncio.get_running_loop()
    stamps: list[float] = []

    async def call() -> bool:
        stamps.append(loop.time())
        return True

    count = int(rate * 2.5)
    await asyncio.gather(*(limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 1000 + i}, None)
                           for i in range(count)))
    assert len(stamps) == count
    stamps.sort()
    busiest = max(sum(1 for s in stamps[i:] if s < start + 1.0) for i, start in enumerate(stamps))
    assert busiest <= rate
    assert stamps[-1] - stamps[0] >= (count - rate) / rate  # paced, not let through at once
    await limiter.shutdown()
