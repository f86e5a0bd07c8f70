"""The hand-over to L3 in Slack, end to end: the card's button opens a modal, its submission
escalates, the L3 channel gets the fields, the Czech customer is told, and another agent's
answer reaches the escalating agent and not the customer."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from core.i18n import translator
from core.storage.models import TicketMessage
from tests.adapters.fast_config import fast_config
from tests.adapters.slack.conftest import AGENT, AGENT_CS, DESK, Desk, start_world, telegram_ticket
from tests.adapters.telegram.conftest import TOKEN
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.telegram_api import FakeTelegramAPI

L3 = "CLTHREE01"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[Desk]:
    """The Slack desk with an L3 channel for the technical department."""
    path = tmp_path / "l3.toml"  # beside fast.toml, which start_world writes anew
    text, n = re.subn(r'(code = "technical"\n(?:.*\n)*?calendar = "office"\n)',
                      lambda m: m.group(1) + f'escalation = {{ l3 = "{L3}" }}\n',
                      fast_config(tmp_path).read_text(encoding="utf-8"))
    assert n == 1
    path.write_text(text, encoding="utf-8")
    async with FakeTelegramAPI(token=TOKEN) as tg, FakeSlackAPI() as slack:
        slack.add_channel(L3, "l3-specialists", members=[AGENT, AGENT_CS])
        async for started in start_world(tmp_path, tg, slack, HELPDESK_CONFIG=str(path)):
            yield started


def _escalate_button(world: Desk, number: int) -> dict:
    card = world.card(number)
    assert card is not None
    return next(e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e.get("action_id") == "desk:escalate")


async def test_hand_over_to_l3_through_the_modal(world: Desk) -> None:
    u = await telegram_ticket(world)  # a Czech customer
    assert "confirm" in _escalate_button(world, 1001)  # L1 -> L2: a confirmation, no hand-over
    await world.click(AGENT, "desk:escalate", 1001)
    assert (await world.desk.services.queries.get(1001)).tier == 2
    assert "confirm" not in _escalate_button(world, 1001)  # L2 -> L3: the modal is the confirmation
    views = len(world.slack.views)
    await world.click(AGENT, "desk:escalate", 1001)
    assert len(world.slack.views) == views + 1
    view = world.slack.views[-1]
    assert view["callback_id"] == "desk:handover" and view["title"]["text"] == "Hand-over to L3"
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == ["checked", "reproduce", "told"]
    assert all(b["element"]["multiline"] for b in inputs)
    assert (await world.desk.services.queries.get(1001)).tier == 2  # nothing happened yet

    # A field left blank keeps the modal open with Slack's inline error under it.
    response = await world.events.view_submission(AGENT, view, {"checked": "Logs, cache", "reproduce": "  ",
                                                                "told": None})
    assert response.status == 200
    assert response.json() == {"response_action": "errors", "errors": {
        "reproduce": "Fill in “How to reproduce”.", "told": "Fill in “What the customer was told”."}}
    await world.settle()
    assert (await world.desk.services.queries.get(1001)).tier == 2

    told_before = len(u.sent())
    response = await world.events.view_submission(AGENT, view, {
        "checked": "Logs: 500 from the <auth> service", "reproduce": "Log in as jana@example.cz\nin Firefox",
        "told": "That a specialist looks at it today"})
    assert response.status == 200 and response.body in ("", "{}")  # the modal closes
    await world.settle()
    ticket = await world.desk.services.queries.get(1001)
    assert ticket.tier == 3
    # The L3 channel gets the ticket with the hand-over (escaped) and a link to the card.
    placed = world.slack.messages_in(L3)
    assert len(placed) == 1
    text = placed[0]["text"]
    assert "#1001" in text and "is now at L3, handed over by Eva Agent" in text
    assert ">What was checked: Logs: 500 from the &lt;auth&gt; service" in text
    assert ">How to reproduce: Log in as jana@example.cz\n>in Firefox" in text
    assert "What the customer was told: That a specialist looks at it today" in text
    assert "slack.com/archives/" in text or "http" in text
    thread = " ".join(m.get("text", "") for m in world.thread(1001))
    assert "escalated the ticket to L3" in thread and ">How to reproduce" in thread and f"<#{L3}>" in thread
    # The customer hears it in Czech: a specialist team has it, the contact stays, what comes next.
    t = translator("cs")
    news = [m["text"] for m in u.sent()[told_before:]]
    first = t._("Ticket {ticket} has been passed to our specialist team (level {tier}), who will look into it "
                "in depth. The agent who has been handling it remains your contact, and we will write to "
                "you here about every step.", ticket=t.ticket(1001), tier=t.number(3))
    assert any(n.startswith(first) for n in news), news
    assert first != translator("en")._(
        "Ticket {ticket} has been passed to our specialist team (level {tier}), who will look into it "
        "in depth. The agent who has been handling it remains your contact, and we will write to "
        "you here about every step.", ticket="#1001", tier="3")

    # Jana (not the ticket's contact) answers in the thread: Eva is mentioned, the customer hears nothing.
    heard = len(u.sent())
    await world.processed(await world.events.channel_message(
        AGENT_CS, "It is the session cache; tell them to clear it.", channel=DESK, thread_ts=world.card(1001)["ts"]))
    await world.settle()
    assert len(u.sent()) == heard
    last = world.thread(1001)[-1]["text"]
    assert f"<@{AGENT}>" in last and "the customer has not seen it" in last
    # Jana answers under the hand-over in the L3 channel: the same, and the card's thread shows her words.
    await world.processed(await world.events.channel_message(
        AGENT_CS, "Also check the proxy.", channel=L3, thread_ts=placed[0]["ts"]))
    await world.settle()
    assert len(u.sent()) == heard
    last = world.thread(1001)[-1]["text"]
    assert f"<@{AGENT}>" in last and "Also check the proxy." in last
    told_jana = world.slack.ephemerals[-1]  # Jana is told, in the L3 channel, in Czech
    assert (told_jana["channel"], told_jana["user"]) == (L3, AGENT_CS) and "/helpdesk claim 1001" in told_jana["text"]
    # Eva, the contact, answers the customer as always.
    await world.processed(await world.events.channel_message(
        AGENT, "Vymažte prosím mezipaměť prohlížeče.", channel=DESK, thread_ts=world.card(1001)["ts"]))
    assert "Vymažte prosím mezipaměť" in u.sent()[-1]["text"]


async def test_the_slash_command_opens_the_modal_or_takes_the_hand_over_in_one_line(world: Desk) -> None:
    await telegram_ticket(world)
    await world.click(AGENT, "desk:escalate", 1001)
    views = len(world.slack.views)
    response = await world.events.slash_command(AGENT, text="escalate 1001", channel_id=DESK)
    assert response.status == 200
    await world.settle()
    assert len(world.slack.views) == views + 1 and world.slack.views[-1]["private_metadata"] == f"1001:{DESK}"
    response = await world.events.slash_command(
        AGENT, text="escalate 1001 checked: logs | reproduce: log in &lt;b&gt; | told: today", channel_id=DESK)
    assert response.status == 200
    await world.settle()
    assert (await world.desk.services.queries.get(1001)).tier == 3
    assert "How to reproduce: log in &lt;b&gt;" in world.slack.messages_in(L3)[0]["text"]  # once escaped, by us


async def test_an_l3_channel_the_bot_is_not_in_loses_nothing_else(world: Desk) -> None:
    from sqlalchemy import func, select

    from core.storage.models import OutboxMessage

    await telegram_ticket(world)
    await world.click(AGENT, "desk:escalate", 1001)
    world.slack.channels[L3].members.remove(world.slack.bot_user_id)
    await world.events.slash_command(
        AGENT, text="escalate 1001 checked: logs | reproduce: log in | told: today", channel_id=DESK)
    await world.settle()
    assert (await world.desk.services.queries.get(1001)).tier == 3
    assert world.slack.messages_in(L3) == []
    assert any("How to reproduce: log in" in m.get("text", "") for m in world.thread(1001))
    async with world.desk.db.read() as s:
        dead = (await s.execute(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.status == "dead"))).scalar_one()
    assert dead == 0


async def test_a_retried_hand_over_row_says_it_once_in_the_thread(world: Desk) -> None:
    """The L3 channel's post fails for a passing reason after the card's thread has the line: the
    row's retry tells the L3 channel, and the thread has the line (with the hand-over) once."""
    await telegram_ticket(world)
    await world.click(AGENT, "desk:escalate", 1001)
    await world.settle()
    world.slack.fail_next("chat.getPermalink", error="internal_error")
    await world.events.slash_command(
        AGENT, text="escalate 1001 checked: logs | reproduce: log in | told: today", channel_id=DESK)
    await world.settle()
    assert (await world.desk.services.queries.get(1001)).tier == 3
    assert len(world.slack.messages_in(L3)) == 1  # told once, after the retry
    lines = [m for m in world.thread(1001) if "How to reproduce: log in" in m.get("text", "")]
    assert len(lines) == 1, [m["text"] for m in lines]


