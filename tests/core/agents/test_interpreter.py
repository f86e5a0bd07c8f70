"""The agents' interpreter: every action, every refusal, in the agent's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.agents import (
    AgentDesk,
    AgentIdentity,
    Done,
    Help,
    Offer,
    Refused,
    ReportView,
    Result,
    TicketList,
    TicketView,
    as_text,
    parse,
)
from core.agents.actions import Post
from core.delivery.attachments import MAX_BYTES, AttachmentStore, IncomingFile
from core.domain.config import HelpdeskConfig
from core.domain.model import MESSAGE_MAX, MessageKind, Status
from core.i18n import Translator, translator
from core.services import Services
from core.storage.models import Agent, Ticket

EVA = AgentIdentity("desk", "eva", "Eva", "en")
JANA = AgentIdentity("desk", "jana", "Jana", "cs")
DARIUSH = AgentIdentity("desk", "dariush", "Dariush", "fa")
OLAF = AgentIdentity("desk", "olaf", "Olaf", "en")  # reads the desk, is no agent


class People:
    """A desk's directory: who is an agent, and whom a reference (`@name`) names."""

    def __init__(self) -> None:
        self.everyone = {f"@{p.user_id}": p for p in (EVA, JANA, DARIUSH, OLAF)}

    async def is_agent(self, user_id: str) -> bool:
        return user_id != OLAF.user_id

    async def lookup(self, ref: str) -> AgentIdentity | None:
        return self.everyone.get(ref)


@pytest.fixture
def agents(service: Services, config: HelpdeskConfig, tmp_path: Path) -> AgentDesk:
    return AgentDesk(service, AttachmentStore(tmp_path / "files"))


async def _ticket(service: Services, subject: str = "Login fails") -> Ticket:
    customer = await service.customers.customer("chat", "100", "100", "Ali", "fa")
    return await service.tickets.open_ticket(customer.id, department="technical", request_type="bug", subject=subject,
                                     description="Since this morning the login page says 500.")


async def run(agents: AgentDesk, line: str, who: AgentIdentity = EVA) -> Result:
    return await agents.run(who, parse(line), People(), prefix="/agent ")


async def _agent_row(service: Services, who: AgentIdentity) -> Agent:
    return await service.desk.agent(who.platform, who.user_id)


async def test_claim(agents: AgentDesk, service: Services) -> None:
    ticket = await _ticket(service)
    assert await run(agents, f"claim {ticket.number}") == Done("You now handle ticket #1001.")
    after = await service.queries.get(ticket.number)
    assert after.status == Status.ACCEPTED and after.assignee_id == (await _agent_row(service, EVA)).id


async def test_assign(agents: AgentDesk, service: Services) -> None:
    await _ticket(service)
    assert await run(agents, "assign 1001 @jana") == Done("Jana now handles ticket #1001.")
    assert (await service.queries.get(1001)).assignee_id == (await _agent_row(service, JANA)).id
    assert await run(agents, "assign 1001 @olaf") == Refused("Olaf is not a help-desk agent.")
    assert await run(agents, "assign 1001 @nobody") == Refused("Nobody called “@nobody” was found.")
    assert await run(agents, "assign 1001") == Refused("Name the agent, for example: /agent assign 1042 @agent")
    assert (await service.queries.get(1001)).assignee_id == (await _agent_row(service, JANA)).id


async def test_status(agents: AgentDesk, service: Services) -> None:
    await _ticket(service)
    resolved = await run(agents, "status 1001 resolved")  # and the time spent is asked (test_timecard)
    assert isinstance(resolved, Offer) and resolved.done == "Ticket #1001 is now Resolved, awaiting confirmation."
    assert (await service.queries.get(1001)).status == Status.RESOLVED
    assert await run(agents, "status 1001 waiting") == Refused(
        "Ticket #1001 cannot go from “Resolved, awaiting confirmation” to “Waiting for the customer”.")
    refusal = Refused("Unknown status. Use new, accepted, waiting, resolved or closed.")
    assert await run(agents, "status 1001 done") == refusal
    assert await run(agents, "status 1001") == refusal
    assert (await service.queries.get(1001)).status == Status.RESOLVED


async def test_priority(agents: AgentDesk, service: Services) -> None:
    await _ticket(service)
    assert await run(agents, "priority 1001 urgent") == Done("Ticket #1001 now has the priority Urgent.")
    assert (await service.queries.get(1001)).priority == "urgent"
    assert await run(agents, "priority 1001 asap") == Refused(
        "There is no priority “asap”. Use one of: low, normal, high, urgent.")
    assert await run(agents, "priority 1001") == Refused("Give a priority, one of: low, normal, high, urgent.")
    assert (await service.queries.get(1001)).priority == "urgent"


