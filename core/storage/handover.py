"""Hand-overs to the top support level (core.domain.handover). Part of core.storage.models,
which names it with the others."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.db import Database
from core.storage.models import Base


class HandoverRecord(Base):
    """What the agent who escalated a ticket to `tier` wrote for the specialists; `agent_id` is
    that agent, the ticket's contact for the customer until they hand the ticket over."""

    __tablename__ = "handovers"
    __table_args__ = (Index("ix_handovers_place", "place_chat", "place_message"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    tier: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    checked: Mapped[str] = mapped_column(Text)
    reproduce: Mapped[str] = mapped_column(Text)
    told: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    # Where a desk posted it for the top level (a channel and its message): answers there are the ticket's.
    place_chat: Mapped[str | None] = mapped_column(String(64))
    place_message: Mapped[str | None] = mapped_column(String(64))


async def mark_place(db: Database, ticket_id: int, chat: str, message: str) -> None:
    """Remember where the ticket's latest hand-over was posted for the top level."""
    async with db.write(savepoint=False) as session:
        latest = select(HandoverRecord.id).where(HandoverRecord.ticket_id == ticket_id) \
            .order_by(HandoverRecord.id.desc()).limit(1).scalar_subquery()
        await session.execute(update(HandoverRecord).where(HandoverRecord.id == latest)
                              .values(place_chat=chat, place_message=message))


async def ticket_at_place(db: Database, chat: str, message: str) -> int | None:
    """The ticket whose hand-over was posted as `message` in `chat`, if one was."""
    async with db.read() as session:
        return await session.scalar(select(HandoverRecord.ticket_id).where(
            HandoverRecord.place_chat == chat, HandoverRecord.place_message == message).limit(1))
