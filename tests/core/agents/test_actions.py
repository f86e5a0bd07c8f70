"""Command lines and button keys into typed agent actions, in one place."""

from __future__ import annotations

import pytest

from core.agents import (
    Assign,
    Claim,
    Escalate,
    HelpRequest,
    Incomplete,
    Mine,
    Post,
    Queue,
    ReportRequest,
    SetPriority,
    SetStatus,
    Show,
    button,
    decode,
    parse,
)
from core.agents.actions import KEY_LIMIT, encode


@pytest.mark.parametrize(("line", "action"), [
    ("", HelpRequest()),
    ("help", HelpRequest()),
    ("queue", Queue(None)),
    ("queue technical", Queue("technical")),
    ("mine", Mine()),
    ("show 1042", Show(1042)),
    ("SHOW #1042", Show(1042)),
    ("show ۱۰۴۲", Show(1042)),  # Persian digits, as a Persian keyboard types them
    ("/show 1042", Show(1042)),
    ("claim 1042", Claim(1042)),
    ("assign 1042 <@U123|jana>", Assign(1042, "<@U123|jana>")),
    ("reply 1042 Which browser do you use?", Post(1042, "Which browser do you use?")),
    ("note 1042 probably the proxy", Post(1042, "probably the proxy", internal=True)),
    ("reply 1042", Post(1042, "")),  # refused by the service as an empty message
    ("status 1042 Resolved", SetStatus(1042, "resolved")),
    ("priority 1042 HIGH", SetPriority(1042, "high")),
    ("escalate 1042", Escalate(1042)),
    ("escalate 1042 needs a database engineer", Escalate(1042, "needs a database engineer")),
    ("report", ReportRequest(30)),
    ("stats", ReportRequest(30)),
    ("report 7", ReportRequest(7)),
    ("claim", Incomplete("claim", "number")),
    ("claim soon", Incomplete("claim", "number", "soon")),
    ("claim 1042 now please", Incomplete("claim", "no_more", "now please")),
    ("show 1042 1043", Incomplete("show", "no_more", "1043")),
    ("mine all", Incomplete("mine", "no_more", "all")),
    ("queue technical billing", Incomplete("queue", "no_more", "billing")),
    ("status 1042 resolved now", Incomplete("status", "no_more", "now")),
    ("priority 1042 high please", Incomplete("priority", "no_more", "please")),
    ("assign 1042 @jana @eva", Incomplete("assign", "no_more", "@eva")),
    ("report 7 days", Incomplete("report", "no_more", "days")),
    ("report week", Incomplete("report", "days", "week")),
    ("status 1042", Incomplete("status", "status")),
    ("priority 1042", Incomplete("priority", "priority")),
    ("assign 1042", Incomplete("assign", "agent")),
    ("report 0", Incomplete("report", "days", "0")),
    ("report 1000", Incomplete("report", "days", "1000")),
    ("dance 1042", HelpRequest(unknown="dance")),
    ("frobnicate", HelpRequest(unknown="frobnicate")),
])
def test_parse(line: str, action: object) -> None:
    assert parse(line) == action


@pytest.mark.parametrize("action", [
    Claim(1042), Escalate(1042), SetStatus(1042, "resolved"), SetPriority(1042, "urgent"),
    Assign(99_999_999, "1234567890123"),
])
def test_button_keys_round_trip_within_64_bytes(action: object) -> None:
    key = encode(action)  # type: ignore[arg-type]
    assert len(key.encode()) <= KEY_LIMIT
    assert decode(key) == action


def test_keys_that_are_not_ours_decode_to_nothing() -> None:
    for key in ("confirm:1001", "ag:claim", "ag:claim:x", "ag:dance:1042", "dep:technical", "ag:assign:1042"):
        assert decode(key) is None, key
    with pytest.raises(ValueError):
        encode(Show(1042))
    with pytest.raises(ValueError):
        encode(Assign(1042, "x" * 60))


def test_button_kinds() -> None:
    assert button("claim", 7) == Claim(7)
    assert button("escalate", 7) == Escalate(7)
    assert button("status", 7, "closed") == SetStatus(7, "closed")
    assert button("priority", 7, "low") == SetPriority(7, "low")
    assert button("assign", 7, "U1") == Assign(7, "U1")
    assert button("assign", 7) is None  # nobody chosen
    assert button("dance", 7) is None
