"""The time agents log on tickets (core.services.timelog). Part of core.storage.models, which
names it with the others."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.models import Base

OFFER_KEY_LIMIT = 160  # a desk's key of an offer's message: its desk, chat and message ids


class TimeEntry(Base):
    """Minutes an agent spent on a ticket, under an activity (a code of `[time] activities`, or
    empty), with a note; `at` is when it was logged (the day a time tracker files it under).
    `offer`: the desk's key of the offer whose button logged it (None when typed), unique so that a
    second press of that offer, in any process, logs nothing more."""

    __tablename__ = "time_entries"
    __table_args__ = (Index("ix_time_entries_at", "at"), Index("ux_time_entries_offer", "offer", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    activity: Mapped[str] = mapped_column(String(32), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]
    changed_at: Mapped[datetime | None]  # when its author last corrected it
    offer: Mapped[str | None] = mapped_column(String(OFFER_KEY_LIMIT))
