"""Hand-overs to the top support level (core.domain.handover). Part of core.storage.models,
which names it with the others."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.models import Base


class HandoverRecord(Base):
    """What the agent who escalated a ticket to `tier` wrote for the specialists; `agent_id` is
    that agent, the ticket's contact for the customer until they hand the ticket over."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    tier: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    checked: Mapped[str] = mapped_column(Text)
    reproduce: Mapped[str] = mapped_column(Text)
    told: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
