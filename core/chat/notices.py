"""What a queued notification says, rendered in the recipient's language when it is sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.chat import actions as act
from core.chat.articles import article_body, with_feedback
from core.chat.messages import Choice, Reply
from core.chat.quotes import notice as quote_notice
from core.chat.views import status_name
from core.delivery.outbox import SECRET_REPLY
from core.domain.model import Status
from core.i18n import LANGUAGE_NAMES, Translator


def render(t: Translator, event: str, params: dict[str, Any]) -> Reply:
    """The notification in the recipient's words, marked with its ticket (and as a person's own
    words when it is an agent's answer)."""
    reply = _render(t, event, params)
    if reply.ticket is None and params.get("number") is not None:
        reply = replace(reply, ticket=int(params["number"]))
    return replace(reply, personal=True) if event == "agent_reply" else reply


def _render(t: Translator, event: str, params: dict[str, Any]) -> Reply:
    n: Any = params.get("number")
    ticket = t.ticket(n) if n is not None else ""
    loc = t.locale
    if event in ("reply", SECRET_REPLY):  # a conversation reply its chat's flood limit held back: in its own words
        return Reply.from_json(params["reply"])
    if event == "status_changed":
        new = params["new"]
        if params.get("reason") == "auto_closed":
            return Reply(t.ngettext(
                "Ticket {ticket} has been closed automatically: it was marked as resolved and we have "
                "not heard from you for {n} day. If the problem is back, simply write to us.",
                "Ticket {ticket} has been closed automatically: it was marked as resolved and we have "
                "not heard from you for {n} days. If the problem is back, simply write to us.",
                int(params.get("days", 5)), ticket=ticket), locale=loc)
        if new == Status.RESOLVED:
            return Reply(
                t._("Our team has marked ticket {ticket} as resolved. Is your problem solved?",
                    ticket=ticket),
                ((Choice(act.Settle(n, solved=True).encode(), t._("Yes, it is solved")),
                  Choice(act.Settle(n, solved=False).encode(), t._("No, not solved"))),), loc)
        if new == Status.ACCEPTED and params.get("old") == Status.NEW:
            return Reply(t._("Good news: a specialist has taken ticket {ticket} and is working on it.",
                             ticket=ticket), locale=loc)
        return Reply(t._("Ticket {ticket} changed status: {old} → {new}.", ticket=ticket,
                         old=status_name(t, params["old"]), new=status_name(t, new)),
                     ((Choice(act.ShowTicket(n).encode(), t._("View the ticket")),),), loc)
    if event == "agent_reply":
        files = tuple((f["path"], f["name"]) for f in params.get("files", []))
        return Reply(
            t._("Reply from the support team on ticket {ticket}:", ticket=ticket) + "\n\n" + params["body"],
            ((Choice(act.WriteTo(n).encode(), t._("Answer")),
              Choice(act.ShowTicket(n).encode(), t._("View the ticket"))),), loc, files=files)
    if event == "article":  # sent by an agent: read here, with "Was this helpful?"
        lines = [t._("Our team sent you an article about ticket {ticket}:", ticket=ticket)]
        if params.get("fallback"):
            lines.append(t._("This article is not available in your language yet, so here it is in {language}.",
                             language=LANGUAGE_NAMES.get(params["locale"], params["locale"])))
        return with_feedback(t, "\n".join(lines) + "\n\n" + article_body(params["title"], params["text"]),
                             params["locale"], params["slug"], ticket=n)
    if event == "quote":
        return quote_notice(t, params)
    if event == "escalated" and params.get("handover"):
        text = t._("Ticket {ticket} has been passed to our specialist team (level {tier}), who will look into it "
                   "in depth. The agent who has been handling it remains your contact, and we will write to "
                   "you here about every step.", ticket=ticket, tier=t.number(params["tier"]))
        if params.get("due") and params.get("zone"):
            text += " " + t._("We aim to resolve it by {when}.", when=t.datetime(
                datetime.fromisoformat(params["due"]), ZoneInfo(params["zone"])))
        return Reply(text, ((Choice(act.ShowTicket(n).encode(), t._("View the ticket")),),), loc)
    if event == "escalated":
        return Reply(t._("Ticket {ticket} has been passed to our level {tier} specialists so that it "
                         "is solved as soon as possible.", ticket=ticket, tier=t.number(params["tier"])),
                     locale=loc)
    if event == "rating_request":
        stars = tuple(Choice(act.Rate(n, score).encode(), f"{t.number(score)} ★") for score in range(1, 6))
        # Asked right after the closing was said (the confirmation, the status notice): not again.
        return Reply(t._("How satisfied are you with our help on ticket {ticket}? "
                         "1 is the lowest, 5 the highest.", ticket=ticket), (stars,), loc)
    if event == "reminder":
        return Reply(t._("Ticket {ticket} is waiting for your reply. Please answer so that we can go on "
                         "with it.", ticket=ticket),
                     ((Choice(act.WriteTo(n).encode(), t._("Answer")),
                       Choice(act.ShowTicket(n).encode(), t._("View the ticket"))),), loc)
    if event == "draft_expired":
        hours = int(params.get("hours", 24))
        return Reply(t.ngettext(
            "Your unfinished ticket was discarded after {n} hour without activity. "
            "Start again with /new.",
            "Your unfinished ticket was discarded after {n} hours without activity. "
            "Start again with /new.", hours), locale=loc)
    raise ValueError(f"no rendering for notification {event!r}")
