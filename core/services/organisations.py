"""Organisations: companies whose people share tickets (core.domain.access says how).

An address belongs to an organisation when an agent added it as a member, else when its domain
is one of the organisation's. A customer's organisation follows from the address they proved
(core.services.verification) or write from (a mail channel's customers), and is kept on the
customer's row, recomputed here whenever an address, a member or a domain changes, so that
every ticket lookup reads it without a join.
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.domain.access import Role, Sharing
from core.domain.clock import Clock, utcnow
from core.domain.errors import DomainError
from core.domain.quotes import Approvers
from core.storage.db import Database
from core.storage.models import Customer, Organisation, OrganisationDomain, OrganisationMember, Ticket


class OrganisationError(DomainError):
    """An agent's request about organisations that cannot be done; `code` says which."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        super().__init__(f"{code}: {params}", **params)


@dataclass(frozen=True, slots=True)
class OrganisationView:
    id: int
    name: str
    sharing: str
    replies: bool
    domains: tuple[str, ...]
    members: tuple[tuple[str, str], ...]  # (address, role) added by hand
    customers: int  # people linked to it
    tickets: int
    approvers: str = "requester"  # who besides the requester approves quotes (core.domain.quotes.Approvers)


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].lower()


def canonical(address: str) -> str:
    """An address as kept: normalized by email-validator when it is one, else as typed, in lower case."""
    return valid_address(address) or address.strip().lower()


def clean_domain(domain: str) -> str:
    """A domain as kept: lower case, without a leading @."""
    return domain.strip().lower().lstrip("@")


async def membership(session: AsyncSession, address: str | None) -> tuple[int, str] | None:
    """The organisation an address belongs to, with its role there; None when none."""
    if not address:
        return None
    member = await session.get(OrganisationMember, canonical(address))
    if member is not None:
        return member.organisation_id, member.role
    domain = await session.get(OrganisationDomain, domain_of(address))
    return (domain.organisation_id, Role.MEMBER) if domain is not None else None


async def relink(session: AsyncSession, *, addresses: tuple[str, ...] = (), domains: tuple[str, ...] = ()) -> None:
    """Bring the organisation of every customer at these addresses or domains in step with the
    members and domains as they are now."""
    wanted = [Customer.address.in_([canonical(a) for a in addresses])] if addresses else []
    wanted += [Customer.address.like(f"%@{d}") for d in domains]
    if not wanted:
        return
    people = (await session.execute(select(Customer).where(or_(*wanted)))).scalars()
    for customer in people:
        found = await membership(session, customer.address)
        customer.organisation_id, customer.organisation_role = found if found else (None, None)


