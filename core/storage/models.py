"""Tables of the help desk. Every datetime is stored and returned as aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, also on SQLite (which keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ANSWERED = datetime(9999, 12, 31, tzinfo=UTC)
QUEUE_OPEN = "status IN ('new', 'accepted', 'waiting')"

TIMER_INDEXES = (
    ("ix_timer_first_warn", "first_response_warn_at",
     "first_response_at IS NULL AND first_response_warned_at IS NULL"),
    ("ix_timer_first_breach", "first_response_due",
     "first_response_at IS NULL AND first_response_breached_at IS NULL"),
    ("ix_timer_resolution_warn", "resolution_warn_at",
     "resolution_warned_at IS NULL AND status IN ('new', 'accepted')"),
    ("ix_timer_resolution_breach", "resolution_due",
     "resolution_breached_at IS NULL AND status IN ('new', 'accepted')"),
    ("ix_timer_reminder", "reminder_due_at", "reminded_at IS NULL AND status = 'waiting'"),
    ("ix_timer_auto_close", "auto_close_at", "status = 'resolved'"),
)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # Up to an address's length (RFC 5321: 254), the longest identity a channel has.
    platform_user_id: Mapped[str] = mapped_column(String(255))
    chat_id: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str | None] = mapped_column(String(8))  # None until the customer chose
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA; None: their language's default
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # The address this person proved (a code sent to it), or the one a mail channel's customer
    # writes from: identities with the same address are one person (core.domain.access).
    address: Mapped[str | None] = mapped_column(String(255), index=True)
    # The organisation the address belongs to (a member's address, else its domain), kept in step
    # by core.services.organisations whenever an address, a member or a domain changes. No
    # foreign key: SQLite adds and drops such a column in place only without one (the service
    # clears it when an organisation goes).
    organisation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    organisation_role: Mapped[str | None] = mapped_column(String(16))  # member | primary
    # The address was proven (a code, an agent's word) rather than only claimed (a mail's sender).
    address_proven: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime]


class Counter(Base):
    """Named counters; on SQLite, `ticket` hands out ticket numbers inside the opening
    transaction (PostgreSQL has the `ticket_numbers` sequence: revision 0010)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_customer_status", "customer_id", "status"),
        Index("ix_tickets_department_status", "department", "status"),
        # The agents' queue, read in index order and stopped after a page, instead of sorting
        # every open ticket of a department (docs/benchmarks.md, storage at scale).
        Index("ix_queue_department", "department", "queue_rank", "number",
              sqlite_where=text(QUEUE_OPEN), postgresql_where=text(QUEUE_OPEN)),
        Index("ix_queue_all", "queue_rank", "number",
              sqlite_where=text(QUEUE_OPEN), postgresql_where=text(QUEUE_OPEN)),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        Index("ix_tickets_created", "created_at"),
        # Timers: partial indexes holding only the timers still to fire, so a sweep reads a
        # handful of rows however many tickets there are (docs/benchmarks.md, storage at scale).
        *(Index(name, column, sqlite_where=text(where), postgresql_where=text(where))
          for name, column, where in TIMER_INDEXES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    department: Mapped[str] = mapped_column(String(32))
    request_type: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    tier: Mapped[int] = mapped_column(Integer, default=1)
    linked_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    first_response_due: Mapped[datetime | None]
    resolution_due: Mapped[datetime | None]
    # Oldest customer message not yet answered: the queue orders by it, so writing again
    # does not push a ticket back (and does not jump it ahead either).
    waiting_since: Mapped[datetime | None]
    # The queue's order, never NULL so an index can serve it: waiting_since, or ANSWERED when
    # nobody waits (kept in step by the listener below).
    queue_rank: Mapped[datetime] = mapped_column(default=lambda: ANSWERED)
    # SLA timers: each sweep finds its tickets by an indexed due time and marks them as it fires.
    first_response_warn_at: Mapped[datetime | None]
    resolution_warn_at: Mapped[datetime | None]
    first_response_warned_at: Mapped[datetime | None]
    resolution_warned_at: Mapped[datetime | None]
    first_response_breached_at: Mapped[datetime | None]
    resolution_breached_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]  # waiting for the customer: the resolution clock stands still
    reminder_due_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    auto_close_at: Mapped[datetime | None]
    # The customer has been told once that writing again does not move the ticket up.
    queue_hint_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Not stored: set by the service when this customer message is the moment to tell them.
    queue_hint_due = False
    # Not stored: set by the service on a customer's message: which message, and whether it reopened the ticket.
    added_message = 0
    reopened = False

    customer: Mapped[Customer] = relationship(lazy="raise")
    assignee: Mapped[Agent | None] = relationship(lazy="raise")


