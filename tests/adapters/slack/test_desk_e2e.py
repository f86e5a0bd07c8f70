"""Agents in Slack, a customer in Telegram, through the real process end to end."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from core.domain.model import Status
from core.services.news import DeskNews
from core.storage.models import Customer, StatusChange
from tests.adapters.slack.conftest import AGENT, AGENT_CS, DESK, OUTSIDER, SLACK_CUSTOMER, Desk, telegram_ticket


def mrkdwn_texts(node: object) -> list[str]:
    """Every mrkdwn text in a Block Kit structure: what Slack parses for pings and links."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            found.append(node["text"])
        for value in node.values():
            found += mrkdwn_texts(value)
    elif isinstance(node, list):
        for value in node:
            found += mrkdwn_texts(value)
    return found


async def test_the_whole_loop(world: Desk) -> None:
    u = await telegram_ticket(world, description="Od rána vrací <@U123> a <https://evil.example|klikni> chybu 500.")
    card = world.card(1001)
    assert card is not None, "the new ticket is posted in the department's channel"
    blocks = str(card["blocks"])
    parsed = " ".join([card["text"], *mrkdwn_texts(card["blocks"])])
    assert "Nelze se přihlásit &lt;!channel&gt;" in card["text"]
    assert "&lt;@U123&gt;" in parsed and "&lt;https://evil.example|klikni&gt;" in parsed
    assert "<!channel>" not in parsed and "<@U123>" not in parsed and "<https://evil.example|" not in parsed
    assert "desk:claim" in blocks and "desk:assign" in blocks and "desk:escalate" in blocks

    await world.click(AGENT, "desk:claim", 1001)
    assert (await world.desk.services.queries.get(1001)).status == Status.ACCEPTED
    taken = u.sent()[-1]["text"]
    assert "tiket #1001 převzal" in taken  # the customer hears it in Czech
    assert "<@UAGENT001>" in str(world.card(1001)["blocks"])  # the card updated in place

    await world.processed(await world.events.channel_message(
        AGENT, "Jaký prohlížeč používáte? &lt;b&gt;", channel=DESK, thread_ts=world.card(1001)["ts"]))
    assert "Jaký prohlížeč používáte? <b>" in u.sent()[-1]["text"]
    assert (await world.desk.services.queries.get(1001)).status == Status.WAITING

    await world.processed(await world.events.channel_message(
        AGENT, "note: probably the proxy", channel=DESK, thread_ts=world.card(1001)["ts"]))
    assert "proxy" not in u.sent()[-1]["text"]  # internal notes stay internal

    await u.say("Firefox 133")
    await world.settle()
    assert any("Firefox 133" in m.get("text", "") for m in world.thread(1001))
    assert (await world.desk.services.queries.get(1001)).status == Status.ACCEPTED

    await world.click(AGENT, "desk:status", 1001, selected_option="resolved")
    assert "confirm:1001" in u.buttons()
    await u.press("confirm:1001")
    await world.settle()
    assert (await world.desk.services.queries.get(1001)).status == Status.CLOSED
    thread = " ".join(m.get("text", "") for m in world.thread(1001))
    assert "Closed" in thread and "Resolved" in thread


async def test_outsiders_cannot_act(world: Desk) -> None:
    await telegram_ticket(world)
    before = len(world.slack.ephemerals)
    await world.click(OUTSIDER, "desk:claim", 1001)
    assert (await world.desk.services.queries.get(1001)).status == Status.NEW
    assert len(world.slack.ephemerals) == before + 1
    await world.processed(await world.events.channel_message(
        OUTSIDER, "I am not an agent", channel=DESK, thread_ts=world.card(1001)["ts"]))
    assert not await world.desk.services.queries.thread((await world.desk.services.queries.get(1001)).id)
    response = await world.events.slash_command(OUTSIDER, text="queue", channel_id="CGENERAL1")
    assert response.status == 200
    await world.slack.wait_for(lambda: len(world.slack.ephemerals) >= before + 3)
    assert "Only help-desk agents" in str(world.slack.ephemerals[-1])


