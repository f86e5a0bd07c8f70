"""Domain errors: each carries a stable code and parameters the chat layer translates."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the help desk was broken; nothing was written."""

    code = "domain_error"

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.params = params


class EmptyField(DomainError):
    code = "empty_field"

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} must not be empty", field=field)


class FieldTooLong(DomainError):
    code = "field_too_long"

    def __init__(self, field: str, limit: int, length: int) -> None:
        super().__init__(
            f"{field} is {length} characters long; at most {limit} are allowed",
            field=field, limit=limit, length=length,
        )


class UnknownDepartment(DomainError):
    code = "unknown_department"

    def __init__(self, department: str) -> None:
        super().__init__(f"unknown department {department!r}", department=department)


class UnknownRequestType(DomainError):
    code = "unknown_request_type"

    def __init__(self, request_type: str) -> None:
        super().__init__(f"unknown request type {request_type!r}", request_type=request_type)


class UnknownPriority(DomainError):
    code = "unknown_priority"

    def __init__(self, priority: str) -> None:
        super().__init__(f"unknown priority {priority!r}", priority=priority)


class TicketNotFound(DomainError):
    code = "ticket_not_found"

    def __init__(self, number: int) -> None:
        super().__init__(f"ticket #{number} not found", number=number)


class NotYourTicket(TicketNotFound):
    """Another customer's ticket. Same code as not found, so its existence never leaks."""


class ReadOnlyTicket(DomainError):
    """A colleague's ticket the customer may see but not do this with (core.domain.access)."""

    code = "ticket_read_only"

    def __init__(self, number: int, deed: str) -> None:
        super().__init__(f"ticket #{number} is a colleague's: {deed} is not theirs to do", number=number, deed=deed)


class IllegalTransition(DomainError):
    code = "illegal_transition"

    def __init__(self, number: int | None, current: str, target: str, actor: str, why: str) -> None:
        super().__init__(
            f"ticket #{number}: {actor} cannot move it from {current} to {target}: {why}",
            number=number, current=current, target=target, actor=actor, why=why,
        )


class ReopenWindowPassed(DomainError):
    code = "reopen_window_passed"

    def __init__(self, number: int | None, days: int) -> None:
        super().__init__(
            f"ticket #{number} was closed more than {days} days ago; open a new ticket instead",
            number=number, days=days,
        )


class TopTierReached(DomainError):
    code = "top_tier_reached"

    def __init__(self, number: int) -> None:
        super().__init__(f"ticket #{number} is already at the top support tier", number=number)


class UnknownAgent(DomainError):
    code = "unknown_agent"

    def __init__(self, agent_id: int) -> None:
        super().__init__(f"unknown agent {agent_id}", agent_id=agent_id)


class EscalationTooEarly(DomainError):
    code = "escalation_too_early"

    def __init__(self, number: int, due: object) -> None:
        super().__init__(f"ticket #{number} can be escalated once its first response is overdue", number=number,
                         due=due)


class RatingNotPossible(DomainError):
    code = "rating_not_possible"

    def __init__(self, number: int, why: str = "open") -> None:
        """`why`: "open" (not closed yet), "unresolved" (closed without a solution), "rated" (once only)."""
        super().__init__(f"ticket #{number} cannot be rated ({why})", number=number, why=why)


class TooManyOpenTickets(DomainError):
    code = "too_many_open_tickets"

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} open tickets at once", limit=limit)


class TooManyNewTickets(DomainError):
    code = "too_many_new_tickets"

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} new tickets per hour", limit=limit)


class UndoWindowPassed(DomainError):
    """A customer's message added to a ticket can be taken back or moved only for a short while."""

    code = "undo_window_passed"

    def __init__(self, number: int) -> None:
        super().__init__(f"the message added to ticket #{number} can no longer be taken back", number=number)


class HandoverRequired(DomainError):
    """An agent escalates to the top level without saying what was checked, how to reproduce the
    problem and what the customer was told."""

    code = "handover_required"

    def __init__(self, number: int, tier: int) -> None:
        super().__init__(f"escalating ticket #{number} to L{tier} needs a hand-over", number=number, tier=tier)


class AnswerForContact(DomainError):
    """A reply to the customer by an agent who is not the ticket's contact, on a ticket handed
    over to the top level while its escalating agent still holds it: it goes to that agent as a
    note instead (the interpreter routes it so; raised when that changed in the meantime)."""

    code = "answer_for_contact"

    def __init__(self, number: int) -> None:
        super().__init__(f"ticket #{number}: a reply by another agent goes to the escalating agent", number=number)
