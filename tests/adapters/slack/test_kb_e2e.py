"""An agent in Slack finds an article for a Czech customer's ticket and sends it with a button;
the customer reads it in Telegram in Czech, with "Was this helpful?"."""

from __future__ import annotations

from core.knowledge import KnowledgeBase
from tests.adapters.slack.conftest import AGENT, DESK, Desk, telegram_ticket
from tests.core.kb_samples import ARTICLES


def use_articles(world: Desk) -> None:
    # Until the configuration names a folder (the knowledge base's own branch), the running
    # process's knowledge base is given its articles here.
    kb: KnowledgeBase = world.desk.services.knowledge
    kb.items[:] = ARTICLES


async def test_an_agent_sends_an_article_from_slack_and_the_customer_reads_it_in_czech(world: Desk) -> None:
    customer = await telegram_ticket(world)
    use_articles(world)
    response = await world.events.slash_command(AGENT, text="kb 1001 heslo", channel_id=DESK)
    assert response.status == 200
    await world.slack.wait_for(lambda: "reset-password" in str(world.slack.ephemerals[-1:]), timeout=5)
    answer = world.slack.ephemerals[-1]
    assert "Obnovení hesla" in str(answer) and "desk:kbsend:0" in str(answer)  # in the customer's language
    await world.click(AGENT, "desk:kbsend:0", 1001, value="reset-password")
    thread = " ".join(m.get("text", "") for m in world.thread(1001))
    assert "Obnovení hesla" in thread  # the desk's thread shows what was sent
    await world.tg.wait_for(lambda: any("Obnovení hesla" in (m.get("text") or "") for m in customer.sent()),
                                    timeout=10)
    sent = next(m for m in customer.sent() if "Obnovení hesla" in (m.get("text") or ""))
    assert "Zapomenuté heslo" in sent["text"] and "**" not in sent["text"]
    assert "kb:yes:cs:reset-password" in str(sent.get("reply_markup"))
    await customer.press("kb:yes:cs:reset-password")
    report = await world.desk.services.articles.figures(world.desk.services.clock().replace(year=2000),
                                                        world.desk.services.clock().replace(year=2100))
    assert report.per_article["reset-password"] == {"shown": 1, "helpful": 1}
