"""Who may do what with a ticket, as one table: the requester, the same person under another
identity, or a colleague in the requester's organisation, by its sharing mode and their role.

Pure code, no I/O: core.services.steps.owned asks `may` for every customer's action on a ticket.
A ticket nobody may see answers as if it did not exist; one a colleague may only see answers
that it is read-only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Sharing(enum.StrEnum):
    NONE = "none"  # each member sees their own tickets
    PRIMARY = "primary"  # primary contacts see all of the organisation's
    EVERYBODY = "everybody"  # every member sees all of the organisation's


class Role(enum.StrEnum):
    MEMBER = "member"
    PRIMARY = "primary"


class Relation(enum.StrEnum):
    REQUESTER = "requester"  # opened it, or is the same person (the same proven address)
    COLLEAGUE = "colleague"  # a member of the requester's organisation
    STRANGER = "stranger"


class Deed(enum.StrEnum):
    """What a customer does with a ticket."""

    VIEW = "view"  # find it, list it, read it (a letter's reference to it too)
    WRITE = "write"  # add a message
    SETTLE = "settle"  # confirm a solution or dispute it
    ESCALATE = "escalate"  # ask for escalation when the promise is broken
    WITHDRAW = "withdraw"  # close it without a solution
    RATE = "rate"  # say how satisfied one was
    APPROVE = "approve"  # approve or decline a quote for paid work


READ = frozenset({Deed.VIEW})
SHARED_WORK = frozenset({Deed.VIEW, Deed.WRITE, Deed.SETTLE, Deed.ESCALATE})
NOTHING: frozenset[Deed] = frozenset()

# Approving a quote stays the requester's unless the organisation names more approvers
# (core.domain.quotes.Approvers): a colleague who sees the ticket may then approve it too.
APPROVERS: dict[tuple[str, Role], bool] = {
    ("requester", Role.MEMBER): False,
    ("requester", Role.PRIMARY): False,
    ("primary", Role.MEMBER): False,
    ("primary", Role.PRIMARY): True,
    ("everybody", Role.MEMBER): True,
    ("everybody", Role.PRIMARY): True,
}

# What a colleague may do, by (sharing, role, replies): `replies` is the organisation's choice
# to let those who see a colleague's ticket also work on it. Withdrawing and rating stay the
# requester's own: a colleague may not close a ticket somebody else still needs, nor speak for
# their satisfaction.
COLLEAGUES: dict[tuple[Sharing, Role, bool], frozenset[Deed]] = {
    (Sharing.NONE, Role.MEMBER, False): NOTHING,
    (Sharing.NONE, Role.MEMBER, True): NOTHING,
    (Sharing.NONE, Role.PRIMARY, False): NOTHING,
    (Sharing.NONE, Role.PRIMARY, True): NOTHING,
    (Sharing.PRIMARY, Role.MEMBER, False): NOTHING,
    (Sharing.PRIMARY, Role.MEMBER, True): NOTHING,
    (Sharing.PRIMARY, Role.PRIMARY, False): READ,
    (Sharing.PRIMARY, Role.PRIMARY, True): SHARED_WORK,
    (Sharing.EVERYBODY, Role.MEMBER, False): READ,
    (Sharing.EVERYBODY, Role.MEMBER, True): SHARED_WORK,
    (Sharing.EVERYBODY, Role.PRIMARY, False): READ,
    (Sharing.EVERYBODY, Role.PRIMARY, True): SHARED_WORK,
}


@dataclass(frozen=True, slots=True)
class Party:
    """A customer as access sees them: who they are, the address they proved, their organisation."""

    id: int
    address: str | None = None
    organisation_id: int | None = None
    role: str | None = None
    # The address was proven (a code sent to it, or an agent's word), not only claimed: a mail's
    # sender can be forged, so a mail channel's identity is the same person and a member through
    # its address only for what others proved.
    proven: bool = False

    @property
    def member(self) -> bool:
        """In their organisation on proven terms: by a proven address, or added by an agent
        without one."""
        return self.organisation_id is not None and (self.proven or self.address is None)


@dataclass(frozen=True, slots=True)
class Organisation:
    sharing: str = Sharing.NONE
    replies: bool = False
    approvers: str = "requester"


def relation(actor: Party, requester: Party) -> Relation:
    """Who the actor is to a ticket's requester: the same identity, or the same person by an
    address the actor proved; a colleague when the actor is a member on proven terms."""
    if actor.id == requester.id or (actor.proven and actor.address is not None and actor.address == requester.address):
        return Relation.REQUESTER
    if actor.member and actor.organisation_id == requester.organisation_id:
        return Relation.COLLEAGUE
    return Relation.STRANGER


def allowed(actor: Party, requester: Party, organisation: Organisation | None) -> frozenset[Deed]:
    """Everything `actor` may do with a ticket `requester` opened (`organisation`: the one they
    share, when they are colleagues)."""
    match relation(actor, requester):
        case Relation.REQUESTER:
            return frozenset(Deed)
        case Relation.COLLEAGUE if organisation is not None:
            role = Role(actor.role or Role.MEMBER)
            deeds = COLLEAGUES[(Sharing(organisation.sharing), role, organisation.replies)]
            if Deed.VIEW in deeds and APPROVERS.get((organisation.approvers, role), False):
                return deeds | {Deed.APPROVE}
            return deeds
    return NOTHING


def sees_colleagues(actor: Party, organisation: Organisation | None) -> bool:
    """Whether `actor` may list the tickets of their organisation's other members."""
    if organisation is None or not actor.member:
        return False
    return Deed.VIEW in COLLEAGUES[(Sharing(organisation.sharing), Role(actor.role or Role.MEMBER),
                                    organisation.replies)]
