"""Both agents' desks at once, through the real process against the fake Telegram and Slack
APIs: each ticket a card in the Slack channel and a topic in the Telegram group, kept in step,
and what is said on one desk shown on the other, never echoed back where it was said. Also a
deployment with no desk at all, whose outbox holds only the customers' rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from adapters.console.agent import AgentConsole
from core.chat import actions as act
from core.domain.model import MessageKind, Status
from core.i18n import translator
from core.storage.models import OutboxMessage
from tests.adapters.slack.conftest import AGENT as SLACK_AGENT
from tests.adapters.slack.conftest import DESK as CHANNEL
from tests.adapters.slack.conftest import Desk, start_world, telegram_ticket
from tests.adapters.telegram.conftest import TOKEN, TgUser, start_bot
from tests.adapters.telegram.desk_helpers import DESK as GROUP
from tests.adapters.telegram.desk_helpers import (
    card_keys,
    card_message,
    desk_settled,
    messages_of,
    processed,
    say,
    topic_of,
)
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.telegram_api import FakeTelegramAPI

CUSTOMER, TG_AGENT = 652, 752
NUMBER = 1001


@pytest.fixture
async def both(tmp_path: Path) -> AsyncIterator[Desk]:
    async with FakeTelegramAPI(token=TOKEN, strict_html_entities=True, strict_topic_names=True) as tg, \
            FakeSlackAPI() as slack:
        # The group's minute scaled down to the tests' pace (fast_config), so that the desk's
        # writes meet the limit as they would a real one's, without waiting minutes.
        tg.group_limit = (20, 1.0)
        tg.add_user(TG_AGENT, first_name="Olga", last_name="Petrova", language_code="ru")
        tg.add_forum(GROUP, members={TG_AGENT: "member"})
        async for world in start_world(tmp_path, tg, slack, TELEGRAM_DESK_CHAT=str(GROUP)):
            yield world


def bot_says(messages: list[dict[str, Any]], text: str) -> int:
    """How many of the bot's messages carry `text` (Slack marks them bot_id, Telegram is_bot)."""
    return sum(text in (m.get("text") or "") for m in messages
               if m.get("bot_id") or (m.get("from") or {}).get("is_bot"))


def anyone_says(messages: list[dict[str, Any]], text: str) -> int:
    return sum(text in (m.get("text") or "") for m in messages)


