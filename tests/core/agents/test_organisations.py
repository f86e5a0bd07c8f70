"""The agents' `org` command through the interpreter: every operation and every refusal, the
card's organisation, and reports filtered by organisation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.agents import AgentDesk, AgentIdentity, Details, Done, Help, Refused, ReportView, Result, as_text, parse
from core.agents.actions import Incomplete, Org, ReportRequest
from core.agents.card import ticket_card
from core.agents.report import render_csv, render_text
from core.domain.config import HelpdeskConfig
from core.i18n import translator
from core.services import Services
from core.services.organisations import OrganisationError
from core.services.reports import build_report
from core.storage.desk import card_state
from core.storage.models import Customer, Ticket
from tests.conftest import FakeClock

EVA = AgentIdentity("desk", "eva", "Eva", "en")
JANA = AgentIdentity("desk", "jana", "Jana", "cs")
DARIUSH = AgentIdentity("desk", "dariush", "Dariush", "fa")
OLAF = AgentIdentity("desk", "olaf", "Olaf", "en")


class People:
    async def is_agent(self, user_id: str) -> bool:
        return user_id != OLAF.user_id

    async def lookup(self, ref: str) -> AgentIdentity | None:
        return None



async def run(agents: AgentDesk, line: str, who: AgentIdentity = EVA) -> Result:
    return await agents.run(who, parse(line), People(), prefix="/agent ")


async def _ticket(service: Services, user: str, email: str | None = None, subject: str = "Login fails") -> Ticket:
    customer = await service.customers.customer("chat", user, user, f"User {user}", "en")
    if email is not None:
        async with service.db.write() as s:
            (await s.get_one(Customer, customer.id)).address = email
    return await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                             subject=subject, description="It fails.")


@pytest.mark.parametrize(("line", "action"), [
    ("org", Org("list")),
    ("org new Acme Corp", Org("new", "Acme Corp")),
    ("org new Acme Corp everybody", Org("new", "Acme Corp", "everybody")),
    ('org new "Acme none"', Org("new", "Acme none")),
    ("org Acme Corp", Org("show", "Acme Corp")),
    ("org “Acme Corp” sharing primary replies", Org("sharing", "Acme Corp", "primary", "replies")),
    ("org «Acme Corp» sharing none noreplies", Org("sharing", "Acme Corp", "none", "noreplies")),
    ('org "Acme member" domain add acme.com', Org("domain_add", "Acme member", "acme.com")),
    ("org Acme domain remove acme.com", Org("domain_remove", "Acme", "acme.com")),
    ("org Acme member add ana@acme.com", Org("member_add", "Acme", "ana@acme.com", "member")),
    ("org Acme member add #1042 primary", Org("member_add", "Acme", "#1042", "primary")),
    ("org Acme member remove ana@acme.com", Org("member_remove", "Acme", "ana@acme.com")),
    ("ORG Acme DELETE", Org("delete", "Acme")),
    ("org new", Incomplete("org", "organisation")),
    ("org Acme sharing", Incomplete("org", "sharing")),
    ("org Acme sharing none maybe", Incomplete("org", "org", "maybe")),
    ("org Acme domain add", Incomplete("org", "domain")),
    ("org Acme member add", Incomplete("org", "address")),
    ("org Acme member invite x@y.cz", Incomplete("org", "org", "member invite x@y.cz")),
    ('org "Acme" frobnicate', Incomplete("org", "org", "frobnicate")),
    ("org Acme delete now", Incomplete("org", "no_more", "now")),
    ("org Acme member add a@b.cz boss", Incomplete("org", "no_more", "boss")),
    ("report org Acme Corp", ReportRequest(30, "Acme Corp")),
    ('report 7 org "Acme Corp"', ReportRequest(7, "Acme Corp")),
    ("report org", Incomplete("report", "organisation")),
    ("report 7 Acme", Incomplete("report", "no_more", "Acme")),
])
def test_parse(line: str, action: object) -> None:
    assert parse(line) == action


async def test_create_list_show_and_delete(agents: AgentDesk, service: Services) -> None:
    assert await run(agents, "org") == Done("No organisations yet. Create one: /agent org new Acme")
    assert await run(agents, "org new Acme Corp everybody") == Done(
        "Organisation Acme Corp created; sharing: everybody (every member sees all the organisation's tickets).")
    assert await run(agents, "org new Beta") == Done(
        "Organisation Beta created; sharing: none (each member sees only their own tickets).")
    await _ticket(service, "1", "ana@acme.com")
    assert await run(agents, 'org "acme corp" domain add acme.com') == Done(
        "Every address at acme.com now belongs to Acme Corp.")
    assert await run(agents, "org Acme Corp member add boss@gmail.com primary") == Done(
        "boss@gmail.com now belongs to Acme Corp (role: primary contact).")
    listed = await run(agents, "org")
    assert listed == Details("Organisations:", (
        "Acme Corp — sharing: everybody; domains: acme.com; members: 1; tickets: 1",
        "Beta — sharing: none; domains: —; members: 0; tickets: 0"))
    shown = await run(agents, "org Acme Corp")
    assert shown == Details("Acme Corp", (
        "Sharing: everybody (every member sees all the organisation's tickets)",
        "Colleagues who see a ticket may only read it.",
        "Domains: acme.com",
        "Members added: 1",
        "  boss@gmail.com — primary contact",
        "People linked: 1",
        "Tickets: 1",
        "Quotes are approved by the requester alone."))
    assert as_text(shown).startswith("Acme Corp\nSharing: everybody")
    assert await run(agents, "org Beta delete") == Done("Organisation Beta deleted; its people keep their tickets.")
    assert await run(agents, "org Beta") == Refused("There is no organisation “Beta”.")
    assert [v.name for v in await service.organisations.all()] == ["Acme Corp"]


async def test_who_approves_quotes(agents: AgentDesk, service: Services) -> None:
    await run(agents, "org new Acme")
    assert await run(agents, 'org "Acme" approvers primary') == Done(
        "Acme: Quotes are approved by the requester or a primary contact who sees the ticket.")
    assert (await service.organisations.view("Acme")).approvers == "primary"
    assert await run(agents, "org Acme approvers all") == Refused(
        "“all” is not a choice of approvers. Use requester, primary or everybody.")
    assert await run(agents, "org Acme approvers") == Refused(
        'Say who approves quotes: requester, primary or everybody. For example: /agent org "Acme Corp" '
        "approvers primary")
    assert (await service.organisations.view("Acme")).approvers == "primary"


async def test_sharing_domains_and_members(agents: AgentDesk, service: Services) -> None:
    await run(agents, "org new Acme")
    assert await run(agents, "org Acme sharing primary replies") == Done(
        "Acme now shares as “primary”: primary contacts see all the organisation's tickets.\n"
        "Colleagues who see a ticket may also write to it.")
    view = await service.organisations.view("Acme")
    assert (view.sharing, view.replies) == ("primary", True)
    await run(agents, "org Acme sharing everybody")  # replies kept when not named
    assert (await service.organisations.view("Acme")).replies is True
    await run(agents, "org Acme sharing everybody noreplies")
    assert (await service.organisations.view("Acme")).replies is False

    await run(agents, "org Acme domain add @Acme.com")
    await run(agents, "org Acme member add Ana@Acme.com primary")
    assert await run(agents, "org Acme member remove ana@acme.com") == Done(
        "ana@acme.com is no longer a member added by hand; it still belongs to Acme through its domain.")
    await run(agents, "org Acme member add x@elsewhere.org")
    assert await run(agents, "org Acme member remove X@elsewhere.org") == Done(
        "x@elsewhere.org no longer belongs to Acme.")
    assert await run(agents, "org Acme domain remove acme.com") == Done(
        "Addresses at acme.com no longer belong to Acme.")
    assert (await service.organisations.view("Acme")).domains == ()


async def test_a_tickets_requester_is_added(agents: AgentDesk, service: Services) -> None:
    await run(agents, "org new Acme everybody")
    with_address = await _ticket(service, "1", "ana@acme.com")
    without = await _ticket(service, "2")
    assert await run(agents, f"org Acme member add #{with_address.number}") == Done(
        "The requester of ticket #1001 (ana@acme.com) now belongs to Acme (role: member).")
    assert await run(agents, f"org Acme member add {without.number} primary") == Done(
        "The requester of ticket #1002 now belongs to Acme (role: primary contact), under this identity only: "
        "they have proven no address yet.")
    async with service.db.read() as s:
        linked = {c.platform_user_id: (c.organisation_id is not None, c.organisation_role)
                  for c in (await s.get_one(Customer, with_address.customer_id),
                            await s.get_one(Customer, without.customer_id))}
    assert linked == {"1": (True, "member"), "2": (True, "primary")}
    assert await run(agents, "org Acme member add #9999") == Refused("There is no ticket #9999.")
    # A wrong number is undone the same way it was given, with or without an address.
    for ticket in (with_address, without):
        assert await run(agents, f"org Acme member remove #{ticket.number}") == Done(
            f"The requester of ticket #{ticket.number} no longer belongs to Acme.")
    async with service.db.read() as s:
        assert [(await s.get_one(Customer, t.customer_id)).organisation_id for t in (with_address, without)] == \
            [None, None]
    assert (await service.organisations.view("Acme")).members == ()


@pytest.mark.parametrize(("line", "said"), [
    ("org Nowhere", "There is no organisation “Nowhere”."),
    ("org Nowhere delete", "There is no organisation “Nowhere”."),
    ("org new " + "x" * 101, "An organisation's name has 1 to 100 characters."),
    ("org new acme", "There is already an organisation “acme”."),
    ("org Acme sharing open", "“open” is not a sharing mode. Use none, primary or everybody."),
    ("org Acme domain add localhost", "“localhost” is not a mail domain (like example.com)."),
    ("org Acme domain add beta.com", "The domain beta.com already belongs to Beta."),
    ("org Acme domain remove other.com", "other.com is not one of this organisation's domains."),
    ("org Acme domain remove beta.com", "beta.com is not one of this organisation's domains."),
    ("org Acme member add not-an-address", "“not-an-address” is not a mail address."),
    ("org Acme member remove x@beta.com", "x@beta.com is not among the members added to this organisation."),
    ("org new", "Name the organisation, for example: /agent org new Acme Corp"),
    ("org Acme sharing", 'Give a sharing mode: none, primary or everybody. For example: /agent org "Acme Corp" '
                         "sharing everybody"),
    ("org Acme domain add", 'Give a domain, for example: /agent org "Acme Corp" domain add acme.com'),
    ("org Acme member remove", 'Give an address or a ticket number, for example: /agent org "Acme Corp" member '
                               "add ana@acme.com"),
    ("report org", 'Name the organisation, for example: /agent report 30 org "Acme Corp"'),
    ("report 7 org Nowhere", "There is no organisation “Nowhere”."),
])
async def test_each_refusal_has_its_sentence(agents: AgentDesk, service: Services, line: str, said: str) -> None:
    await service.organisations.create("Acme")
    await service.organisations.create("Beta")
    await service.organisations.add_domain("Beta", "beta.com")
    await service.organisations.add_member("Beta", "x@beta.com")
    assert await run(agents, line) == Refused(said)
    assert [v.name for v in await service.organisations.all()] == ["Acme", "Beta"]
    assert (await service.organisations.view("Beta")).domains == ("beta.com",)


async def test_words_it_does_not_take_are_answered_with_the_org_commands(agents: AgentDesk) -> None:
    said = await run(agents, "org Acme member invite x@y.cz")
    assert isinstance(said, Refused)
    lines = said.text.split("\n")
    assert lines[0] == "Not understood: “member invite x@y.cz”. The organisation commands:"
    assert '/agent org "NAME" member add ADDRESS|#1042 [primary] — add an address, or the requester of a ticket; ' \
           "primary: a primary contact" in lines


async def test_the_help_shows_the_org_commands(agents: AgentDesk) -> None:
    shown = await run(agents, "help")
    assert isinstance(shown, Help)
    typed = [u for u, _ in shown.usage]
    assert "/agent org" in typed and '/agent org "NAME" sharing MODE [replies|noreplies]' in typed
    assert '/agent report [days] org "NAME"' in typed


async def test_outsiders_change_nothing(agents: AgentDesk, service: Services) -> None:
    assert await run(agents, "org new Acme", OLAF) == Refused("Only help-desk agents can do this.")
    assert await service.organisations.all() == []


@pytest.mark.parametrize("who", [JANA, DARIUSH])
async def test_in_the_agents_language(agents: AgentDesk, service: Services, who: AgentIdentity) -> None:
    t = translator(who.locale)
    assert await run(agents, "org new Acme", who) == Done(t._(
        "Organisation {name} created; sharing: {sharing} ({meaning}).", name="Acme", sharing="none",
        meaning=t._("each member sees only their own tickets")))
    assert await run(agents, "org Nowhere", who) == Refused(t._("There is no organisation “{name}”.",
                                                               name="Nowhere"))
    shown = await run(agents, "org Acme", who)
    assert isinstance(shown, Details) and shown.lines[3] == t._("Members added: {count}", count=t.number(0))


async def test_the_card_shows_the_organisation_and_the_address(service: Services, config: HelpdeskConfig) -> None:
    await service.organisations.create("Acme Corp", "everybody")
    ana = await _ticket(service, "1", "ana@acme.com")
    nobody = await _ticket(service, "2")
    t = translator("en")

    def fields(state: object) -> dict[str, str]:
        return {f.key: f.value for f in ticket_card(t, config, state).fields}  # type: ignore[arg-type]

    before = fields(await card_state(service.db, ana.id, "board"))
    assert before["address"] == "ana@acme.com" and "organisation" not in before
    await service.organisations.add_member("Acme Corp", "ana@acme.com", "primary")
    assert fields(await card_state(service.db, ana.id, "board"))["organisation"] == "Acme Corp · primary contact"
    plain = fields(await card_state(service.db, nobody.id, "board"))
    assert "organisation" not in plain and "address" not in plain
    cs = translator("cs")
    await service.organisations.add_domain("Acme Corp", "acme.com")
    await service.organisations.remove_member("ana@acme.com")  # still in, by the domain, as a member
    card = ticket_card(cs, config, await card_state(service.db, ana.id, "board"))
    assert {f.key: (f.label, f.value) for f in card.fields}["organisation"] == (
        cs._("Organisation"), "Acme Corp · " + cs._("member"))


async def test_a_report_filtered_by_organisation(agents: AgentDesk, service: Services, config: HelpdeskConfig,
                                                 clock: FakeClock) -> None:
    start = clock.now
    await service.organisations.create("Acme Corp")
    await service.organisations.add_domain("Acme Corp", "acme.com")
    await service.organisations.create("Beta")
    await service.organisations.add_domain("Beta", "beta.com")
    for user, email in (("1", "ana@acme.com"), ("2", "bob@acme.com"), ("3", "eve@beta.com"), ("4", None),
                        ("5", None)):
        await _ticket(service, user, email, subject=f"Problem {user}")
    await service.organisations.add_domain("Acme Corp", "acme.com")  # links the addresses set above
    await service.organisations.add_domain("Beta", "beta.com")
    end = clock.now + timedelta(minutes=1)
    everything = await build_report(service.db, config, start, end)
    acme = await build_report(service.db, config, start, end, organisation="acme corp")
    assert sum(everything.open_now.values()) == 5 and sum(acme.open_now.values()) == 2
    assert everything.organisation is None and acme.organisation == "Acme Corp"
    assert everything.per_organisation == [("Acme Corp", 2), ("Beta", 1)] and acme.per_organisation == []
    t = translator("en")
    text = render_text(t, config, acme)
    assert text.split("\n")[1] == "Only the tickets of the organisation Acme Corp"
    assert "Technical support: New 2," in text
    whole = render_text(t, config, everything)
    assert "Technical support: New 5," in whole
    assert "Tickets opened per organisation:\n  Acme Corp: 2\n  Beta: 1" in whole
    assert "period,*,organisation,Acme Corp" in render_csv(config, acme)
    assert "opened_per_organisation,*,Beta,1" in render_csv(config, everything)
    assert "organisation" not in render_csv(config, acme).split("open_now")[1]
    with pytest.raises(OrganisationError):
        await build_report(service.db, config, start, end, organisation="Nowhere")

    shown = await run(agents, 'report 7 org "Acme Corp"')
    assert isinstance(shown, ReportView) and "Only the tickets of the organisation Acme Corp" in shown.text
    assert "New 2," in shown.text
    unfiltered = await run(agents, "report 7")
    assert isinstance(unfiltered, ReportView) and "New 5," in unfiltered.text
