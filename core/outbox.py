"""Writing notifications into the outbox, inside the caller's transaction.

The relay that delivers them lives in core.relay; here is only what every write path needs:
a change and the news of it commit together, or neither does.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.storage.models import Customer, OutboxMessage, Ticket


def notify_customer(
    session: AsyncSession,
    customer: Customer,
    event: str,
    now: datetime,
    *,
    ticket: Ticket | None = None,
    **params: Any,
) -> OutboxMessage:
    """Queue `event` for the customer's chat; rendered in their language when sent."""
    row = OutboxMessage(
        idempotency_key=f"{event}:{uuid.uuid4().hex}",
        platform=customer.platform,
        chat_id=customer.chat_id,
        customer_id=customer.id,
        ticket_id=ticket.id if ticket is not None else None,
        event=event,
        params=params,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row
