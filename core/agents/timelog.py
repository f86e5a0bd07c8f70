"""The agents' `time` command: time logged on a ticket, its entries and total, an entry
corrected or deleted by its author, in the agent's language. The interpreter runs it for every desk."""

from __future__ import annotations

from core.agents.actions import Incomplete, TimeLog
from core.agents.results import Details, Done, Refused, Result
from core.domain.config import HelpdeskConfig
from core.i18n import Translator
from core.services import Services
from core.services.timelog import TimeService

__all__ = ["activity_name", "run_time", "time_incomplete", "time_usage"]


def time_usage(t: Translator, prefix: str) -> tuple[tuple[str, str], ...]:
    return (
        (f"{prefix}time 1042 25m [ACTIVITY|-] [note]",
         t._("log time on a ticket (25m, 1h30, 1:30, or minutes: 90), under an activity, with a note")),
        (f"{prefix}time 1042", t._("the time logged on a ticket, entry by entry, and its total")),
        (f"{prefix}time fix ENTRY 40m", t._("correct the minutes of an entry of yours")),
        (f"{prefix}time delete ENTRY", t._("delete an entry of yours")),
    )


def activity_name(t: Translator, config: HelpdeskConfig, code: str) -> str:
    found = config.time.activity(code) if code else None
    return found.name.get(t.locale) if found else (code or "—")


def _hours(t: Translator, minutes: int) -> str:
    return t.duration(minutes / 60)


async def run_time(t: Translator, services: Services, agent_id: int, action: TimeLog) -> Result:
    """Carry out a `time` command; a DomainError (TimeError, TicketNotFound) is left to the caller."""
    config = services.config
    service = TimeService(services.db, config, services.clock, services.news)
    match action.op:
        case "log":
            entry = await service.log(agent_id, action.number, action.minutes, action.activity, action.note,
                                      action.offer)
            return Done(t._("Logged {duration} on ticket {ticket} (entry {entry}, {activity}).",
                            duration=_hours(t, entry.minutes), ticket=t.ticket(entry.number),
                            entry=t.number(entry.id), activity=activity_name(t, config, entry.activity)))
        case "fix":
            entry = await service.fix(agent_id, action.number, action.minutes)
            return Done(t._("Entry {entry} on ticket {ticket} is now {duration}.", entry=t.number(entry.id),
                            ticket=t.ticket(entry.number), duration=_hours(t, entry.minutes)))
        case "delete":
            number = await service.delete(agent_id, action.number)
            return Done(t._("Entry {entry} on ticket {ticket} deleted.", entry=t.number(action.number),
                            ticket=t.ticket(number)))
    entries = await service.entries(action.number)
    title = t._("Time on ticket {ticket}:", ticket=t.ticket(action.number))
    if not entries:
        return Details(title, (t._("No time logged yet."),))
    lines = [f"{t.number(e.id)} · {e.agent} · {_hours(t, e.minutes)} · {activity_name(t, config, e.activity)}"
             + (f" · {e.note}" if e.note else "") for e in entries]
    total = sum(e.minutes for e in entries)
    return Details(title, (*lines, t._("Total: {duration}", duration=_hours(t, total))))


def time_incomplete(t: Translator, prefix: str, action: Incomplete) -> Refused:
    """A `time` command that cannot be carried out as typed, said with how to type it."""
    match action.needs:
        case "duration" if action.given:
            return Refused(t._("“{given}” is not a duration. Write it as 25m, 1h30, 1:30 or in minutes (90).",
                               given=action.given))
        case "duration":
            return Refused(t._("Give the corrected time, for example: {example}", example=f"{prefix}time fix 12 40m"))
        case "entry":
            example = f"{prefix}{action.command} 12" + (" 40m" if action.command == "time fix" else "")
            if action.given:
                return Refused(t._("“{given}” is not an entry number. For example: {example}", given=action.given,
                                   example=example))
            return Refused(t._("Give the entry's number (shown by {listing}), for example: {example}",
                               listing=f"{prefix}time 1042", example=example))
        case "no_more":
            return Refused(t._("Unexpected words after the command: “{extra}”. Usage: {usage}", extra=action.given,
                               usage=next(u for u, _ in time_usage(t, prefix) if u.startswith(
                                   f"{prefix}{action.command} "))))
    if action.given:
        return Refused(t._("“{given}” is not a ticket number. For example: {example}", given=action.given,
                           example=f"{prefix}time 1042 25m"))
    return Refused(t._("Give a ticket number, for example: {example}", example=f"{prefix}time 1042 25m"))
