"""Time on tickets from Slack: `/helpdesk time ...` through the real process, author-only
corrections, and the card redrawn with the ticket's total."""

from __future__ import annotations

from tests.adapters.slack.conftest import AGENT, AGENT_CS, DESK, OUTSIDER, Desk, telegram_ticket


def _time_field(world: Desk, number: int) -> list[str]:
    card = world.card(number)
    assert card is not None
    return [f["text"] for b in card["blocks"] if b["type"] == "section" for f in b.get("fields", [])
            if f["text"].startswith("*Time logged*")]


async def test_time_logged_from_slack(world: Desk) -> None:
    await telegram_ticket(world)

    async def helpdesk(text: str, expected: str, user: str = AGENT) -> None:
        before = len(world.slack.ephemerals)
        response = await world.events.slash_command(user, text=text, channel_id=DESK)
        assert response.status == 200
        await world.slack.wait_for(lambda: expected in str(world.slack.ephemerals[before:]), timeout=5)

    await world.settle()
    assert _time_field(world, 1001) == []
    await helpdesk("time 1001 25m investigation checked the logs &amp; the &lt;config&gt;",
                   "Logged 25 min on ticket #1001 (entry 1, Investigation).")
    await helpdesk("time 1001 1h30", "Only help-desk agents can do this.", user=OUTSIDER)
    await helpdesk("time fix 1 40m", "může změnit nebo smazat jen", user=AGENT_CS)  # in her language
    await helpdesk("time 1001 1:30 Vývoj", "#1001", user=AGENT_CS)  # in Czech: an activity by its Czech name
    await helpdesk("time fix 1 40m", "Entry 1 on ticket #1001 is now 40 min.")
    await helpdesk("time 1001", "Total: 2 hr 10 min")
    await world.settle()  # the news of each entry draws the card again
    assert _time_field(world, 1001) == ["*Time logged*\n2 hr 10 min"]
    from core.services.timelog import TimeService
    services = world.desk.services
    entries = await TimeService(services.db, services.config, services.clock, services.news).entries(1001)
    assert entries[0].note == "checked the logs & the <config>"  # as typed, not as Slack escapes it
    assert not [m for m in world.thread(1001) if "Time" in (m.get("text") or "")]  # no line in the thread