class OrganisationService:
    """The agents' management of organisations (core.agents, the command line)."""

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def _get(self, session: AsyncSession, name: str) -> Organisation:
        found = (await session.execute(
            select(Organisation).where(func.lower(Organisation.name) == name.strip().lower()))).scalar_one_or_none()
        if found is None:
            raise OrganisationError("unknown_organisation", name=name)
        return found

    async def create(self, name: str, sharing: str = Sharing.NONE, *, replies: bool = False) -> Organisation:
        name = " ".join(name.split())
        if not name or len(name) > 100:
            raise OrganisationError("bad_organisation_name", name=name[:100])
        mode = _sharing(sharing)
        async with self.db.write() as session:
            if (await session.execute(select(Organisation.id).where(
                    func.lower(Organisation.name) == name.lower()))).first() is not None:
                raise OrganisationError("organisation_exists", name=name)
            org = Organisation(name=name, sharing=mode, replies=replies, created_at=self.clock())
            session.add(org)
            await session.flush()
            return org

    async def set_sharing(self, name: str, sharing: str, *, replies: bool | None = None) -> Organisation:
        mode = _sharing(sharing)
        async with self.db.write() as session:
            org = await self._get(session, name)
            org.sharing = mode
            if replies is not None:
                org.replies = replies
            return org

    async def set_approvers(self, name: str, approvers: str) -> Organisation:
        if approvers not in tuple(Approvers):
            raise OrganisationError("bad_approvers", approvers=approvers[:32])
        async with self.db.write() as session:
            org = await self._get(session, name)
            org.approvers = approvers
            return org

    async def delete(self, name: str) -> None:
        async with self.db.write() as session:
            org = await self._get(session, name)
            addresses = tuple((await session.execute(select(OrganisationMember.address).where(
                OrganisationMember.organisation_id == org.id))).scalars())
            domains = tuple((await session.execute(select(OrganisationDomain.domain).where(
                OrganisationDomain.organisation_id == org.id))).scalars())
            await session.execute(update(Customer).where(Customer.organisation_id == org.id)
                                  .values(organisation_id=None, organisation_role=None))
            for row in (*(await session.execute(select(OrganisationMember).where(
                    OrganisationMember.organisation_id == org.id))).scalars(),
                    *(await session.execute(select(OrganisationDomain).where(
                        OrganisationDomain.organisation_id == org.id))).scalars()):
                await session.delete(row)
            await session.flush()  # no relationship orders these deletes: the rows go before their organisation
            await session.delete(org)
            await session.flush()
            await relink(session, addresses=addresses, domains=domains)  # another may claim them

    async def add_domain(self, name: str, domain: str) -> None:
        domain = clean_domain(domain)
        if not _domain_ok(domain):
            raise OrganisationError("bad_domain", domain=domain[:255])
        async with self.db.write() as session:
            org = await self._get(session, name)
            taken = await session.get(OrganisationDomain, domain)
            if taken is not None and taken.organisation_id != org.id:
                other = await session.get_one(Organisation, taken.organisation_id)
                raise OrganisationError("domain_taken", domain=domain, organisation=other.name)
            if taken is None:
                session.add(OrganisationDomain(domain=domain, organisation_id=org.id))
                await session.flush()
            await relink(session, domains=(domain,))

    async def remove_domain(self, domain: str) -> None:
        domain = clean_domain(domain)
        async with self.db.write() as session:
            row = await session.get(OrganisationDomain, domain)
            if row is None:
                raise OrganisationError("unknown_domain", domain=domain[:255])
            await session.delete(row)
            await session.flush()
            await relink(session, domains=(domain,))

    async def add_member(self, name: str, address: str, role: str = Role.MEMBER) -> None:
        """An address added by hand: it belongs to the organisation whatever its domain."""
        checked = valid_address(address)
        if checked is None:
            raise OrganisationError("bad_address", address=address[:255])
        address = checked
        if role not in tuple(Role):
            raise OrganisationError("bad_role", role=role[:32])
        async with self.db.write() as session:
            org = await self._get(session, name)
            row = await session.get(OrganisationMember, address)
            if row is None:
                session.add(OrganisationMember(address=address, organisation_id=org.id, role=role,
                                               added_at=self.clock()))
            else:
                row.organisation_id, row.role = org.id, role
            await session.flush()
            await relink(session, addresses=(address,))

    async def add_requester(self, name: str, number: int, role: str = Role.MEMBER) -> Customer:
        """The requester of ticket `number` made a member, by their proven address when they have
        one, else that identity alone."""
        if role not in tuple(Role):
            raise OrganisationError("bad_role", role=role[:32])
        async with self.db.write() as session:
            org = await self._get(session, name)
            ticket = (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one_or_none()
            if ticket is None:
                raise OrganisationError("unknown_ticket", number=number)
            customer = await session.get_one(Customer, ticket.customer_id)
            customer.address_proven = customer.address is not None  # the agent vouches for it
            if customer.address:
                row = await session.get(OrganisationMember, customer.address)
                if row is None:
                    session.add(OrganisationMember(address=customer.address, organisation_id=org.id, role=role,
                                                   added_at=self.clock()))
                else:
                    row.organisation_id, row.role = org.id, role
                await session.flush()
                await relink(session, addresses=(customer.address,))
            else:
                customer.organisation_id, customer.organisation_role = org.id, role
            return customer

    async def remove_requester(self, name: str, number: int) -> None:
        """Undo add_requester: the requester of ticket `number` leaves the organisation (their
        address's hand-added row with them); OrganisationError when they are not in it."""
        async with self.db.write() as session:
            org = await self._get(session, name)
            ticket = (await session.execute(select(Ticket).where(Ticket.number == number))).scalar_one_or_none()
            customer = await session.get(Customer, ticket.customer_id) if ticket is not None else None
            if customer is None or customer.organisation_id != org.id:
                raise OrganisationError("unknown_member", address=f"#{number}")
            member = await session.get(OrganisationMember, customer.address) if customer.address else None
            if member is not None and member.organisation_id == org.id:
                await session.delete(member)
                await session.flush()
            if customer.address:
                await relink(session, addresses=(customer.address,))
            else:
                customer.organisation_id = customer.organisation_role = None

    async def remove_member(self, address: str) -> None:
        address = canonical(address)
        async with self.db.write() as session:
            row = await session.get(OrganisationMember, address)
            if row is None:
                raise OrganisationError("unknown_member", address=address[:255])
            await session.delete(row)
            await session.flush()
            await relink(session, addresses=(address,))

    async def view(self, name: str) -> OrganisationView:
        async with self.db.read() as session:
            return await _view(session, await self._get(session, name))

    async def all(self) -> list[OrganisationView]:
        async with self.db.read() as session:
            orgs = (await session.execute(select(Organisation).order_by(Organisation.name))).scalars()
            return [await _view(session, org) for org in orgs]

    async def of_customer(self, customer_id: int) -> Organisation | None:
        async with self.db.read() as session:
            customer = await session.get(Customer, customer_id)
            if customer is None or customer.organisation_id is None:
                return None
            return await session.get(Organisation, customer.organisation_id)


async def _view(session: AsyncSession, org: Organisation) -> OrganisationView:
    domains = tuple((await session.execute(select(OrganisationDomain.domain).where(
        OrganisationDomain.organisation_id == org.id).order_by(OrganisationDomain.domain))).scalars())
    members = tuple((a, r) for a, r in (await session.execute(
        select(OrganisationMember.address, OrganisationMember.role).where(
            OrganisationMember.organisation_id == org.id).order_by(OrganisationMember.address))).all())
    people = (await session.execute(select(func.count()).select_from(Customer).where(
        Customer.organisation_id == org.id))).scalar_one()
    tickets = (await session.execute(select(func.count()).select_from(Ticket).join(
        Customer, Customer.id == Ticket.customer_id).where(Customer.organisation_id == org.id))).scalar_one()
    return OrganisationView(org.id, org.name, org.sharing, org.replies, domains, members, people, tickets,
                            org.approvers)


def _sharing(value: str) -> str:
    if value not in tuple(Sharing):
        raise OrganisationError("bad_sharing", sharing=value[:32])
    return value


def _domain_ok(domain: str) -> bool:
    labels = domain.split(".")
    return 3 < len(domain) <= 253 and len(labels) >= 2 and all(
        label and len(label) <= 63 and label.replace("-", "").isalnum() and not label.startswith("-")
        for label in labels)


def valid_address(address: str) -> str | None:
    """The address in its one spelling (lower case, normalized by email-validator), or None
    when it is not a mail address. The domain is not looked up: a code sent to it proves it."""
    try:
        return validate_email(address.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None