async def test_a_control_that_decodes_to_nothing_is_said_to_be_inactive(world: Desk) -> None:
    """A control of an older card (or a forged one) changes nothing and says so, in the agent's language."""
    await telegram_ticket(world)
    card = world.card(1001)
    before = len(world.slack.ephemerals)
    for action_id, block_id in (("desk:teleport", "desk:1001"), ("desk:claim", "desk:abc")):
        response = await world.events.block_action(AGENT_CS, action_id, "1001", block_id=block_id, channel=DESK,
                                                   message_ts=card["ts"], message=card)
        assert response.status == 200
    await world.slack.wait_for(lambda: len(world.slack.ephemerals) >= before + 2)
    assert all("Toto tlačítko už není aktivní." in str(e) for e in world.slack.ephemerals[before:])
    assert (await world.desk.services.queries.get(1001)).status == Status.NEW


async def test_forged_and_stale_signatures_are_refused(world: Desk) -> None:
    await telegram_ticket(world)
    card = world.card(1001)
    for delivery in ({"forge_signature": True}, {"omit_signature": True}, {"timestamp_shift": -360}):
        response = await world.events.block_action(AGENT, "desk:claim", "1001", block_id="desk:1001",
                                                   channel=DESK, message_ts=card["ts"], **delivery)
        assert response.status == 401, delivery
    await world.settle()
    async with world.desk.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(StatusChange))).scalar_one() == 1
    assert (await world.desk.services.queries.get(1001)).assignee_id is None


async def test_retried_event_is_processed_once(world: Desk) -> None:
    u = await telegram_ticket(world)
    event = world.events.message_event(user=AGENT, text="Once only", channel=DESK, thread_ts=world.card(1001)["ts"])
    envelope = world.events.event_envelope(event, event_id="Ev0RETRY1")
    await world.processed(await world.events.post_json(envelope))
    await world.processed(await world.events.post_json(envelope, retry_num=1, retry_reason="http_timeout"))
    ticket = await world.desk.services.queries.get(1001)
    assert [m.body for m in await world.desk.services.queries.thread(ticket.id)] == ["Once only"]
    assert sum("Once only" in m["text"] for m in u.sent()) == 1


async def test_assign_escalate_priority_and_agent_locale(world: Desk) -> None:
    await telegram_ticket(world)
    await world.click(AGENT, "desk:assign", 1001, selected_user=AGENT_CS, action_type="users_select")
    ticket = await world.desk.services.queries.get(1001)
    assert ticket.assignee_id is not None
    thread = " ".join(m.get("text", "") for m in world.thread(1001))
    assert f"<@{AGENT_CS}> is now handling this ticket" in thread
    dms = world.slack.messages_in(world.slack.open_dm(AGENT_CS))
    assert dms and "#1001" in dms[-1]["text"] and "přiřazen" in dms[-1]["text"]  # Jana reads Czech
    await world.click(AGENT, "desk:assign", 1001, selected_user=OUTSIDER, action_type="users_select")
    assert "not a help-desk agent" in str(world.slack.ephemerals[-1])
    await world.click(AGENT, "desk:priority", 1001, selected_option="urgent")
    assert (await world.desk.services.queries.get(1001)).priority == "urgent"
    await world.click(AGENT, "desk:escalate", 1001)
    await world.click(AGENT, "desk:escalate", 1001)  # to L3: the hand-over's modal
    response = await world.events.view_submission(AGENT, world.slack.views[-1], {
        "checked": "logs", "reproduce": "log in", "told": "a specialist looks today"})
    assert response.status == 200
    await world.settle()
    assert (await world.desk.services.queries.get(1001)).tier == 3
    assert "desk:escalate" not in str(world.card(1001)["blocks"])  # L3 is the top
    await world.click(AGENT, "desk:status", 1001, selected_option="new")
    assert "cannot go from" in str(world.slack.ephemerals[-1])


async def test_helpdesk_command(world: Desk) -> None:
    await telegram_ticket(world)
    await world.click(AGENT, "desk:claim", 1001)
    for text, expected in (("mine", "#1001"), ("queue technical", "#1001"), ("show 1001", "Chyba 500"),
                           ("stats", "Technical support"), ("", "/helpdesk queue")):
        response = await world.events.slash_command(AGENT, text=text, channel_id=DESK)
        assert response.status == 200
        await world.slack.wait_for(lambda: expected in str(world.slack.ephemerals[-1:]), timeout=5)


