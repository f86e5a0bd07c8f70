"""Slack pieces on their own: escaping, agents, the manifest's scopes."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.agents import AgentDirectory
from adapters.slack.blocks import offer_blocks, reply_blocks
from adapters.slack.inbound import to_plain
from adapters.slack.mrkdwn import escape, safe
from core.agents.results import Offer, Pick
from core.agents.timecard import MOST_ACTIVITIES, QUICK_MINUTES
from core.agents.timekeys import NO_ACTIVITY, TimeLog, TimeMenu, TimeSkip
from core.chat.messages import Choice, Reply
from tests.fakes.slack_api import FakeSlackAPI

ROOT = Path(__file__).resolve().parents[3]


def test_escape_neutralizes_every_live_syntax() -> None:
    hostile = "<!channel> <!here> <@U123> <#C1|x> <https://evil.example|click> & co"
    out = escape(hostile)
    assert "<" not in out and ">" not in out and "&amp; co" in out
    assert safe("&" * 10, 6).endswith("…") and "&am…" not in safe("&" * 10, 6)


def test_agent_text_to_plain() -> None:
    text = "See <https://x.example/a|the guide> or <https://y.example>, ask <@U1|eva> in <#C9|help> &lt;b&gt; &amp;"
    assert to_plain(text) == "See the guide (https://x.example/a) or https://y.example, ask @eva in #help <b> &"


def test_customer_reply_blocks_fit_slack() -> None:
    reply = Reply("x" * 7000, tuple((Choice(f"k{i}", f"Option {i} " + "y" * 100),) for i in range(30)))
    text, blocks = reply_blocks(reply)
    assert len(blocks) <= 50 and len(text) <= 3000
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert all(len(e["text"]["text"]) <= 75 for e in buttons)
    assert len({e["action_id"] for e in buttons}) == len(buttons)  # unique within the message


def test_every_pick_of_a_full_activity_menu_is_a_button() -> None:
    """The card's Log time with the most activities a menu takes, and No activity: rows of one
    pick share actions blocks (Slack's 25 elements a block), so none is dropped."""
    rows = tuple((Pick(f"Activity {i}", TimeMenu(1042, f"a{i}")),) for i in range(MOST_ACTIVITIES))
    offer = Offer("", "Log time on ticket #1042: which activity?",
                  (*rows, (Pick("No activity", TimeMenu(1042, NO_ACTIVITY)),)), "", 1042)
    blocks = offer_blocks("x", offer)
    actions = [b for b in blocks if b["type"] == "actions"]
    labels = [e["text"]["text"] for b in actions for e in b["elements"]]
    assert labels == [f"Activity {i}" for i in range(MOST_ACTIVITIES)] + ["No activity"]
    assert all(len(b["elements"]) <= 25 for b in actions) and len(blocks) <= 50
    assert len({b["block_id"] for b in actions}) == len(actions)
    ids = [e["action_id"] for b in actions for e in b["elements"]]
    assert len(set(ids)) == len(ids)
    # More single rows than one block takes: a second block, still every pick.
    many = Offer("", "?", tuple((Pick(f"P{i}", TimeMenu(1042, f"p{i}")),) for i in range(30)), "", 1042)
    assert [len(b["elements"]) for b in offer_blocks("x", many) if b["type"] == "actions"] == [25, 5]


def test_the_quick_durations_keep_their_rows() -> None:
    """Rows of several picks (the quick durations) stay side by side, Skip in a block of its own."""
    durations = tuple(tuple(Pick(f"{m}", TimeLog("log", 1042, m)) for m in QUICK_MINUTES[i:i + 4])
                      for i in range(0, len(QUICK_MINUTES), 4))
    offer = Offer("", "Time spent?", (*durations, (Pick("Skip", TimeSkip(1042)),)), "", 1042)
    assert [[e["text"]["text"] for e in b["elements"]] for b in offer_blocks("x", offer) if b["type"] == "actions"] \
        == [["15", "30", "45", "60"], ["90", "120", "180", "240"], ["Skip"]]


async def test_agent_directory_rules() -> None:
    async with FakeSlackAPI() as api:
        for uid in ("U1", "U2", "U3"):
            api.add_user(uid, uid.lower(), locale="ru-RU" if uid == "U2" else "en-US")
        api.add_channel("C1", "desk", members=["U1", "U2"])
        api.add_usergroup("S1", "support", ["U3"])
        client = AsyncWebClient(token=api.bot_token, base_url=api.base_url)
        fixed = AgentDirectory(client, users=["U3", " "], channels=["C1"])
        assert await fixed.is_agent("U3") and not await fixed.is_agent("U1")
        group = AgentDirectory(client, group="S1", channels=["C1"])
        assert await group.is_agent("U3") and not await group.is_agent("U1")
        members = AgentDirectory(client, channels=["C1"])
        assert await members.is_agent("U1") and await members.is_agent("U2") and not await members.is_agent("U3")
        assert (await members.profile("U2"))[1] == "ru"
        for ref in ("<@U2|u2>", "<@U2>", "U2"):
            found = await members.lookup(ref)
            assert found is not None and (found.user_id, found.locale) == ("U2", "ru"), ref
        assert await members.lookup("@u2") is None and await members.lookup("#general") is None


# The Web API methods the code calls, and the scope each needs.
SCOPES = {
    "chat_postMessage": "chat:write", "chat_update": "chat:write", "chat_postEphemeral": "chat:write",
    "conversations_open": "im:write", "users_info": "users:read", "usergroups_users_list": "usergroups:read",
    "conversations_members": "channels:read", "files_upload_v2": "files:write",
    "chat_getPermalink": None, "auth_test": None, "views_open": None,
    "apps_connections_open": None,  # with the app-level token (connections:write), no bot scope
}


def test_manifest_has_exactly_the_scopes_the_code_needs() -> None:
    manifest = yaml.safe_load((ROOT / "adapters/slack/manifest.yaml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    code = "\n".join(p.read_text() for p in (ROOT / "adapters/slack").glob("*.py"))
    called = set(re.findall(r"client\.(\w+)\(", code))
    assert called <= set(SCOPES), f"add the scope of {called - set(SCOPES)} to this test and the manifest"
    needed = {SCOPES[m] for m in called if SCOPES[m]}
    # Events and features need these too: thread replies, DMs, private channels, files, /helpdesk.
    needed |= {"commands", "channels:history", "groups:history", "im:history", "groups:read", "files:read"}
    assert scopes == needed
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"message.channels", "message.groups", "message.im"}
    assert settings["interactivity"]["is_enabled"]
    assert manifest["features"]["slash_commands"][0]["command"] == "/helpdesk"
