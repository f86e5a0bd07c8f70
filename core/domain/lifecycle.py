"""The ticket lifecycle as one table: who may move a ticket from which status to which.

Pure code, no I/O: the ticket service asks `check_transition` before it writes anything.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.domain.errors import IllegalTransition, ReopenWindowPassed
from core.domain.model import Actor, Status

C, A, S = Actor.CUSTOMER, Actor.AGENT, Actor.SYSTEM
N, ACC, W, R, X = Status.NEW, Status.ACCEPTED, Status.WAITING, Status.RESOLVED, Status.CLOSED

TRANSITIONS: dict[tuple[Status, Status], frozenset[Actor]] = {
    # An agent takes the ticket (claim, assign, or sets it in progress).
    (N, ACC): frozenset({A}),
    # An agent's reply asks the customer something.
    (N, W): frozenset({A}),
    (ACC, W): frozenset({A}),
    # The customer's answer (or an agent) puts it back in progress.
    (W, ACC): frozenset({C, A}),
    # An agent resolves; the customer is asked to confirm.
    (N, R): frozenset({A}),
    (ACC, R): frozenset({A}),
    (W, R): frozenset({A}),
    # The customer disputes the resolution, or an agent takes it back.
    (R, ACC): frozenset({C, A}),
    # The customer confirms, the system auto-closes after N days, or an agent closes.
    (R, X): frozenset({C, A, S}),
    # The customer withdraws an open ticket; an agent closes one (spam, duplicate).
    (N, X): frozenset({C, A}),
    (ACC, X): frozenset({C, A}),
    (W, X): frozenset({C, A}),
    # Reopening a closed ticket (within the reopen window for the customer).
    (X, ACC): frozenset({C, A}),
}


WITHDRAWN = "withdrawn"  # the reason recorded when the customer withdraws a ticket


def rated(previous: Status | None, target: Status, reason: str) -> bool:
    """Whether a close is one the customer rates: a resolution that was confirmed, auto-closed,
    or closed by an agent after it. Not a withdrawal, nor a close without a solution (spam,
    a duplicate)."""
    return target == X and previous == R and reason != WITHDRAWN


def allowed_targets(current: Status, actor: Actor) -> list[Status]:
    """The statuses `actor` may move a ticket in `current` to, in lifecycle order."""
    order = list(Status)
    targets = [to for (frm, to), who in TRANSITIONS.items() if frm == current and actor in who]
    return sorted(targets, key=order.index)


def check_transition(
    current: Status,
    target: Status,
    actor: Actor,
    *,
    number: int | None = None,
    closed_at: datetime | None = None,
    now: datetime | None = None,
    reopen_window: timedelta | None = None,
) -> None:
    """Raise a domain error unless `actor` may move the ticket from `current` to `target`."""
    if current == target:
        raise IllegalTransition(number, current, target, actor, "it is already in that status")
    allowed = TRANSITIONS.get((current, target))
    if allowed is None:
        raise IllegalTransition(number, current, target, actor, "the lifecycle has no such step")
    if actor not in allowed:
        raise IllegalTransition(number, current, target, actor, f"only {_names(allowed)} may do that")
    if current == X and actor == C:
        if closed_at is None or now is None or reopen_window is None:
            raise IllegalTransition(number, current, target, actor, "closing time unknown")
        if now - closed_at > reopen_window:
            raise ReopenWindowPassed(number, reopen_window.days)


def _names(actors: frozenset[Actor]) -> str:
    return " or ".join(sorted(a.value for a in actors))
