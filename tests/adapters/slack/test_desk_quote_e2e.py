"""A quote for paid work from Slack: `/helpdesk quote ...` through the real process, the
Telegram customer's Approve, time refused before and logged after, the card and the thread."""

from __future__ import annotations

from tests.adapters.slack.conftest import AGENT, DESK, Desk, telegram_ticket


def _quote_field(world: Desk, number: int) -> list[str]:
    card = world.card(number)
    assert card is not None
    return [f["text"] for b in card["blocks"] if b["type"] == "section" for f in b.get("fields", [])
            if f["text"].startswith("*Quote*")]


async def test_a_quote_approved_by_the_customer(world: Desk) -> None:
    customer = await telegram_ticket(world)

    async def helpdesk(text: str, expected: str, user: str = AGENT) -> None:
        before = len(world.slack.ephemerals)
        response = await world.events.slash_command(user, text=text, channel_id=DESK)
        assert response.status == 200
        await world.slack.wait_for(lambda: expected in str(world.slack.ephemerals[before:]), timeout=5)

    await world.settle()
    assert _quote_field(world, 1001) == []
    await helpdesk("quote 1001 1500 CZK two more reports &amp; a chart",
                   "Quote sent to the customer of ticket #1001: CZK1,500.00.")
    await helpdesk("time 1001 25m", "has been awaiting the customer's approval of a quote since")
    await world.settle()
    [offer] = [m for m in customer.sent() if "quote:yes:1001:1" in str(m.get("reply_markup"))]
    assert "1\xa0500,00\xa0Kč" in offer["text"] and "two more reports & a chart" in offer["text"]
    assert [f for f in _quote_field(world, 1001) if "awaiting approval since" in f]
    assert [m for m in world.thread(1001) if "sent the customer a quote" in (m.get("text") or "")]
    said = await customer.press("quote:yes:1001:1")
    assert any("1\xa0500,00\xa0Kč" in m.get("text", "") for m in said)
    await world.settle()
    assert [f for f in _quote_field(world, 1001) if "approved by" in f]
    assert [m for m in world.thread(1001) if "approved the quote" in (m.get("text") or "")]
    await helpdesk("time 1001 25m", "Logged 25 min on ticket #1001")
    from core.domain.quotes import QuoteState
    latest = await world.desk.services.quotes.latest(1001)
    assert latest is not None and latest.state == QuoteState.APPROVED and latest.note == "two more reports & a chart"
