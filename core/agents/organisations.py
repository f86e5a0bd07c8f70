"""The agents' `org` command: organisations listed, shown, created and changed, in the agent's
language. The interpreter (every desk) and the operator's command line both run it."""

from __future__ import annotations

from core.agents.actions import Incomplete, Org
from core.agents.results import Details, Done, Refused, Result
from core.domain.access import Role, Sharing
from core.domain.quotes import Approvers
from core.domain.textnorm import ticket_number
from core.i18n import Translator
from core.services.organisations import (
    OrganisationError,
    OrganisationService,
    OrganisationView,
    canonical,
    clean_domain,
    domain_of,
)

__all__ = ["org_incomplete", "org_usage", "role_name", "run_org"]


def org_usage(t: Translator, prefix: str) -> tuple[tuple[str, str], ...]:
    """The `org` commands as typed on a desk whose commands start with `prefix`."""
    return (
        (f"{prefix}org", t._("organisations: sharing, domains, members, tickets")),
        (f"{prefix}org new NAME [none|primary|everybody]", t._("create an organisation (sharing: none unless given)")),
        (f'{prefix}org "NAME"', t._("an organisation in detail; write a name with spaces in quotes")),
        (f'{prefix}org "NAME" sharing MODE [replies|noreplies]',
         t._("who sees colleagues' tickets: none, primary or everybody; replies: they may also write")),
        (f'{prefix}org "NAME" approvers requester|primary|everybody',
         t._("who approves quotes besides the requester: nobody, primary contacts, or every colleague who "
             "sees the ticket")),
        (f'{prefix}org "NAME" domain add|remove example.com', t._("every address at a domain belongs to it")),
        (f'{prefix}org "NAME" member add ADDRESS|#1042 [primary]',
         t._("add an address, or the requester of a ticket; primary: a primary contact")),
        (f'{prefix}org "NAME" member remove ADDRESS|#1042', t._("remove an address added by hand")),
        (f'{prefix}org "NAME" delete', t._("delete an organisation (its tickets stay)")),
    )


def role_name(t: Translator, role: str) -> str:
    return t._("primary contact") if role == Role.PRIMARY else t._("member")


def _meaning(t: Translator, sharing: str) -> str:
    meanings: dict[str, str] = {
        Sharing.NONE: t._("each member sees only their own tickets"),
        Sharing.PRIMARY: t._("primary contacts see all the organisation's tickets"),
        Sharing.EVERYBODY: t._("every member sees all the organisation's tickets"),
    }
    return meanings.get(sharing, sharing)


def approvers_meaning(t: Translator, approvers: str) -> str:
    meanings: dict[str, str] = {
        Approvers.REQUESTER: t._("Quotes are approved by the requester alone."),
        Approvers.PRIMARY: t._("Quotes are approved by the requester or a primary contact who sees the ticket."),
        Approvers.EVERYBODY: t._("Quotes are approved by the requester or any colleague who sees the ticket."),
    }
    return meanings.get(approvers, approvers)


def _replies(t: Translator, replies: bool) -> str:
    return (t._("Colleagues who see a ticket may also write to it.") if replies
            else t._("Colleagues who see a ticket may only read it."))


async def run_org(t: Translator, orgs: OrganisationService, action: Org, prefix: str) -> Result:
    """Carry out an `org` command; an OrganisationError is left to the caller to explain."""
    name, value = action.name, action.value
    match action.op:
        case "list":
            return _listing(t, await orgs.all(), prefix)
        case "show":
            return _details(t, await orgs.view(name))
        case "new":
            org = await orgs.create(name, value or Sharing.NONE)
            return Done(t._("Organisation {name} created; sharing: {sharing} ({meaning}).", name=org.name,
                            sharing=org.sharing, meaning=_meaning(t, org.sharing)))
        case "sharing":
            replies = {"replies": True, "noreplies": False}.get(action.option)
            org = await orgs.set_sharing(name, value, replies=replies)
            return Done("\n".join([t._("{name} now shares as “{sharing}”: {meaning}.", name=org.name,
                                       sharing=org.sharing, meaning=_meaning(t, org.sharing)),
                                   _replies(t, org.replies)]))
        case "approvers":
            org = await orgs.set_approvers(name, value)
            return Done(t._("{name}: {meaning}", name=org.name, meaning=approvers_meaning(t, org.approvers)))
        case "domain_add":
            view = await orgs.view(name)
            await orgs.add_domain(view.name, value)
            return Done(t._("Every address at {domain} now belongs to {name}.",
                            domain=clean_domain(value), name=view.name))
        case "domain_remove":
            view = await orgs.view(name)
            domain = clean_domain(value)
            if domain not in view.domains:
                raise OrganisationError("unknown_domain", domain=domain[:255])
            await orgs.remove_domain(domain)
            return Done(t._("Addresses at {domain} no longer belong to {name}.", domain=domain, name=view.name))
        case "member_add":
            return await _add_member(t, orgs, name, value, action.option or Role.MEMBER)
        case "member_remove":
            view = await orgs.view(name)
            number = ticket_number(value) if value.startswith("#") or value.isdigit() else None
            if number is not None:  # an identity added by its ticket (a wrong number is undone so)
                await orgs.remove_requester(view.name, number)
                return Done(t._("The requester of ticket {ticket} no longer belongs to {name}.",
                                ticket=t.ticket(number), name=view.name))
            address = canonical(value)
            if address not in {a for a, _ in view.members}:
                raise OrganisationError("unknown_member", address=address[:255])
            await orgs.remove_member(address)
            if domain_of(address) in view.domains:
                return Done(t._("{address} is no longer a member added by hand; it still belongs to {name} "
                                "through its domain.", address=address, name=view.name))
            return Done(t._("{address} no longer belongs to {name}.", address=address, name=view.name))
        case "delete":
            view = await orgs.view(name)
            await orgs.delete(view.name)
            return Done(t._("Organisation {name} deleted; its people keep their tickets.", name=view.name))
    raise ValueError(action.op)  # pragma: no cover - the parser makes only the operations above


