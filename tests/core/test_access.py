"""Who may do what with a ticket: every (sharing, role, replies, relation, deed), against the
rules written out here by hand, independently of core.domain.access's table; then the same
answers through core.services.steps.owned, which every customer's action goes through."""

from __future__ import annotations

import itertools

import pytest

from core.domain.access import Deed, Organisation, Party, Relation, Role, Sharing, allowed, relation, sees_colleagues
from core.domain.errors import NotYourTicket, ReadOnlyTicket
from core.services import Services
from core.services.steps import owned
from core.storage.models import Customer as CustomerRow

ORG = 7

# The requester (and the same person under another identity) may do everything; a stranger
# nothing. A colleague sees the ticket when the organisation shares with everybody, or with its
# primary contacts and they are one; seeing it, they may also write, settle and escalate when
# the organisation allows replies; withdrawing and rating stay the requester's own.
EXPECTED: set[tuple[str, str, bool, str, str]] = set()
for _sharing, _role, _replies in itertools.product(Sharing, Role, (False, True)):
    for _deed in Deed:
        EXPECTED.add((_sharing, _role, _replies, Relation.REQUESTER, _deed))
        EXPECTED.add((_sharing, _role, _replies, "same person", _deed))
    colleague_sees = _sharing == Sharing.EVERYBODY or (_sharing == Sharing.PRIMARY and _role == Role.PRIMARY)
    if colleague_sees:
        EXPECTED.add((_sharing, _role, _replies, Relation.COLLEAGUE, Deed.VIEW))
        if _replies:
            for _deed in (Deed.WRITE, Deed.SETTLE, Deed.ESCALATE):
                EXPECTED.add((_sharing, _role, _replies, Relation.COLLEAGUE, _deed))

RELATIONS = (Relation.REQUESTER, "same person", Relation.COLLEAGUE, Relation.STRANGER)
ALL = list(itertools.product(Sharing, Role, (False, True), RELATIONS, Deed))


def parties(role: Role, how: str) -> tuple[Party, Party]:
    """The actor and the requester, related as `how` says."""
    requester = Party(1, "jana@firma.cz", ORG, Role.MEMBER)
    match how:
        case Relation.REQUESTER:
            return Party(1, "jana@firma.cz", ORG, role), requester
        case "same person":  # her Telegram identity, with the address she proved
            return Party(2, "jana@firma.cz", ORG, role, proven=True), requester
        case Relation.COLLEAGUE:
            return Party(3, "petr@firma.cz", ORG, role, proven=True), requester
    return Party(4, "eve@elsewhere.net", 8, role, proven=True), requester


def test_the_expected_table_covers_every_case() -> None:
    assert len(ALL) == 3 * 2 * 2 * 4 * len(Deed)
    assert {(s, r, rep, rel, d) for s, r, rep, rel, d in ALL} >= EXPECTED


@pytest.mark.parametrize(("sharing", "role", "replies", "how", "deed"), ALL, ids=str)
def test_every_case(sharing: Sharing, role: Role, replies: bool, how: str, deed: Deed) -> None:
    actor, requester = parties(role, how)
    org = Organisation(sharing, replies)
    assert (deed in allowed(actor, requester, org)) == ((sharing, role, replies, how, deed) in EXPECTED)


@pytest.mark.parametrize(("sharing", "role", "replies"), list(itertools.product(Sharing, Role, (False, True))),
                         ids=str)
def test_listing_colleagues_follows_seeing_their_tickets(sharing: Sharing, role: Role, replies: bool) -> None:
    actor = Party(3, "petr@firma.cz", ORG, role, proven=True)
    sees = (sharing, role, replies, Relation.COLLEAGUE, Deed.VIEW) in EXPECTED
    assert sees_colleagues(actor, Organisation(sharing, replies)) is sees
    assert not sees_colleagues(Party(3, "petr@firma.cz", None, role, proven=True), Organisation(sharing, replies))
    # A mail's sender at the organisation's domain, not proven (a From line can be forged): no.
    assert not sees_colleagues(Party(3, "petr@firma.cz", ORG, role), Organisation(sharing, replies))


def test_relations() -> None:
    jana = Party(1, "jana@firma.cz", ORG)
    assert relation(Party(1), jana) == Relation.REQUESTER
    assert relation(Party(2, "jana@firma.cz", proven=True), jana) == Relation.REQUESTER  # the address proven
    assert relation(Party(3, "petr@firma.cz", ORG, proven=True), jana) == Relation.COLLEAGUE
    assert relation(Party(3, None, ORG), jana) == Relation.COLLEAGUE  # added by an agent, without an address
    # A mail's sender is only claimed: a forged From line is neither Jana nor her colleague.
    assert relation(Party(2, "jana@firma.cz"), jana) == Relation.STRANGER
    assert relation(Party(3, "petr@firma.cz", ORG), jana) == Relation.STRANGER
    assert relation(Party(4, None, None), Party(5, None, None)) == Relation.STRANGER  # no address: no match
    assert relation(Party(4, "x@y.cz", 8), jana) == Relation.STRANGER
    assert allowed(Party(3, "petr@firma.cz", ORG), jana, None) == frozenset()  # no organisation row: nothing


# -- the same table through owned(), on the database --------------------------------------


async def _person(service: Services, user: str, address: str | None) -> int:
    """A mail channel's customer at `address` (linked to its organisation), or a chat's without one."""
    if address is None:
        return (await service.customers.customer("telegram", user, user)).id
    who = (await service.customers.customer("email", address, address, address=address)).id
    async with service.db.write() as session:  # as if proven with a code (a mail's sender alone is not)
        (await session.get_one(CustomerRow, who)).address_proven = True
    return who


@pytest.mark.parametrize(("sharing", "role", "replies"), list(itertools.product(Sharing, Role, (False, True))),
                         ids=str)
async def test_owned_answers_as_the_table(service: Services, sharing: Sharing, role: Role, replies: bool) -> None:
    await service.organisations.create("Firma", sharing, replies=replies)
    await service.organisations.add_domain("Firma", "firma.cz")
    if role == Role.PRIMARY:
        await service.organisations.add_member("Firma", "petr@firma.cz", Role.PRIMARY)
    jana = await _person(service, "jana", "jana@firma.cz")
    number = (await service.tickets.open_ticket(jana, department="technical", request_type="bug",
                                                subject="Login fails", description="500 since 9:00")).number
    actors = {Relation.COLLEAGUE: await _person(service, "petr", "petr@firma.cz"),
              Relation.STRANGER: await _person(service, "eve", "eve@elsewhere.net"),
              "no address": await _person(service, "tg-eve", None)}
    for how, actor in actors.items():
        for deed in Deed:
            expected = (sharing, role, replies, how, deed) in EXPECTED
            async with service.db.read() as session:
                if expected:
                    assert (await owned(session, actor, number, deed=deed)).number == number
                    continue
                sees = (sharing, role, replies, how, Deed.VIEW) in EXPECTED
                with pytest.raises(ReadOnlyTicket if sees else NotYourTicket):
                    await owned(session, actor, number, deed=deed)