async def test_a_ticket_on_both_desks_kept_in_step(both: Desk) -> None:
    tg, slack, r = both.tg, both.slack, both.running
    cs = translator("cs")

    def customer_got(text: str) -> int:
        return anyone_says(tg.sent(CUSTOMER), text)

    def topic() -> list[dict[str, Any]]:
        return tg.topic_messages(GROUP, thread)

    async def settled() -> None:
        await both.settle()
        await desk_settled(r)

    # A Czech customer opens a ticket in Telegram: a card in the Slack channel, a topic with its card.
    customer = await telegram_ticket(both, CUSTOMER, "cs", description="Od rána chyba 500.")
    thread, card = await topic_of(r, NUMBER), await card_message(r, NUMBER)
    slack_card = both.card(NUMBER)
    assert slack_card is not None, "no card in the Slack channel"
    assert "desk:claim" in str(slack_card["blocks"])
    assert tg.topic(GROUP, thread).name == f"🆕 #{NUMBER} · Nelze se přihlásit <!channel>"
    assert "Od rána chyba 500." in tg.messages[(GROUP, card)]["text"]
    assert f"ag:claim:{NUMBER}" in card_keys(r, card)
    assert len(tg.topics(GROUP)) == 1 and len(slack.messages_in(CHANNEL)) == 1

    # A Telegram agent claims it from the topic's card: the Slack card names her, its thread
    # says she took it, and the customer hears it in Czech.
    await processed(r, tg.press_button(TG_AGENT, card, f"ag:claim:{NUMBER}", chat_id=GROUP))
    await settled()
    assert (await r.desk.services.queries.get(NUMBER)).status == Status.ACCEPTED
    assert "Olga Petrova" in str(both.card(NUMBER)["blocks"])  # type: ignore[index]
    assert anyone_says(both.thread(NUMBER), "Olga Petrova is now handling this ticket.") == 1
    assert customer_got(cs._("Good news: a specialist has taken ticket {ticket} and is working on it.",
                             ticket=cs.ticket(NUMBER))) == 1
    assert tg.topic(GROUP, thread).name.startswith(f"🔧 #{NUMBER}")

    # A Slack agent replies in the Slack thread: the customer gets it, the topic shows it once,
    # and the Slack thread holds only the agent's own message.
    reply = "Jaký prohlížeč používáte?"
    await both.processed(await both.events.channel_message(
        SLACK_AGENT, reply, channel=CHANNEL, thread_ts=both.card(NUMBER)["ts"]))  # type: ignore[index]
    await settled()
    assert customer_got(reply) == 1
    assert bot_says(topic(), reply) == 1 and anyone_says(topic(), "Eva Agent") >= 1
    assert anyone_says(both.thread(NUMBER), reply) == 1 and bot_says(both.thread(NUMBER), reply) == 0
    assert (await r.desk.services.queries.get(NUMBER)).status == Status.WAITING

    # A Telegram agent writes a note in the topic: the Slack thread shows it as an internal note,
    # the customer gets nothing, the topic holds only the agent's own message.
    before = len(tg.sent(CUSTOMER))
    await say(r, TG_AGENT, "note: probably the proxy", thread)
    await settled()
    assert (MessageKind.NOTE, "probably the proxy") in [(m.kind, m.body) for m in await messages_of(r, NUMBER)]
    noted = [m["text"] for m in both.thread(NUMBER) if "probably the proxy" in (m.get("text") or "")]
    assert noted == ["*Olga Petrova (internal note):*\nprobably the proxy"]
    assert len(tg.sent(CUSTOMER)) == before
    assert anyone_says(topic(), "probably the proxy") == 1 and bot_says(topic(), "probably the proxy") == 0

    # A Telegram agent sends the customer a file from the topic: the customer gets it, and so
    # does the Slack thread, under her name.
    sent = len(tg.requests_for("sendDocument", CUSTOMER))
    await processed(r, tg.user_document(TG_AGENT, file_name="postup.txt", mime_type="text/plain",
                                        content=b"1. Ctrl+Shift+Del", chat_id=GROUP, message_thread_id=thread,
                                        caption="Postup najdete v souboru."))
    await settled()
    assert len(tg.requests_for("sendDocument", CUSTOMER)) == sent + 1
    assert customer_got("Postup najdete v souboru.") == 1
    assert bot_says(both.thread(NUMBER), "*Olga Petrova replied to the customer:*\nPostup najdete v souboru.") == 1
    uploads = [f for m in both.thread(NUMBER) for f in m.get("files") or []]
    assert [f["name"] for f in uploads] == ["postup.txt"]
    assert slack.file_content(uploads[0]["id"]) == b"1. Ctrl+Shift+Del"
    assert anyone_says(topic(), "Postup najdete v souboru.") == 0  # a caption: the file is the topic's own
    assert len([m for m in topic() if m.get("document")]) == 1

    # The customer answers: both desks show it, once each.
    await customer.press(act.WriteTo(NUMBER).encode())
    await customer.say("Firefox 133")
    await settled()
    assert bot_says(both.thread(NUMBER), "Firefox 133") == 1
    assert bot_says(topic(), "Firefox 133") == 1
    assert (await r.desk.services.queries.get(NUMBER)).status == Status.ACCEPTED

    # A status change from Slack renames the Telegram topic.
    await both.click(SLACK_AGENT, "desk:status", NUMBER, selected_option="resolved")
    await settled()
    assert tg.topic(GROUP, thread).name == f"✅ #{NUMBER} · Nelze se přihlásit <!channel>"
    assert anyone_says(topic(), "Eva Agent changed the status: In progress → Resolved") == 1

    # The customer confirms: the ticket closes, its topic is closed, the Slack card keeps no controls.
    await customer.press(act.Settle(NUMBER, solved=True).encode())
    await settled()
    assert (await r.desk.services.queries.get(NUMBER)).status == Status.CLOSED
    closed = tg.topic(GROUP, thread)
    assert closed.closed and closed.name.startswith(f"🔒 #{NUMBER}")
    assert card_keys(r, card) == []
    assert "desk:" not in str(both.card(NUMBER)["blocks"])  # type: ignore[index]

    # One card and one topic for the one ticket, and nothing refused on either side.
    assert len(tg.topics(GROUP)) == 1
    assert len([m for m in slack.messages_in(CHANNEL) if m.get("thread_ts") in (None, m.get("ts"))]) == 1
    assert all(q.ok for q in tg.requests if str(q.chat_id) == str(GROUP)), "Telegram refused a write"
    assert all(c.ok for c in slack.calls_to("chat.postMessage") + slack.calls_to("chat.update"))


async def test_no_desk_queues_only_the_customers_rows(tmp_path: Path) -> None:
    """Neither desk connected (no TELEGRAM_DESK_CHAT, no Slack): agents work from the console,
    and no news is queued for a desk that is not there."""
    async with FakeTelegramAPI(token=TOKEN) as api:
        async for r in start_bot(tmp_path, api):
            assert r.desk.services.news.desks is None or not r.desk.services.news.desks
            customer = TgUser(r, CUSTOMER, "cs")
            await customer.say("/start")
            await customer.press("lang:cs")
            await customer.press("dep:technical")
            await customer.press("rt:bug")
            await customer.say("Nelze se přihlásit")
            await customer.press("pri:normal")
            await customer.say("Od rána chyba 500.")
            await customer.press("att:done")
            await customer.press("rev:submit")
            console = AgentConsole(r.desk.services)
            for line in (f"claim {NUMBER}", f"reply {NUMBER} Zkuste to prosím znovu.", f"status {NUMBER} resolved"):
                await console.handle(line, "cs")
            assert (await r.desk.services.queries.get(NUMBER)).status == Status.RESOLVED
            await api.wait_for(lambda: anyone_says(api.sent(CUSTOMER), "Zkuste to prosím znovu.") == 1, timeout=10)
            async with r.desk.db.read() as s:
                rows = [(o.platform, o.event) for o in (await s.execute(select(OutboxMessage))).scalars()]
            assert rows and {platform for platform, _ in rows} == {"telegram"}, rows
            assert ("telegram", "agent_reply") in rows and ("telegram", "status_changed") in rows