@event.listens_for(Ticket.waiting_since, "set")
def _rank(target: Ticket, value: datetime | None, _old: object, _initiator: object) -> None:
    target.queue_rank = value if value is not None else ANSWERED


class TicketMessage(Base):
    __tablename__ = "ticket_messages"
    __table_args__ = (Index("ix_ticket_messages_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    author_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    author_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_messages.id"))
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    platform_file_id: Mapped[str | None] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime]


class StatusChange(Base):
    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(16))
    actor_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    actor_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))  # None when the ticket opened
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime]


class Draft(Base):
    """A customer's unfinished conversation state (ticket form, pending choice)."""

    __tablename__ = "drafts"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(index=True)


class OutboxMessage(Base):
    """A notification written in the same transaction as the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "next_attempt_at"),
        Index("ix_outbox_chat", "platform", "chat_id", "id"),
        Index("ix_outbox_chat_sent", "platform", "chat_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    event: Mapped[str] = mapped_column(String(48))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # While a relay sends it: until when the claim holds, and whose it is.
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(64))


class InboundEvent(Base):
    """Platform events already taken: a redelivered update or retried event is not handled twice."""

    __tablename__ = "inbound_events"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # replying | done (processing: before 0009)
    at: Mapped[datetime] = mapped_column(index=True)
    owner: Mapped[str | None] = mapped_column(String(64))  # the worker handling it
    # The replies to send, committed with the event's changes and kept until they were sent.
    replies: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)


class Worker(Base):
    """A running bot process, alive while its heartbeat is recent: a claim held by a worker
    whose heartbeat stopped (killed, crashed) may be taken over at once."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    heartbeat_at: Mapped[datetime]


class DeskPost(Base):
    """Where a ticket's card stands on one agents' desk: the desk's chat and the thread that is
    the ticket's conversation there (a message's thread, a forum topic)."""

    __tablename__ = "desk_posts"
    __table_args__ = (UniqueConstraint("desk", "channel", "ts"),)

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    desk: Mapped[str] = mapped_column(String(32), primary_key=True)  # the channel serving the desk
    channel: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(64))  # the thread
    card: Mapped[str | None] = mapped_column(String(64))  # the card's message, when not the thread's root
    card_digest: Mapped[str | None] = mapped_column(String(64))  # the card as last shown
    closed: Mapped[bool] = mapped_column(Boolean, default=False)  # the desk closed its thread
    created_at: Mapped[datetime]


class Rating(Base):
    """A customer's satisfaction with a closed ticket (1-5), kept per ticket and agent."""

    __tablename__ = "ratings"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime] = mapped_column(index=True)


class AnswerQuota(Base):
    """How many automatic answers a channel sent one sender in the current hour: a sender that
    answers automatically (a robot, a loop) gets a few, then silence until the hour is over."""

    __tablename__ = "answer_quotas"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    sender: Mapped[str] = mapped_column(String(255), primary_key=True)
    window_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=0)


class InstallKey(Base):
    """A random key made once per installation, for what must be unforgeable from outside (the
    ids the bot gives its messages, so that a forged one is told from a real one)."""

    __tablename__ = "install_keys"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class ArticleEvent(Base):
    """What happened to a knowledge-base article (core.services.articles): offered and opened
    (`shown`), a ticket not opened because of it (`deflected`), the customer's verdict
    (`helpful`, `not_helpful`), or a search that found nothing (`no_match`, `slug` None)."""

    __tablename__ = "article_events"
    __table_args__ = (Index("ix_article_events_at", "at"),
                      Index("ix_article_events_customer", "customer_id", "slug"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # shown | deflected | helpful | not_helpful | no_match
    slug: Mapped[str | None] = mapped_column(String(128))
    locale: Mapped[str] = mapped_column(String(8))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(8))  # form | help | agent
    text: Mapped[str] = mapped_column(Text, default="")  # the words that found nothing; a comment
    at: Mapped[datetime]


# The organisations' tables live in their own module; named here with the others.
from core.storage.handover import HandoverRecord as HandoverRecord  # noqa: E402 - hand-overs to L3
from core.storage.organisations import AddressLock as AddressLock  # noqa: E402 - it needs Base, above
from core.storage.organisations import Organisation as Organisation  # noqa: E402
from core.storage.organisations import OrganisationDomain as OrganisationDomain  # noqa: E402
from core.storage.organisations import OrganisationMember as OrganisationMember  # noqa: E402
from core.storage.organisations import Verification as Verification  # noqa: E402
from core.storage.quotes import Quote as Quote  # noqa: E402 - quotes for paid work
from core.storage.timelog import TimeEntry as TimeEntry  # noqa: E402 - time logged on tickets
