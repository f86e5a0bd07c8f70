"""How the desk speaks to agents: statuses, priorities and domain errors in the agent's language.

One wording for every desk: a desk may lay a text out in its markup, never reword it.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.agents.organisations import org_usage
from core.agents.quotes import quote_refusal, quote_usage
from core.agents.timelog import time_usage
from core.domain.config import HelpdeskConfig
from core.domain.errors import DomainError
from core.domain.model import MessageKind, Status
from core.i18n import Translator

__all__ = ["agent_status", "department_name", "explain", "kind_name", "priority_name", "usage"]


def agent_status(t: Translator, status: str) -> str:
    """A status as agents call it (the customer-side names say "your reply")."""
    names = {
        Status.NEW: t._("New"),
        Status.ACCEPTED: t._("In progress"),
        Status.WAITING: t._("Waiting for the customer"),
        Status.RESOLVED: t._("Resolved, awaiting confirmation"),
        Status.CLOSED: t._("Closed"),
    }
    return names.get(Status(status), status)


def priority_name(t: Translator, config: HelpdeskConfig, code: str) -> str:
    found = config.priority(code)
    return found.name.get(t.locale) if found else code


def department_name(t: Translator, config: HelpdeskConfig, code: str) -> str:
    found = config.department(code)
    return found.name.get(t.locale) if found else code


def request_type_name(t: Translator, config: HelpdeskConfig, code: str) -> str:
    found = config.request_type(code)
    return found.name.get(t.locale) if found else code


def kind_name(t: Translator, kind: str) -> str:
    """Who wrote a line of a ticket's thread."""
    names = {
        MessageKind.CUSTOMER: t._("Customer"),
        MessageKind.AGENT: t._("Agent"),
        MessageKind.NOTE: t._("Internal note"),
        MessageKind.SYSTEM: t._("System"),
    }
    return names.get(MessageKind(kind), kind)


def explain(t: Translator, error: DomainError, priorities: Sequence[str] = ()) -> str:
    """A domain error as a sentence for an agent."""
    p = error.params
    match error.code:
        case "illegal_transition":
            return t._("Ticket #{number} cannot go from “{old}” to “{new}”.", number=p["number"],
                       old=agent_status(t, p["current"]), new=agent_status(t, p["target"]))
        case "ticket_not_found":
            return t._("There is no ticket #{number}.", number=p["number"])
        case "top_tier_reached":
            return t._("Ticket #{number} is already at L3.", number=p["number"])
        case "handover_required":
            return t._("Escalating ticket #{number} to L{tier} needs a hand-over: what was checked, how to "
                       "reproduce the problem and what the customer was told.", number=p["number"], tier=p["tier"])
        case "answer_for_contact":
            return t._("Ticket #{number} is at L3 and someone else is the customer's contact: write a note, or take "
                       "the ticket first.", number=p["number"])
        case "empty_field":
            return t._("An empty message cannot be sent.")
        case "field_too_long":
            return t._("The message is too long: at most {limit} characters.", limit=p["limit"])
        case "unknown_department":
            return t._("There is no department “{department}”.", department=p["department"])
        case "unknown_priority":
            return t._("There is no priority “{priority}”. Use one of: {codes}.", priority=p["priority"],
                       codes=", ".join(priorities))
        case "unknown_organisation":
            return t._("There is no organisation “{name}”.", name=p["name"])
        case "bad_organisation_name":
            return t._("An organisation's name has 1 to 100 characters.")
        case "organisation_exists":
            return t._("There is already an organisation “{name}”.", name=p["name"])
        case "bad_sharing":
            return t._("“{sharing}” is not a sharing mode. Use none, primary or everybody.", sharing=p["sharing"])
        case "bad_domain":
            return t._("“{domain}” is not a mail domain (like example.com).", domain=p["domain"])
        case "domain_taken":
            return t._("The domain {domain} already belongs to {organisation}.", domain=p["domain"],
                       organisation=p["organisation"])
        case "unknown_domain":
            return t._("{domain} is not one of this organisation's domains.", domain=p["domain"])
        case "bad_address":
            return t._("“{address}” is not a mail address.", address=p["address"])
        case "bad_role":
            return t._("“{role}” is not a role. Use member or primary.", role=p["role"])
        case "unknown_ticket":
            return t._("There is no ticket #{number}.", number=p["number"])
        case "unknown_member":
            return t._("{address} is not among the members added to this organisation.", address=p["address"])
        case "bad_minutes":
            return t._("Log from 1 minute to 24 hours at a time.")
        case "unknown_activity":
            return t._("There is no activity “{activity}”. Use one of: {codes}, or - for none.",
                       activity=p["activity"], codes=", ".join(p["codes"]))
        case "unknown_entry":
            return t._("There is no time entry {entry}.", entry=p["entry"])
        case "already_logged":
            return t._("That time is already logged on ticket {ticket}: a second press logs nothing more.",
                       ticket=t.ticket(p["number"]))
        case "not_author":
            return t._("Only {author}, who logged entry {entry}, can change or delete it.", author=p["author"],
                       entry=p["entry"])
        case str() as code if code.startswith("quote_") or code == "bad_approvers":
            return quote_refusal(t, error)
        case "file_too_large" | "file_type_not_allowed" | "empty_file" | "file_unavailable" | "too_many_files":
            return t._("A file could not be taken (too large, empty, unreadable or of a type we do not accept).")
        case _:
            return t._("That did not work.")


def usage(t: Translator, prefix: str) -> tuple[tuple[str, str], ...]:
    """Every agent command as typed on a desk whose commands start with `prefix`."""
    return (
        (f"{prefix}queue [department]", t._("open tickets, longest-waiting first")),
        (f"{prefix}mine", t._("your open tickets")),
        (f"{prefix}show 1042", t._("a ticket with its thread")),
        (f"{prefix}claim 1042", t._("take a ticket")),
        (f"{prefix}assign 1042 @agent", t._("give a ticket to another agent")),
        (f"{prefix}reply 1042 text", t._("answer the customer")),
        (f"{prefix}note 1042 text", t._("internal note, not shown to the customer")),
        (f"{prefix}status 1042 STATUS", t._("new, accepted, waiting, resolved or closed")),
        (f"{prefix}priority 1042 PRIORITY", t._("change the priority")),
        (f"{prefix}escalate 1042 [reason]", t._("pass to the next support level")),
        (f"{prefix}escalate 1042 checked: … | reproduce: … | told: …",
         t._("pass to L3 with the hand-over in one line (without it, you are asked for it)")),
        (f"{prefix}kb [1042] words", t._("search the help articles (in the ticket's customer's language)")),
        (f"{prefix}kb send 1042 article", t._("send a help article to the ticket's customer")),
        (f"{prefix}report [days]", t._("tickets, response times, SLA and satisfaction over the last days "
                                        "(30 unless given)")),
        (f'{prefix}report [days] org "NAME"', t._("the same for one organisation's tickets")),
        *time_usage(t, prefix),
        *quote_usage(t, prefix),
        *org_usage(t, prefix),
    )