async def test_slack_user_as_customer(world: Desk) -> None:
    dm = world.slack.open_dm(SLACK_CUSTOMER)

    async def last_buttons() -> list[str]:
        await world.settle()
        for m in reversed(world.slack.messages_in(dm)):
            keys = [e["value"] for b in m.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]
            if keys:
                return keys
        return []

    async def press(key: str) -> None:
        message = next(m for m in reversed(world.slack.messages_in(dm))
                       if key in [e.get("value") for b in m.get("blocks") or [] if b["type"] == "actions"
                                  for e in b["elements"]])
        action = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                      if e["value"] == key)
        before = len(world.slack.messages_in(dm))
        response = await world.events.block_action(SLACK_CUSTOMER, action["action_id"], key, channel=dm,
                                                   message_ts=message["ts"], message=message)
        assert response.status == 200
        await world.slack.wait_for(lambda: len(world.slack.messages_in(dm)) > before, timeout=5)
        await world.settle()

    async def say(text: str) -> None:
        before = len(world.slack.messages_in(dm))
        await world.events.dm_message(SLACK_CUSTOMER, text)
        # The user's own message is stored too; wait for the bot's answer after it.
        await world.slack.wait_for(lambda: len(world.slack.messages_in(dm)) > before + 1, timeout=5)

    await say("Olá")
    assert (await last_buttons())[0] == "lang:pt"  # from the Slack locale pt-BR
    await press("lang:pt")
    await press("dep:billing")
    await press("rt:consultation")
    await say("Segunda via do boleto")
    await press("pri:normal")
    await press("att:done")
    await press("rev:submit")
    texts = [m.get("text", "") for m in world.slack.messages_in(dm)]
    assert any("#1001" in t and "chamado" in t for t in texts)
    ticket = await world.desk.services.queries.get(1001)
    assert ticket.description == "Olá" and ticket.department == "billing"
    retired = [m for m in world.slack.messages_in(dm) if "✓" in str(m.get("blocks"))]
    assert retired, "pressed prompts lose their buttons"
    await world.click(AGENT, "desk:claim", 1001)
    assert any("chamado #1001" in m.get("text", "") for m in world.slack.messages_in(dm)[-2:])


async def test_a_customer_button_pressed_outside_their_dm_changes_nothing(world: Desk) -> None:
    dm, elsewhere = world.slack.open_dm(SLACK_CUSTOMER), world.slack.open_dm(OUTSIDER)
    before = len(world.slack.messages_in(dm))
    await world.events.dm_message(SLACK_CUSTOMER, "Olá")
    await world.slack.wait_for(lambda: len(world.slack.messages_in(dm)) > before + 1, timeout=10)
    await world.settle()
    message = next(m for m in reversed(world.slack.messages_in(dm)) if "lang:pt" in str(m.get("blocks")))
    action = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
                  if e["value"] == "lang:pt")
    counts = len(world.slack.messages_in(dm)), len(world.slack.messages_in(elsewhere))
    for channel in (elsewhere, DESK):  # another user's DM, a channel
        response = await world.events.block_action(SLACK_CUSTOMER, action["action_id"], "lang:pt", channel=channel)
        assert response.status == 200
    await world.settle()
    await asyncio.sleep(0.5)
    assert (len(world.slack.messages_in(dm)), len(world.slack.messages_in(elsewhere))) == counts
    assert not [m for m in world.slack.messages_in(DESK) if "lang" in str(m.get("blocks"))]
    async with world.desk.db.read() as s:
        chat, locale = (await s.execute(select(Customer.chat_id, Customer.locale).where(
            Customer.platform == "slack", Customer.platform_user_id == SLACK_CUSTOMER))).one()
    assert chat == dm and locale is None  # neither moved nor answered: the choice was not taken
    response = await world.events.block_action(SLACK_CUSTOMER, action["action_id"], "lang:pt", channel=dm,
                                               message_ts=message["ts"], message=message)
    assert response.status == 200
    await world.slack.wait_for(lambda: len(world.slack.messages_in(dm)) > counts[0], timeout=10)


