"""Proving an address: a four-digit code sent to it, typed back in the chat.

The right code within CODE_VALID links the customer to the address, so that their identities
with that address are one person and the address's organisation is theirs. Codes are single
use, kept only as a keyed hash, and sent through the mail channel's outbox as a secret reply
(erased once sent). WRONG_MAX wrong codes lock the customer's attempts for LOCKED_FOR, and so
do WRONG_MAX wrong codes for one address within an hour, whoever typed them; at most
CODES_PER_HOUR codes are sent for one customer, and to one address, an hour, so that nobody
floods an address through us and many identities together guess no faster than one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.delivery.outbox import SECRET_REPLY, queue_reply
from core.domain.clock import Clock, utcnow
from core.domain.errors import DomainError
from core.services.organisations import membership, relink, valid_address
from core.storage.db import Database
from core.storage.keys import install_key
from core.storage.models import AddressLock, Customer, Organisation, OutboxMessage, Verification

if TYPE_CHECKING:
    from core.chat.messages import Reply

CODE_VALID = timedelta(minutes=10)
WRONG_MAX = 3
LOCKED_FOR = timedelta(hours=1)
CODES_PER_HOUR = 3
KEY_NAME = "verification"


class VerificationRefused(DomainError):
    """No code was sent, or the code was not taken; `code` says why (the chat explains it)."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        super().__init__(code, **params)


@dataclass(frozen=True, slots=True)
class Proven:
    address: str
    organisation: str | None  # the organisation the address made them a member of


