"""What the desk is told about a ticket's changes, and news of no ticket, in the desk's language.

Plain text: a desk escapes it for its markup and adds its own pings (a mention of the assignee,
a supervisor group); values that carry such markup are passed in already rendered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.agents.wording import agent_status, priority_name
from core.domain.config import HelpdeskConfig
from core.i18n import Translator


def actor_name(t: Translator, actor: str | None, name: str | None) -> str:
    """Who did something: an agent's name, the customer, the system, or "someone"."""
    if actor == "system":
        return t._("The system")
    if actor == "customer":
        return t._("The customer")
    return name or t._("Someone")


def agent_message_head(t: Translator, who: str, internal: bool) -> str:
    return t._("{who} (internal note):", who=who) if internal else t._("{who} replied to the customer:", who=who)


def customer_message_head(t: Translator, name: str | None) -> str:
    return t._("{who} wrote:", who=name or t._("The customer"))


def withdrawn(t: Translator, excerpt: str, moved_to: int | None) -> str:
    """The customer took back a message the desk was shown, or moved it to another ticket."""
    if moved_to is not None:
        return t._("The customer moved their message to ticket {ticket}: “{excerpt}”", ticket=t.ticket(moved_to),
                   excerpt=excerpt)
    return t._("The customer took back their message: “{excerpt}”", excerpt=excerpt)


def status_changed(t: Translator, who: str, old: str, new: str) -> str:
    return t._("{who} changed the status: {old} → {new}", who=who, old=agent_status(t, old),
               new=agent_status(t, new))


def priority_changed(t: Translator, config: HelpdeskConfig, who: str, old: str, new: str) -> str:
    return t._("{who} changed the priority: {old} → {new}", who=who, old=priority_name(t, config, old),
               new=priority_name(t, config, new))


def escalated(t: Translator, who: str, tier: int) -> str:
    return t._("{who} escalated the ticket to L{tier}.", who=who, tier=tier)


def escalation_reason(t: Translator, reason: str) -> str:
    """The reason of an escalation: the system's own reasons named, an agent's quoted as written."""
    reasons = {
        "first_response_overdue": t._("The first response is overdue."),
        "resolution_overdue": t._("The resolution is overdue."),
        "customer_request": t._("The customer asked for it: the first response is overdue."),
    }
    return reasons.get(reason, reason)


# The system's lines in a ticket's thread are stored in English (core.services.steps); said here in the reader's.
_ESCALATED = re.compile(r"escalated to L(\d)( with a hand-over)?(?:: (.*))?\Z", re.S)


def system_line(t: Translator, body: str) -> str:
    """A system line of a ticket's thread in the agent's language (as stored when it is not one we know)."""
    found = _ESCALATED.match(body)
    if found is None:
        return body
    tier = int(found[1])
    text = t._("Escalated to L{tier} with a hand-over.", tier=tier) if found[2] else \
        t._("Escalated to L{tier}.", tier=tier)
    return f"{text} {escalation_reason(t, found[3])}" if found[3] else text


def sla(t: Translator, event: str, first_response: bool, when: str) -> str:
    """A deadline coming (sla_warning) or missed (sla_breach)."""
    if event == "sla_warning":
        return t._("⏰ The first response to this ticket is due {when}.", when=when) if first_response else \
            t._("⏰ The resolution of this ticket is due {when}.", when=when)
    return t._("The first-response deadline of this ticket was missed.") if first_response else \
        t._("The resolution deadline of this ticket was missed.")


def rated(t: Translator, score: int) -> str:
    return t._("The customer rated this ticket {score} of 5.", score=t.number(score))


def unreachable(t: Translator, platform: str, reason: str) -> str:
    return t._("The customer cannot be reached on {platform} any more ({reason}); "
               "notifications to them are kept as dead letters.", platform=platform, reason=reason)


def set_aside(t: Translator, place: str, reason: str, sender: str, subject: str) -> str:
    """An incoming message the bot could not handle; `place` is where it was put, as the channel
    names it."""
    return t._("⚠️ An incoming message could not be handled ({reason}) and was set aside in {place}. "
               "From: {sender}. Subject: {subject}", reason=reason, place=place, sender=sender or "—",
               subject=subject or "—")


def ticketless(t: Translator, event: str, params: Mapping[str, Any]) -> str | None:
    """The text of desk news that belongs to no ticket; None for an event it does not know."""
    if event == "set_aside":
        return set_aside(t, params["place"], params["reason"], params.get("sender", ""), params.get("subject", ""))
    return None


def assigned(t: Translator, assignee: str, who: str | None) -> str:
    """`who` is None when the assignee took the ticket themselves."""
    if who is None:
        return t._("{assignee} is now handling this ticket.", assignee=assignee)
    return t._("{assignee} is now handling this ticket (assigned by {who}).", assignee=assignee, who=who)


def assigned_to_you(t: Translator, number: int, subject: str) -> str:
    return t._("You have been assigned ticket #{number}: {subject}", number=number, subject=subject)


def only_agents_answer(t: Translator) -> str:
    return t._("Only help-desk agents can answer customers; your message was not sent.")


def button_inactive(t: Translator) -> str:
    """A desk button that decodes to no action: from an older version of the card, or forged."""
    return t._("This button is no longer active.")


def handed_over(t: Translator, number: int, subject: str, who: str, tier: int) -> str:
    """The line the top level's place (a channel, a group) gets with a ticket's hand-over."""
    return t._("Ticket #{number} · {subject} is now at L{tier}, handed over by {who}:", number=number,
               subject=subject, who=who, tier=tier)


def for_contact(t: Translator, who: str, contact: str) -> str:
    """Another agent's answer on a ticket at L3, kept for its contact (`contact` may be a mention)."""
    return t._("{who} answered {contact} (an internal note: the customer has not seen it):", who=who,
               contact=contact)
