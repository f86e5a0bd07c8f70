"""Every allowed and every forbidden transition of the lifecycle table."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from core.domain.errors import IllegalTransition, ReopenWindowPassed
from core.domain.lifecycle import TRANSITIONS, allowed_targets, check_transition
from core.domain.model import Actor, Status

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=7)

# The lifecycle written out by hand, independently of the table under test.
EXPECTED_ALLOWED = {
    ("new", "accepted", "agent"),
    ("new", "waiting", "agent"),
    ("new", "resolved", "agent"),
    ("new", "closed", "agent"),
    ("new", "closed", "customer"),  # withdraw
    ("accepted", "waiting", "agent"),
    ("accepted", "resolved", "agent"),
    ("accepted", "closed", "agent"),
    ("accepted", "closed", "customer"),  # withdraw
    ("waiting", "accepted", "agent"),
    ("waiting", "accepted", "customer"),  # the customer answers
    ("waiting", "resolved", "agent"),
    ("waiting", "closed", "agent"),
    ("waiting", "closed", "customer"),  # withdraw
    ("resolved", "closed", "customer"),  # confirms
    ("resolved", "closed", "agent"),
    ("resolved", "closed", "system"),  # auto-close
    ("resolved", "accepted", "customer"),  # disputes
    ("resolved", "accepted", "agent"),
    ("closed", "accepted", "customer"),  # reopens within the window
    ("closed", "accepted", "agent"),
}

ALL = list(itertools.product(Status, Status, Actor))


def _kwargs(current: Status) -> dict[str, object]:
    return {"number": 1042, "closed_at": NOW - timedelta(days=1), "now": NOW, "reopen_window": WINDOW}


@pytest.mark.parametrize(
    ("current", "target", "actor"),
    [t for t in ALL if (t[0].value, t[1].value, t[2].value) in EXPECTED_ALLOWED],
    ids=lambda v: v.value,
)
def test_allowed(current: Status, target: Status, actor: Actor) -> None:
    check_transition(current, target, actor, **_kwargs(current))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "target", "actor"),
    [t for t in ALL if (t[0].value, t[1].value, t[2].value) not in EXPECTED_ALLOWED],
    ids=lambda v: v.value,
)
def test_forbidden(current: Status, target: Status, actor: Actor) -> None:
    with pytest.raises(IllegalTransition) as info:
        check_transition(current, target, actor, **_kwargs(current))  # type: ignore[arg-type]
    assert info.value.code == "illegal_transition"
    assert info.value.params["number"] == 1042
    assert info.value.params["why"]


def test_table_matches_the_written_lifecycle() -> None:
    table = {(f.value, t.value, a.value) for (f, t), actors in TRANSITIONS.items() for a in actors}
    assert table == EXPECTED_ALLOWED


def test_customer_cannot_reopen_after_the_window() -> None:
    with pytest.raises(ReopenWindowPassed) as info:
        check_transition(
            Status.CLOSED, Status.ACCEPTED, Actor.CUSTOMER, number=7,
            closed_at=NOW - WINDOW - timedelta(seconds=1), now=NOW, reopen_window=WINDOW,
        )
    assert info.value.params == {"number": 7, "days": 7}


def test_agent_can_reopen_after_the_window() -> None:
    check_transition(
        Status.CLOSED, Status.ACCEPTED, Actor.AGENT,
        closed_at=NOW - timedelta(days=400), now=NOW, reopen_window=WINDOW,
    )


def test_same_status_is_refused_with_its_own_reason() -> None:
    with pytest.raises(IllegalTransition, match="already in that status"):
        check_transition(Status.NEW, Status.NEW, Actor.AGENT)


def test_allowed_targets() -> None:
    assert allowed_targets(Status.RESOLVED, Actor.CUSTOMER) == [Status.ACCEPTED, Status.CLOSED]
    assert allowed_targets(Status.NEW, Actor.SYSTEM) == []