class VerificationService:
    def __init__(self, db: Database, clock: Clock = utcnow, mail_channel: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.mail_channel = mail_channel  # the channel that delivers mail; None: codes cannot be sent
        self._key: bytes | None = None

    @property
    def available(self) -> bool:
        return self.mail_channel is not None

    async def _hash(self, customer_id: int, address: str, code: str) -> str:
        if self._key is None:
            self._key = await install_key(self.db, KEY_NAME)
        return hmac.new(self._key, f"{customer_id}:{address}:{code}".encode(), hashlib.sha256).hexdigest()

    async def send_code(self, customer_id: int, address: str, message: Callable[[str], Reply]) -> str:
        """Send a new code to `address` (`message` words it); the address as it will be kept."""
        if self.mail_channel is None:
            raise VerificationRefused("verification_unavailable")
        checked = valid_address(address)
        if checked is None:
            raise VerificationRefused("bad_address", address=address.strip()[:254])
        now = self.clock()
        code = f"{secrets.randbelow(10_000):04d}"
        digest = await self._hash(customer_id, checked, code)
        async with self.db.write() as session:
            row = await _row(session, customer_id, lock=True)
            _refuse_if_locked(row, now)
            if row.window_start is None or now - row.window_start >= timedelta(hours=1):
                row.window_start, row.sent = now, 0
            if row.sent >= CODES_PER_HOUR:
                raise VerificationRefused("too_many_codes", until=row.window_start + timedelta(hours=1))
            await _refuse_if_address_locked(session, checked, now)
            # Whoever asks: an address gets CODES_PER_HOUR codes an hour, so many identities
            # together flood no inbox (the codes' rows stay, erased, as the count).
            sent_to = (await session.execute(select(OutboxMessage.created_at).where(
                OutboxMessage.platform == self.mail_channel, OutboxMessage.chat_id == checked,
                OutboxMessage.event == SECRET_REPLY, OutboxMessage.created_at > now - timedelta(hours=1))
                .order_by(OutboxMessage.created_at))).scalars().all()
            if len(sent_to) >= CODES_PER_HOUR:
                raise VerificationRefused("too_many_codes", until=sent_to[0] + timedelta(hours=1))
            row.sent += 1
            row.address, row.code_hash, row.expires_at = checked, digest, now + CODE_VALID
            queue_reply(session, self.mail_channel, checked, message(code), now, secret=True)
        return checked

    async def confirm(self, customer_id: int, code: str) -> Proven:
        """Take a typed code: the address proven, or VerificationRefused (wrong: how many tries are left)."""
        now = self.clock()
        async with self.db.write() as session:
            row = await _row(session, customer_id, lock=True)
            _refuse_if_locked(row, now)
            if row.address is None or row.code_hash is None or row.expires_at is None:
                raise VerificationRefused("no_code")
            await _refuse_if_address_locked(session, row.address, now)
            if now >= row.expires_at:
                row.code_hash = row.expires_at = None
                refusal = VerificationRefused("code_expired", address=row.address)
            elif hmac.compare_digest(row.code_hash, await self._hash(customer_id, row.address, code.strip())):
                return await _prove(session, customer_id, row)
            else:
                row.wrong += 1
                if await _count_wrong(session, row.address, now):  # the address's last try this hour
                    row.wrong = WRONG_MAX
                if row.wrong >= WRONG_MAX:
                    row.wrong, row.locked_until = 0, now + LOCKED_FOR
                    row.code_hash = row.expires_at = None
                    refusal = VerificationRefused("verification_locked", until=row.locked_until)
                else:
                    refusal = VerificationRefused("wrong_code", left=WRONG_MAX - row.wrong)
        raise refusal  # after the commit: the wrong guess is counted

    async def pending(self, customer_id: int) -> str | None:
        """The address a live code was sent to, if any."""
        async with self.db.read() as session:
            row = await session.get(Verification, customer_id)
            if row is None or row.code_hash is None or row.expires_at is None or self.clock() >= row.expires_at:
                return None
            return row.address

    async def forget_address(self, customer_id: int) -> None:
        """The customer no longer wants their address linked: their organisation goes with it."""
        async with self.db.write() as session:
            customer = await session.get_one(Customer, customer_id)
            customer.address = customer.organisation_id = customer.organisation_role = None
            customer.address_proven = False


async def _refuse_if_address_locked(session: AsyncSession, address: str, now: datetime) -> None:
    lock = await session.get(AddressLock, address)
    if lock is not None and lock.locked_until is not None and now < lock.locked_until:
        raise VerificationRefused("verification_locked", until=lock.locked_until)


async def _count_wrong(session: AsyncSession, address: str, now: datetime) -> bool:
    """A wrong code for `address`, by anybody; True when it locks the address for LOCKED_FOR."""
    lock = await session.get(AddressLock, address, with_for_update=True)
    if lock is None:
        lock = AddressLock(address=address, wrong=0, window_start=now)
        session.add(lock)
    elif now - lock.window_start >= timedelta(hours=1):
        lock.wrong, lock.window_start = 0, now
    lock.wrong += 1
    if lock.wrong < WRONG_MAX:
        return False
    lock.wrong, lock.window_start, lock.locked_until = 0, now, now + LOCKED_FOR
    return True


async def _row(session: AsyncSession, customer_id: int, *, lock: bool) -> Verification:
    row = await session.get(Verification, customer_id, with_for_update=lock)
    if row is None:
        row = Verification(customer_id=customer_id, wrong=0, sent=0)
        session.add(row)
        await session.flush()
    return row


def _refuse_if_locked(row: Verification, now: datetime) -> None:
    if row.locked_until is not None and now < row.locked_until:
        raise VerificationRefused("verification_locked", until=row.locked_until)


async def _prove(session: AsyncSession, customer_id: int, row: Verification) -> Proven:
    address = row.address
    assert address is not None
    row.address = row.code_hash = row.expires_at = None
    row.wrong = 0
    customer = await session.get_one(Customer, customer_id)
    customer.address, customer.address_proven = address, True
    await session.flush()
    await relink(session, addresses=(address,))
    found = await membership(session, address)
    org = await session.get(Organisation, found[0]) if found else None
    return Proven(address, org.name if org is not None else None)
