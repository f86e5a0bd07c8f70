"""The quotes agents send on tickets for paid work (core.services.quotes). Part of
core.storage.models, which names it with the others."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.models import Base


class Quote(Base):
    """An estimate in `minutes`, or an `amount` in a `currency`'s minor units; at most one of a
    ticket's quotes is pending (a newer one withdraws it). `decided_by_customer_id` is who
    approved or declined it."""

    __tablename__ = "quotes"
    __table_args__ = (Index("ix_quotes_created_at", "created_at"), Index("ix_quotes_decided_at", "decided_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    minutes: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="pending")  # core.domain.quotes.QuoteState
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
