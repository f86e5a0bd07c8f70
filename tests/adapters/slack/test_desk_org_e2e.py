"""Organisations from Slack: `/helpdesk org ...` through the real process, and the card showing
the requester's organisation."""

from __future__ import annotations

from tests.adapters.slack.conftest import AGENT, DESK, OUTSIDER, Desk, telegram_ticket


async def test_an_organisation_made_and_a_requester_added_from_slack(world: Desk) -> None:
    await telegram_ticket(world)

    async def helpdesk(text: str, expected: str, user: str = AGENT) -> None:
        before = len(world.slack.ephemerals)
        response = await world.events.slash_command(user, text=text, channel_id=DESK)
        assert response.status == 200
        await world.slack.wait_for(lambda: expected in str(world.slack.ephemerals[before:]), timeout=5)

    await helpdesk("org new Acme <b>Corp</b> everybody", "Organisation Acme &lt;b&gt;Corp&lt;/b&gt; created")
    await helpdesk("org new Beta", "Only help-desk agents can do this.", user=OUTSIDER)
    await helpdesk("org “Acme <b>Corp</b>” member add #1001 primary",
                   "The requester of ticket #1001 now belongs to Acme &lt;b&gt;Corp&lt;/b&gt; (role: primary contact)")
    await helpdesk('org "Acme <b>Corp</b>"', "*Acme &lt;b&gt;Corp&lt;/b&gt;*\\nSharing: everybody")
    await helpdesk("org Acme domain add nonsense", "There is no organisation “Acme”.")
    assert [v.name for v in await world.desk.services.organisations.all()] == ["Acme <b>Corp</b>"]

    await world.click(AGENT, "desk:claim", 1001)  # a change draws the card again
    card = world.card(1001)
    assert card is not None
    fields = [f["text"] for b in card["blocks"] if b["type"] == "section" for f in b.get("fields", [])]
    assert "*Organisation*\nAcme &lt;b&gt;Corp&lt;/b&gt; · primary contact" in fields