async def _add_member(t: Translator, orgs: OrganisationService, name: str, value: str, role: str) -> Result:
    view = await orgs.view(name)
    number = ticket_number(value) if value.startswith("#") or value.isdigit() else None
    if number is None:
        await orgs.add_member(view.name, value, role)
        address = canonical(value)
        return Done(t._("{address} now belongs to {name} (role: {role}).", address=address, name=view.name,
                        role=role_name(t, role)))
    customer = await orgs.add_requester(view.name, number, role)
    if customer.address:
        return Done(t._("The requester of ticket {ticket} ({address}) now belongs to {name} (role: {role}).",
                        ticket=t.ticket(number), address=customer.address, name=view.name, role=role_name(t, role)))
    return Done(t._("The requester of ticket {ticket} now belongs to {name} (role: {role}), under this identity "
                    "only: they have proven no address yet.", ticket=t.ticket(number), name=view.name,
                    role=role_name(t, role)))


def _listing(t: Translator, views: list[OrganisationView], prefix: str) -> Result:
    if not views:
        return Done(t._("No organisations yet. Create one: {example}", example=f"{prefix}org new Acme"))
    return Details(t._("Organisations:"), tuple(
        t._("{name} — sharing: {sharing}; domains: {domains}; members: {members}; tickets: {tickets}",
            name=v.name, sharing=v.sharing, domains=", ".join(v.domains) or "—", members=t.number(len(v.members)),
            tickets=t.number(v.tickets)) for v in views))


def _details(t: Translator, v: OrganisationView) -> Details:
    lines = [t._("Sharing: {sharing} ({meaning})", sharing=v.sharing, meaning=_meaning(t, v.sharing)),
             _replies(t, v.replies),
             t._("Domains: {domains}", domains=", ".join(v.domains) or "—"),
             t._("Members added: {count}", count=t.number(len(v.members)))]
    lines += [f"  {address} — {role_name(t, role)}" for address, role in v.members]
    lines += [t._("People linked: {count}", count=t.number(v.customers)),
              t._("Tickets: {count}", count=t.number(v.tickets)), approvers_meaning(t, v.approvers)]
    return Details(v.name, tuple(lines))


def org_incomplete(t: Translator, prefix: str, action: Incomplete) -> Refused:
    """An `org` command that cannot be carried out as typed, said with how to type it."""
    example = f'{prefix}org "Acme Corp"'
    match action.needs:
        case "organisation":
            return Refused(t._("Name the organisation, for example: {example}", example=f"{prefix}org new Acme Corp"))
        case "sharing":
            return Refused(t._("Give a sharing mode: none, primary or everybody. For example: {example}",
                               example=f"{example} sharing everybody"))
        case "approvers":
            return Refused(t._("Say who approves quotes: requester, primary or everybody. For example: {example}",
                               example=f"{example} approvers primary"))
        case "domain":
            return Refused(t._("Give a domain, for example: {example}", example=f"{example} domain add acme.com"))
        case "address":
            return Refused(t._("Give an address or a ticket number, for example: {example}",
                               example=f"{example} member add ana@acme.com"))
    intro = t._("Not understood: “{given}”. The organisation commands:", given=action.given)
    return Refused("\n".join([intro, *(f"{u} — {what}" for u, what in org_usage(t, prefix))]))
