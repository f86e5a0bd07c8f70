"""Review of #27 (probe): a hand-over's desk row retried after the L3 channel's post failed
for a passing reason posts its line in the card's thread again. Fails on b60a358."""

from __future__ import annotations

from tests.adapters.slack.conftest import AGENT, DESK, Desk, telegram_ticket
from tests.adapters.slack.test_desk_handover_e2e import L3, world  # noqa: F401 - the fixture


async def test_a_retried_hand_over_row_says_it_once_in_the_thread(world: Desk) -> None:  # noqa: F811
    """adapters/slack/desk.py posts the escalation's line in the card's thread, then tells the
    L3 channel; a passing failure there (here chat.getPermalink answering ok=false with a
    non-permanent error) raises, the relay retries the whole row, and the thread gets the line
    (with the hand-over and the L3 mention) a second time."""
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


async def test_the_contact_talking_under_the_hand_over_in_the_l3_channel_is_not_sent_to_the_customer(
        world: Desk) -> None:  # noqa: F811
    """A reply under the hand-over's post in the L3 channel is made the ticket's (adapters/slack/
    adapter.py _thread_reply, placed_at) as an ordinary reply: the contact (Eva) talking with the
    specialists there ("thanks, I'll ask them about the proxy") is sent to the customer. The L3
    channel is the specialists' room: a reply there should be an internal note unless asked."""
    u = await telegram_ticket(world)
    await world.click(AGENT, "desk:escalate", 1001)
    await world.events.slash_command(
        AGENT, text="escalate 1001 checked: logs | reproduce: log in | told: today", channel_id=DESK)
    await world.settle()
    [placed] = world.slack.messages_in(L3)
    heard = len(u.sent())
    await world.processed(await world.events.channel_message(
        AGENT, "Thanks, I'll ask them about the proxy before we tell the customer anything.", channel=L3,
        thread_ts=placed["ts"]))
    await world.settle()
    assert not any("ask them about the proxy" in m.get("text", "") for m in u.sent()[heard:])
