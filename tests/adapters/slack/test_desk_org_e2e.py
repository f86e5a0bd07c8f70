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

    # Typed as Slack sends it (should_escape): entities, and addresses and domains made links.
    await helpdesk("org new Acme &amp; &lt;Co&gt; everybody", "Organisation Acme &amp; &lt;Co&gt; created")
    await helpdesk("org new Beta", "Only help-desk agents can do this.", user=OUTSIDER)
    await helpdesk("org “Acme &amp; &lt;Co&gt;” member add #1001 primary",
                   "The requester of ticket #1001 now belongs to Acme &amp; &lt;Co&gt; (role: primary contact)")
    await helpdesk('org "Acme &amp; &lt;Co&gt;" domain add <http://acme.com|acme.com>',
                   "Every address at acme.com now belongs to Acme &amp; &lt;Co&gt;.")
    await helpdesk('org "Acme &amp; &lt;Co&gt;" member add <mailto:ana@gmail.com|ana@gmail.com>',
                   "ana@gmail.com now belongs to Acme &amp; &lt;Co&gt; (role: member).")
    await helpdesk('org "Acme &amp; &lt;Co&gt;"', "*Acme &amp; &lt;Co&gt;*\\nSharing: everybody")
    await helpdesk("org Acme domain add nonsense", "There is no organisation “Acme”.")
    await helpdesk('report org "Acme &amp; &lt;Co&gt;"', "Only the tickets of the organisation Acme &amp; &lt;Co&gt;")
    [view] = await world.desk.services.organisations.all()
    assert (view.name, view.domains, view.members) == ("Acme & <Co>", ("acme.com",), (("ana@gmail.com", "member"),))

    await world.click(AGENT, "desk:claim", 1001)  # a change draws the card again
    card = world.card(1001)
    assert card is not None
    fields = [f["text"] for b in card["blocks"] if b["type"] == "section" for f in b.get("fields", [])]
    assert "*Organisation*\nAcme &amp; &lt;Co&gt; · primary contact" in fields