async def test_a_dm_reply_that_meets_server_errors_still_arrives_once(world: Desk) -> None:
    dm = world.slack.open_dm(SLACK_CUSTOMER)
    world.slack.fail_next("chat.postMessage", status=500, count=2)
    before = len(world.slack.messages_in(dm))
    await world.events.dm_message(SLACK_CUSTOMER, "Olá")
    await world.slack.wait_for(lambda: len(world.slack.messages_in(dm)) > before + 1, timeout=10)
    await world.settle()
    await asyncio.sleep(0.5)
    prompts = [m for m in world.slack.messages_in(dm) if "lang:pt" in str(m.get("blocks"))]
    assert len(prompts) == 1


async def test_files_relay_both_ways(world: Desk) -> None:
    u = await telegram_ticket(world)
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 300
    await u.send_document("screen.png", png, "image/png")
    await world.settle()
    uploads = world.slack.calls_to("files.completeUploadExternal")
    assert uploads and uploads[-1].params.get("thread_ts") == world.card(1001)["ts"]
    shared = world.slack.add_file("fix.txt", b"apply this patch\n", user=AGENT, mimetype="text/plain")
    await world.processed(await world.events.channel_message(
        AGENT, "Here is the fix", channel=DESK, thread_ts=world.card(1001)["ts"], files=[shared]))
    documents = world.tg.requests_for("sendDocument", 700)
    assert documents and documents[-1].files["document"].content == b"apply this patch\n"
    assert any("Here is the fix" in m["text"] for m in u.sent())


async def test_helpdesk_acts_like_the_buttons(world: Desk) -> None:
    """`/helpdesk` speaks the agents' core's commands: the same actions as the card's controls."""
    await telegram_ticket(world)
    for text, expected in (("claim 1001", "You now handle ticket #1001."),
                           (f"assign 1001 <@{AGENT_CS}|jana>", "Jana Novak now handles ticket #1001."),
                           ("priority 1001 nonsense", "There is no priority “nonsense”"),
                           ("show 9999", "There is no ticket #9999.")):
        response = await world.events.slash_command(AGENT, text=text, channel_id=DESK)
        assert response.status == 200
        await world.slack.wait_for(lambda: expected in str(world.slack.ephemerals[-1:]), timeout=5)
    await world.settle()
    ticket = await world.desk.services.queries.get(1001)
    assert ticket.status == Status.ACCEPTED and ticket.priority == "high"
    thread = " ".join(m.get("text", "") for m in world.thread(1001))
    assert f"<@{AGENT_CS}> is now handling this ticket" in thread


async def test_news_of_no_ticket_is_a_plain_message_in_the_agents_channel(world: Desk) -> None:
    await world.desk.services.desk.tell_agents(
        DeskNews.SET_ASIDE, place="the Quarantine folder", reason="unreadable", sender="<!channel> x@example.com",
        subject="Faktura <@U123>")
    await world.settle()
    [posted] = world.slack.messages_in(DESK)
    assert "thread_ts" not in posted and not posted.get("blocks")  # no card, no thread
    assert posted["text"] == ("⚠️ An incoming message could not be handled (unreadable) and was set aside in "
                              "the Quarantine folder. From: &lt;!channel&gt; x@example.com. "
                              "Subject: Faktura &lt;@U123&gt;")  # in English, the desk's language, escaped


async def test_a_message_taken_back_after_the_desk_saw_it_is_withdrawn_in_the_thread(world: Desk) -> None:
    u = await telegram_ticket(world)
    await u.say("Tohle patří jinam")
    await world.settle()
    assert any("Tohle patří jinam" in m.get("text", "") for m in world.thread(1001))
    await u.press(next(k for k in u.buttons() if k.startswith("added:undo:")))
    await world.settle()
    assert world.thread(1001)[-1]["text"] == "The customer took back their message: “Tohle patří jinam”"
    assert await world.desk.services.queries.thread((await world.desk.services.queries.get(1001)).id) == []