async def test_the_contact_talking_under_the_hand_over_in_the_l3_channel_is_a_note(world: Desk) -> None:
    """The L3 channel is the specialists' room: a reply there, even the contact's, is an internal
    note on the ticket (the card's thread shows it), never sent to the customer."""
    u = await telegram_ticket(world)
    await world.click(AGENT, "desk:escalate", 1001)
    await world.events.slash_command(
        AGENT, text="escalate 1001 checked: logs | reproduce: log in | told: today", channel_id=DESK)
    await world.settle()
    [placed] = world.slack.messages_in(L3)
    heard = len(u.sent())
    words = "Thanks, I'll ask them about the proxy before we tell the customer anything."
    await world.processed(await world.events.channel_message(AGENT, words, channel=L3, thread_ts=placed["ts"]))
    await world.settle()
    assert not any("ask them about the proxy" in m.get("text", "") for m in u.sent()[heard:])
    assert any("ask them about the proxy" in m.get("text", "") for m in world.thread(1001))
    async with world.desk.db.read() as session:
        kind = await session.scalar(select(TicketMessage.kind).where(TicketMessage.body == words))
    assert kind == "note"
    t = translator("en")
    told = world.slack.ephemerals[-1]
    assert (told["channel"], told["user"]) == (L3, AGENT)
    assert told["text"] == t._("Kept as an internal note on ticket {ticket}: replies here do not reach the customer. "
                               "To answer the customer, write in the ticket's own thread.", ticket=t.ticket(1001))
