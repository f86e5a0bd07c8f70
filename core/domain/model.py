"""The help desk's vocabulary: statuses, actors, tiers, message kinds, field limits."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(enum.StrEnum):
    """Ticket statuses (the Czech seed's five; DESIGN.md maps the other seeds onto them)."""

    NEW = "new"
    ACCEPTED = "accepted"
    WAITING = "waiting"  # waiting for the customer
    RESOLVED = "resolved"  # resolved, awaiting the customer's confirmation
    CLOSED = "closed"


OPEN_STATUSES = frozenset({Status.NEW, Status.ACCEPTED, Status.WAITING})
"""Statuses in which the ticket is still being worked (the Czech seed's "open" view)."""

DONE_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})


class Actor(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


class MessageKind(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    NOTE = "note"  # internal, never shown to the customer
    SYSTEM = "system"


class TicketFilter(enum.StrEnum):
    """The three views of the Czech seed's ticket list."""

    ALL = "all"
    OPEN = "open"  # open or waiting
    DONE = "done"  # resolved or closed


TIERS = (1, 2, 3)  # L1, L2, L3 (Russian seed: first, second and third line)

SUBJECT_MAX = 120
DESCRIPTION_MAX = 4000
MESSAGE_MAX = 4000


@dataclass(frozen=True, slots=True)
class Who:
    """Someone acting on a ticket: a role and, for people, their row id."""

    actor: Actor
    id: int | None = None

    @classmethod
    def customer(cls, customer_id: int) -> Who:
        return cls(Actor.CUSTOMER, customer_id)

    @classmethod
    def agent(cls, agent_id: int) -> Who:
        return cls(Actor.AGENT, agent_id)

    @classmethod
    def system(cls) -> Who:
        return cls(Actor.SYSTEM, None)


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """A file already stored under ATTACHMENTS_DIR, to be linked to a ticket."""

    filename: str
    mime_type: str
    size: int
    sha256: str
    stored_path: str
    platform_file_id: str | None = None