async def test_escalate_up_to_the_top(agents: AgentDesk, service: Services) -> None:
    await _ticket(service)
    assert await run(agents, "escalate 1001 needs a DBA") == Done("Ticket #1001 is now at level L2.")
    assert await run(agents, "escalate 1001 checked: logs | reproduce: log in | told: we escalate") == Done(
        "Ticket #1001 is now at level L3. The specialists have your hand-over; the customer's contact stays the same.")
    assert await run(agents, "escalate 1001") == Refused("Ticket #1001 is already at L3.")
    assert (await service.queries.get(1001)).tier == 3


async def test_reply_and_note(agents: AgentDesk, service: Services) -> None:
    ticket = await _ticket(service)
    assert await run(agents, "reply 1001 Which browser?") == Done("Sent to the customer.")
    assert await run(agents, "note 1001 probably the proxy") == Done("Note saved.")
    thread = await service.queries.thread(ticket.id, internal=True)
    assert [(m.kind, m.body) for m in thread] == [(MessageKind.AGENT, "Which browser?"),
                                                   (MessageKind.NOTE, "probably the proxy")]
    assert (await service.queries.get(1001)).status == Status.WAITING
    assert await run(agents, "reply 1001") == Refused("An empty message cannot be sent.")
    assert await run(agents, f"reply 1001 {'x' * (MESSAGE_MAX + 1)}") == Refused(
        f"The message is too long: at most {MESSAGE_MAX} characters.")
    assert len(await service.queries.thread(ticket.id, internal=True)) == 2


async def _bytes(data: bytes) -> bytes:
    return data


async def test_files(agents: AgentDesk, service: Services, config: HelpdeskConfig) -> None:
    ticket = await _ticket(service)
    log = IncomingFile("app.log", 6, lambda: _bytes(b"error\n"))
    assert await agents.run(EVA, Post(1001, "The log", files=(log,)), People()) == Done("Sent to the customer.")
    assert [a.filename for a in await service.queries.attachments(ticket.id)] == ["app.log"]
    huge = IncomingFile("huge.bin", MAX_BYTES + 1, lambda: _bytes(b""))
    assert await agents.run(EVA, Post(1001, "Too big", files=(huge,)), People()) == Refused(
        "A file could not be taken (too large, empty, unreadable or of a type we do not accept).")
    no_files = AgentDesk(service)
    assert await no_files.run(EVA, Post(1001, "The log", files=(log,)), People()) == Refused(
        "Files cannot be sent from here.")
    assert len(await service.queries.thread(ticket.id)) == 1


async def test_queue_mine_show(agents: AgentDesk, service: Services) -> None:
    await _ticket(service)
    await _ticket(service, "Invoice missing")
    assert await run(agents, "mine") == TicketList("Your open tickets:", (), "No open tickets.")
    assert as_text(await run(agents, "mine")) == "No open tickets."
    await run(agents, "claim 1002")
    queue = await run(agents, "queue technical")
    assert isinstance(queue, TicketList) and queue.title == "Open tickets, longest-waiting first:"
    assert [(r.number, r.status, r.priority, r.department) for r in queue.rows] == [
        (1001, "New", "Normal", "Technical support"), (1002, "In progress", "Normal", "Technical support")]
    mine = await run(agents, "mine")
    assert isinstance(mine, TicketList) and [r.number for r in mine.rows] == [1002]
    assert as_text(mine) == "Your open tickets:\n#1002 Invoice missing — In progress, Normal, Technical support"
    assert await run(agents, "queue nowhere") == Refused("There is no department “nowhere”.")

    await run(agents, "note 1001 probably the proxy")
    shown = await run(agents, "show 1001")
    assert isinstance(shown, TicketView)
    assert (shown.number, shown.subject) == (1001, "Login fails")
    assert shown.summary == "New · Normal · Technical support · Bug report (non-critical) · L1"
    assert shown.opened.startswith("Opened: ")
    assert [(m.kind, m.body, m.internal) for m in shown.thread] == [("Internal note", "probably the proxy", True)]
    assert "[Internal note] probably the proxy" in as_text(shown)
    assert await run(agents, "show 9999") == Refused("There is no ticket #9999.")
    assert await run(agents, "claim 9999") == Refused("There is no ticket #9999.")


async def test_report(agents: AgentDesk, service: Services) -> None:
    await _ticket(service)
    report = await run(agents, "report 7")
    assert isinstance(report, ReportView) and "Open tickets now:" in report.text and "New 1" in report.text
    assert await run(agents, "report 0") == Refused("Give a number of days from 1 to 366, for example: /agent report 7")


