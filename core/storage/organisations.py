"""Tables of organisations, the addresses that make people their members, and the codes that
prove an address (core.services.organisations, core.services.verification). Part of
core.storage.models, which names them with the others."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.storage.models import Base


class Organisation(Base):
    """A company whose people share tickets as `sharing` says (core.domain.access)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    sharing: Mapped[str] = mapped_column(String(16), default="none")  # none | primary | everybody
    # Colleagues who may see a ticket may also write to it and settle it.
    replies: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who besides the requester may approve a quote (core.domain.quotes.Approvers).
    approvers: Mapped[str] = mapped_column(String(16), default="requester", server_default="requester")
    created_at: Mapped[datetime]


class OrganisationDomain(Base):
    """Every address at this domain belongs to the organisation, as a member."""

    __tablename__ = "organisation_domains"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)  # lower case
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)


class OrganisationMember(Base):
    """An address an agent added by hand (at any domain), with its role."""

    __tablename__ = "organisation_members"

    address: Mapped[str] = mapped_column(String(255), primary_key=True)  # lower case
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")  # member | primary
    added_at: Mapped[datetime]


class Verification(Base):
    """A code sent to an address a customer claims: single use, valid for minutes, kept only as
    a keyed hash; wrong guesses lock the customer's attempts for a while."""

    __tablename__ = "verifications"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str | None] = mapped_column(String(255))  # None once used or withdrawn
    code_hash: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None]
    wrong: Mapped[int] = mapped_column(Integer, default=0)  # wrong codes since the last lock
    locked_until: Mapped[datetime | None]
    sent: Mapped[int] = mapped_column(Integer, default=0)  # codes sent in the window below
    window_start: Mapped[datetime | None]


class AddressLock(Base):
    """Wrong codes typed for an address, whoever typed them: an address is locked for a while
    after a few, so that many identities together guess no faster than one."""

    __tablename__ = "address_locks"

    address: Mapped[str] = mapped_column(String(255), primary_key=True)
    wrong: Mapped[int] = mapped_column(Integer, default=0)  # in the window below
    window_start: Mapped[datetime]
    locked_until: Mapped[datetime | None]
