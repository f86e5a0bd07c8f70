"""Time logged by pressing, in Slack: the card's Log time (an activity, then a duration, in an
ephemeral message that takes each step's place), and the time spent asked when a ticket is resolved."""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import select

from core.domain.model import Status
from core.services.timelog import TimeService
from core.storage.models import TimeEntry
from tests.adapters.slack.conftest import AGENT, DESK, OUTSIDER, Desk, telegram_ticket


def _time_field(world: Desk, number: int) -> list[str]:
    card = world.card(number)
    assert card is not None
    return [f["text"] for b in card["blocks"] if b["type"] == "section" for f in b.get("fields", [])
            if f["text"].startswith("*Time logged*")]


def _labels(shown: dict[str, Any]) -> list[str]:
    return [e["text"]["text"] for b in shown.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


async def _press(world: Desk, user: str, shown: dict[str, Any], label: str) -> None:
    """A press of a button of an ephemeral message, as Slack sends it (the container says ephemeral)."""
    block, element = next((b, e) for b in shown["blocks"] if b["type"] == "actions" for e in b["elements"]
                          if e["text"]["text"] == label)
    ts = shown["message_ts"]
    response = await world.events.block_action(
        user, element["action_id"], element["value"], block_id=block["block_id"], channel=DESK, message_ts=ts,
        text=label, container={"type": "message", "message_ts": ts, "channel_id": DESK, "is_ephemeral": True})
    assert response.status == 200, response.body
    await world.settle()


async def _entries(world: Desk, number: int) -> list[tuple[int, str]]:
    services = world.desk.services
    service = TimeService(services.db, services.config, services.clock, services.news)
    return [(e.minutes, e.activity) for e in await service.entries(number)]


async def test_log_time_from_the_card(world: Desk) -> None:
    await telegram_ticket(world)
    await world.settle()
    before = len(world.slack.ephemerals)
    await world.click(AGENT, "desk:time", 1001, value=None)
    await world.slack.wait_for(lambda: len(world.slack.ephemerals) > before)
    shown = world.slack.ephemerals[-1]
    assert shown["user"] == AGENT
    assert "Log time on ticket #1001: which activity?" in shown["text"]
    assert "/helpdesk time 1001 25m" in shown["text"]
    assert _labels(shown) == ["Investigation", "Communication with the customer", "Development", "No activity"]

    await _press(world, AGENT, shown, "Communication with the customer")
    assert shown.get("replaced") and "(Communication with the customer): how long?" in shown["text"]
    assert _labels(shown)[:6] == ["15 min", "30 min", "45 min", "1 hr", "1 hr 30 min", "2 hr"]
    assert "/helpdesk time 1001 2h15 communication" in shown["text"]

    await _press(world, OUTSIDER, shown, "45 min")  # not an agent: refused, nothing logged
    await world.slack.wait_for(lambda: "Only help-desk agents" in str(world.slack.ephemerals[-1]))
    assert await _entries(world, 1001) == []

    offered = copy.deepcopy(shown)
    await _press(world, AGENT, shown, "45 min")
    assert shown["text"].startswith("Logged 45 min on ticket #1001")
    await _press(world, AGENT, offered, "45 min")  # a second click, before the buttons were gone
    await world.slack.wait_for(lambda: "already logged on ticket #1001" in str(world.slack.ephemerals[-1]))
    assert not shown["blocks"]  # the buttons are gone with the question
    assert await _entries(world, 1001) == [(45, "communication")]
    assert _time_field(world, 1001) == ["*Time logged*\n45 min"]


async def test_resolving_asks_the_time_spent(world: Desk) -> None:
    await telegram_ticket(world)
    await world.settle()
    await world.click(AGENT, "desk:claim", 1001)
    before = len(world.slack.ephemerals)
    await world.click(AGENT, "desk:status", 1001, selected_option="resolved")
    await world.slack.wait_for(lambda: len(world.slack.ephemerals) > before)
    shown = world.slack.ephemerals[-1]
    assert "Ticket #1001 is now Resolved" in shown["text"] and "Time spent on ticket #1001?" in shown["text"]
    assert _labels(shown)[-1] == "Skip"
    await _press(world, AGENT, shown, "1 hr 30 min")
    assert shown["text"].startswith("Logged 1 hr 30 min on ticket #1001")
    assert await _entries(world, 1001) == [(90, "")]
    assert _time_field(world, 1001) == ["*Time logged*\n1 hr 30 min"]

    # Typed, and resolved again: the prompt says what is logged already; Skip logs nothing.
    await world.click(AGENT, "desk:status", 1001, selected_option="accepted")
    response = await world.events.slash_command(AGENT, text="status 1001 resolved", channel_id=DESK)
    assert response.status == 200
    await world.slack.wait_for(lambda: "1 hr 30 min logged so far" in str(world.slack.ephemerals[-1]))
    shown = world.slack.ephemerals[-1]
    await _press(world, AGENT, shown, "Skip")
    assert shown["text"] == "No time logged on ticket #1001."
    assert await _entries(world, 1001) == [(90, "")]
    assert (await world.desk.services.queries.get(1001)).status == Status.RESOLVED


async def test_a_second_press_in_another_process_logs_nothing_more(world: Desk) -> None:
    """The offer's key is kept with the time it logged: a second press of the same offer, taken
    by a process that did not see the first (Socket Mode spreads events over connections, or a
    restart came between), is told the time is already logged, and logs nothing."""
    await telegram_ticket(world)
    await world.settle()
    await world.click(AGENT, "desk:claim", 1001)
    before = len(world.slack.ephemerals)
    await world.click(AGENT, "desk:status", 1001, selected_option="resolved")
    await world.slack.wait_for(lambda: len(world.slack.ephemerals) > before)
    shown = world.slack.ephemerals[-1]
    offered = copy.deepcopy(shown)
    await _press(world, AGENT, shown, "1 hr 30 min")
    assert await _entries(world, 1001) == [(90, "")]
    async with world.desk.services.db.read() as session:
        kept = (await session.execute(select(TimeEntry.offer))).scalars().all()
    assert kept == [f"slack:{DESK}:{shown['message_ts']}"]
    await _press(world, AGENT, offered, "1 hr 30 min")
    await world.slack.wait_for(lambda: "already logged on ticket #1001" in str(world.slack.ephemerals[-1]))
    assert await _entries(world, 1001) == [(90, "")], "the same offer logged its time twice"