async def test_help_unknown_and_incomplete(agents: AgentDesk) -> None:
    shown = await run(agents, "help")
    assert isinstance(shown, Help) and shown.intro == "Agent commands:"
    assert ("/agent claim 1042", "take a ticket") in shown.usage
    assert shown.footer == "Departments: technical, billing, sales, feedback"
    unknown = await run(agents, "dance")
    assert isinstance(unknown, Help) and unknown.intro == "Unknown agent command: dance"
    assert "/agent status 1042 STATUS" in as_text(unknown)
    assert await run(agents, "claim") == Refused("Give a ticket number, for example: /agent claim 1042")


@pytest.mark.parametrize("who", [EVA, JANA, DARIUSH])
async def test_an_unknown_command_is_named_and_the_commands_listed(agents: AgentDesk, who: AgentIdentity) -> None:
    t = translator(who.locale)
    shown = await run(agents, "frobnicate", who)
    assert isinstance(shown, Help)
    assert shown.intro == t._("Unknown agent command: {command}", command="frobnicate")
    assert ("/agent claim 1042", t._("take a ticket")) in shown.usage


async def test_each_wrong_arity_says_what_is_wrong(agents: AgentDesk) -> None:
    assert await run(agents, "claim soon") == Refused("“soon” is not a ticket number. For example: /agent claim 1042")
    assert await run(agents, "claim 1001 now") == Refused(
        "Unexpected words after the command: “now”. Usage: /agent claim 1042")
    assert await run(agents, "mine all") == Refused(
        "Unexpected words after the command: “all”. Usage: /agent mine")
    assert await run(agents, "status 1001 resolved now") == Refused(
        "Unexpected words after the command: “now”. Usage: /agent status 1042 STATUS")
    assert await run(agents, "report week") == Refused(
        "Give a number of days from 1 to 366, for example: /agent report 7")


async def test_outsiders_change_nothing(agents: AgentDesk, service: Services) -> None:
    await _ticket(service)
    for line in ("claim 1001", "status 1001 closed", "reply 1001 hello", "queue", "show 1001"):
        assert await run(agents, line, OLAF) == Refused("Only help-desk agents can do this."), line
    ticket = await service.queries.get(1001)
    assert ticket.status == Status.NEW and ticket.assignee_id is None
    assert not await service.queries.thread(ticket.id, internal=True)


def _wording(t: Translator) -> dict[str, str]:
    """What each line should answer, in `t`'s language."""
    return {
        "claim 1001": t._("You now handle ticket {ticket}.", ticket=t.ticket(1001)),
        "status 1001 new": t._("Ticket #{number} cannot go from “{old}” to “{new}”.", number=1001,
                                old=t._("In progress"), new=t._("New")),
        "escalate 1001": t._("Ticket {ticket} is now at level L{tier}.", ticket=t.ticket(1001), tier=2),
        "show 9999": t._("There is no ticket #{number}.", number=9999),
        "claim": t._("Give a ticket number, for example: {example}", example="/agent claim 1042"),
        "status 1001 done": t._("Unknown status. Use new, accepted, waiting, resolved or closed."),
        "priority 1001 asap": t._("There is no priority “{priority}”. Use one of: {codes}.", priority="asap",
                                   codes="low, normal, high, urgent"),
        "reply 1001": t._("An empty message cannot be sent."),
        "assign 1001 @olaf": t._("{name} is not a help-desk agent.", name="Olaf"),
    }


@pytest.mark.parametrize("who", [JANA, DARIUSH])
async def test_the_agent_reads_their_language(agents: AgentDesk, service: Services, who: AgentIdentity) -> None:
    t = translator(who.locale)
    await _ticket(service)
    english = _wording(translator("en"))
    for line, text in _wording(t).items():
        result = await run(agents, line, who)
        assert isinstance(result, Done | Refused) and result.text == text, line
        assert text != english[line], f"not translated into {who.locale}: {line}"
    mine = await run(agents, "mine", who)
    assert isinstance(mine, TicketList) and mine.title == t._("Your open tickets:") != "Your open tickets:"
    assert mine.rows[0].status == t._("In progress") != "In progress" and mine.rows[0].priority != "Normal"


async def test_czech_and_persian_wording_spot_checks(agents: AgentDesk, service: Services) -> None:
    await _ticket(service)
    assert await run(agents, "show 9999", JANA) == Refused("Tiket #9999 neexistuje.")
    assert await run(agents, "assign 1001 @olaf", JANA) == Refused("Olaf není agentem podpory.")
    fa = await run(agents, "assign 1001 @olaf", DARIUSH)
    assert isinstance(fa, Refused) and "کارشناس پشتیبانی نیست" in fa.text
    fa = await run(agents, "escalate 1001", DARIUSH)
    assert isinstance(fa, Done) and "L2" in fa.text and "تیکت" in fa.text
