"""The Telegram desk's outbound side through the real process against the fake Bot API's forum:
a ticket's topic with its card, renamed, closed and reopened with the ticket, made anew after it
was deleted, and a burst of tickets within the group's limit with nothing lost."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.agents import notices
from core.domain.model import Status, Who
from core.i18n import translator
from core.services.news import DeskNews
from core.storage.desk import card_state
from core.storage.models import OutboxMessage
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import TOKEN, Running, TgUser, start_bot
from tests.fakes.telegram_api import FakeTelegramAPI

DESK = -1001987654321
AGENT = 4242
SCALED_MINUTE = 1.0  # seconds that stand for a minute in the burst
BURST = 100


def live_topics(api: FakeTelegramAPI) -> list[Any]:
    return [t for t in api.topics(DESK) if not t.deleted]


def card_of(api: FakeTelegramAPI, thread: int) -> dict[str, Any] | None:
    """The topic's card: its first message from the bot after the topic's creation."""
    return next((m for m in api.topic_messages(DESK, thread)
                 if "forum_topic_created" not in m and (m.get("from") or {}).get("is_bot")), None)


def buttons(message: dict[str, Any]) -> list[str]:
    return [b["callback_data"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row]




async def desk_settled(r: Running, timeout: float = 15.0) -> None:
    """Every desk row of the outbox delivered (sent, none waiting, none dead)."""
    async def left() -> dict[str, int]:
        async with r.desk.db.read() as session:
            rows = (await session.execute(select(OutboxMessage.status, func.count()).where(
                OutboxMessage.platform == "desk:telegram").group_by(OutboxMessage.status))).all()
        return {status: int(n) for status, n in rows}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = await left()
        if not counts.get("pending") and not counts.get("sending"):
            assert not counts.get("dead"), counts
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"desk rows not delivered: {await left()}")


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Running]:
    async with FakeTelegramAPI(token=TOKEN, strict_html_entities=True, strict_topic_names=True) as api:
        api.add_forum(DESK, members={AGENT: "member"})
        async for running in start_bot(tmp_path, api, TELEGRAM_DESK_CHAT=str(DESK)):
            yield running


async def test_a_ticket_lives_in_its_topic_from_opening_to_closing(desk: Running) -> None:
    api, services = desk.api, desk.desk.services
    u = TgUser(desk, 601, "cs")
    await u.intake("Nelze se přihlásit <b>", "Od rána chyba 500 & <i>nic</i>.")
    [topic] = await api.wait_for(lambda: live_topics(api), timeout=10)
    assert topic.name == "🆕 #1001 · Nelze se přihlásit <b>"
    card = await api.wait_for(lambda: card_of(api, topic.thread_id))
    # Shown as typed: the customer's "<b>", "&" and "<i>" are text, the card's own markup is not.
    assert card["text"].startswith("#1001 · Nelze se přihlásit <b>\n")
    assert "Od rána chyba 500 & <i>nic</i>." in card["text"]
    assert {"type": "bold", "offset": 0, "length": len("#1001 · Nelze se přihlásit <b>")} in card["entities"]
    assert {"ag:claim:1001", "tm:status:1001", "tm:assign:1001"} <= set(buttons(card))

    agent = await services.desk.agent("telegram", str(AGENT), "Eva")
    names = {Status.ACCEPTED: "🔧", Status.WAITING: "⏳", Status.RESOLVED: "✅"}
    for status, mark in names.items():
        await services.desk.change_status(1001, status, Who.agent(agent.id))
        await api.wait_for(lambda m=mark: api.topic(DESK, topic.thread_id).name.startswith(f"{m} #1001"))
    await services.desk.change_status(1001, Status.CLOSED, Who.agent(agent.id))
    await api.wait_for(lambda: api.topic(DESK, topic.thread_id).closed)
    assert api.topic(DESK, topic.thread_id).name == "🔒 #1001 · Nelze se přihlásit <b>"
    await desk_settled(desk)
    assert buttons(card_of(api, topic.thread_id) or {}) == []  # a closed ticket's card has no buttons
    lines = " ".join(m.get("text", "") for m in api.topic_messages(DESK, topic.thread_id))
    assert "Eva changed the status: New → In progress" in lines
    assert "Eva changed the status: Resolved, awaiting confirmation → Closed" in lines

    customer_id = (await services.queries.get(1001)).customer_id
    await services.tickets.change_status(1001, Status.ACCEPTED, Who.customer(customer_id))
    await api.wait_for(lambda: not api.topic(DESK, topic.thread_id).closed)
    await api.wait_for(lambda: api.topic(DESK, topic.thread_id).name.startswith("🔧 #1001"))
    await api.wait_for(lambda: "ag:claim:1001" in buttons(card_of(api, topic.thread_id) or {}))
    assert len(api.topics(DESK)) == 1


async def test_a_deleted_topic_is_made_anew_and_nothing_is_lost(desk: Running) -> None:
    api, services = desk.api, desk.desk.services
    u = TgUser(desk, 602, "en")
    await u.intake("Cannot log in", "Error 500 since the morning.")
    [old] = await api.wait_for(lambda: live_topics(api), timeout=10)
    agent = await services.desk.agent("telegram", str(AGENT), "Eva")
    await services.desk.add_agent_message(agent.id, 1001, "Which browser do you use?", via="slack")
    await api.wait_for(lambda: any("Which browser" in m.get("text", "")
                                   for m in api.topic_messages(DESK, old.thread_id)))
    await desk_settled(desk)
    api.delete_topic(DESK, old.thread_id)

    await u.say("Firefox 133")
    [new] = await api.wait_for(lambda: live_topics(api), timeout=10)
    assert new.thread_id != old.thread_id and new.name == "🔧 #1001 · Cannot log in"  # answered: in progress
    said = await api.wait_for(lambda: [m.get("text", "") for m in api.topic_messages(DESK, new.thread_id)
                                       if "Firefox 133" in m.get("text", "")], timeout=10)
    texts = [m.get("text", "") for m in api.topic_messages(DESK, new.thread_id) if m.get("text")]
    card = card_of(api, new.thread_id)
    assert card is not None and "ag:claim:1001" in buttons(card) and texts[0] == card["text"]
    summary = texts[1]
    assert "made anew" in summary and "Which browser do you use?" in summary and "Firefox" not in summary
    assert said == [texts[-1]] and texts[-1].endswith("Firefox 133")
    await desk_settled(desk)
    assert [t.deleted for t in api.topics(DESK)] == [True, False]  # one topic for the ticket, no more
    post = (await card_state(desk.desk.db, (await services.queries.get(1001)).id, "telegram")).post
    assert post is not None and post.ts == str(new.thread_id)


@pytest.fixture
async def paced_desk(tmp_path: Path) -> AsyncIterator[Running]:
    interval = SCALED_MINUTE / 20  # the bot's pace: 20 writes a (scaled) minute into a group
    async with FakeTelegramAPI(token=TOKEN, enforce_limits=True, group_limit=(20, SCALED_MINUTE)) as api:
        api.add_forum(DESK, members={AGENT: "member"})
        (tmp_path / "paced").mkdir()  # start_bot writes its own fast.toml in tmp_path
        config = fast_config(tmp_path / "paced", group=interval, global_rate=25)
        async for running in start_bot(tmp_path, api, TELEGRAM_DESK_CHAT=str(DESK), HELPDESK_CONFIG=str(config)):
            yield running


async def test_a_burst_of_tickets_keeps_the_group_limit_and_loses_nothing(
        paced_desk: Running, capsys: pytest.CaptureFixture[str]) -> None:
    api, services = paced_desk.api, paced_desk.desk.services
    customers = [await services.customers.customer("telegram", str(700_000 + i), str(700_000 + i), f"C{i}", "en")
                 for i in range(BURST)]
    started = time.monotonic()
    await asyncio.gather(*(services.tickets.open_ticket(
        c.id, department="technical", request_type="bug", subject=f"Burst {i}", description=f"Ticket {i}.")
        for i, c in enumerate(customers)))
    opened = time.monotonic() - started
    await api.wait_for(lambda: len(live_topics(api)) == BURST, timeout=60)
    await desk_settled(paced_desk, timeout=30)

    topics = live_topics(api)
    numbers = Counter(t.name.split(" · ")[0].split("#")[1] for t in topics)
    assert len(numbers) == BURST and set(numbers.values()) == {1}  # one topic per ticket
    assert all(card_of(api, t.thread_id) is not None for t in topics)  # each with its card
    cards = {(m["message_thread_id"], m["message_id"]) for m in api.sent(DESK)
             if "ag:claim" in str(m.get("reply_markup"))}
    assert sorted(Counter(thread for thread, _ in cards).values()) == [1] * BURST  # one card per topic
    refused = [r for r in api.requests if r.chat_id == DESK and r.status == 429]
    created = [r for r in api.requests_for("createForumTopic", DESK) if r.ok]
    assert len(created) == BURST  # a write refused for the flood limit was tried again and landed
    writes = api.group_writes(DESK)
    most = api.most_in_window(DESK, SCALED_MINUTE)
    assert most <= 20
    with capsys.disabled():  # the figures belong in every run's output, CI's included
        print(f"\nTelegram desk burst: {BURST} tickets opened in {opened:.1f} s (a scaled minute is "
              f"{SCALED_MINUTE:.0f} s), {len(writes)} desk writes, most in any scaled minute {most} (limit 20), "
              f"429 answers {len(refused)}, lost 0")


async def test_news_of_no_ticket_goes_to_the_general_topic_in_the_desks_language(tmp_path: Path) -> None:
    async with FakeTelegramAPI(token=TOKEN, strict_html_entities=True) as api:
        api.add_forum(DESK, members={AGENT: "member"})
        async for r in start_bot(tmp_path, api, TELEGRAM_DESK_CHAT=str(DESK), DEFAULT_LOCALE="fa"):
            said = {"place": "the Quarantine folder", "reason": "unreadable", "sender": "<b>x@example.com</b>",
                    "subject": "Faktura & <i>"}
            await r.desk.services.desk.tell_agents(DeskNews.SET_ASIDE, **said)
            await desk_settled(r)
            general = [m for (chat, _), m in api.messages.items()
                       if chat == DESK and "message_thread_id" not in m and (m.get("from") or {}).get("is_bot")]
            assert [m["text"] for m in general] == [notices.set_aside(translator("fa"), **said)]
            assert not live_topics(api)  # no topic made for it
            # The desk's language: Persian keeps each Latin run left-to-right, English would not.
            assert general[0]["text"] != notices.set_aside(translator("en"), **said)
