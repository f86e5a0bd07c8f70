"""Time logged by pressing: the card's "Log time" (an activity, then a quick duration) and the
question of the time spent that follows resolving a ticket (a quick duration, or Skip). Each
answer is an action like a typed `time` command; the interpreter runs it for every desk."""

from __future__ import annotations

from core.agents.notices import button_inactive
from core.agents.results import Done, Offer, Pick, Refused, Result
from core.agents.timekeys import NO_ACTIVITY, TimeLog, TimeMenu, TimeSkip
from core.agents.timelog import activity_name
from core.i18n import Translator
from core.services import Services
from core.services.timelog import TimeService

__all__ = ["QUICK_MINUTES", "resolved_offer", "skip_time", "time_menu"]

QUICK_MINUTES = (15, 30, 45, 60, 90, 120, 180, 240)
ROW = 4  # quick durations side by side
MOST_ACTIVITIES = 20  # buttons a desk shows in one message, with room for "No activity"


def _service(services: Services) -> TimeService:
    return TimeService(services.db, services.config, services.clock, services.news)


def _durations(t: Translator, number: int, activity: str) -> tuple[tuple[Pick, ...], ...]:
    picks = [Pick(t.duration(m / 60), TimeLog("log", number, m, activity)) for m in QUICK_MINUTES]
    return tuple(tuple(picks[i:i + ROW]) for i in range(0, len(picks), ROW))


async def time_menu(t: Translator, services: Services, action: TimeMenu, prefix: str) -> Result:
    """The activities to log time under, or (one chosen) the quick durations."""
    config, number = services.config, action.number
    await services.queries.get(number)  # TicketNotFound for a ticket that is not there
    if action.activity is None:
        picks = [Pick(a.name.get(t.locale), TimeMenu(number, a.code))
                 for a in config.time.activities[:MOST_ACTIVITIES]]
        picks.append(Pick(t._("No activity"), TimeMenu(number, NO_ACTIVITY)))
        return Offer("", t._("Log time on ticket {ticket}: which activity?", ticket=t.ticket(number)),
                     tuple((p,) for p in picks),
                     t._("Or type the command: {example}", example=f"{prefix}time {number} 25m"), number)
    code = "" if action.activity == NO_ACTIVITY else action.activity
    if code and config.time.activity(code) is None:  # a menu of activities since changed
        return Refused(button_inactive(t))
    return Offer("", t._("Log time on ticket {ticket} ({activity}): how long?", ticket=t.ticket(number),
                         activity=activity_name(t, config, code) if code else t._("no activity")),
                 _durations(t, number, code),
                 t._("Another duration: {example}",
                     example=f"{prefix}time {number} 2h15" + (f" {code}" if code else "")),
                 number, duration=True)


async def resolved_offer(t: Translator, services: Services, number: int, done: str, prefix: str) -> Offer:
    """What resolving a ticket answers: it is done, and how much time did it take (Skip: none)."""
    total = await _service(services).total(number)
    if total:
        question = t._("Time spent on ticket {ticket}? {duration} logged so far.", ticket=t.ticket(number),
                       duration=t.duration(total / 60))
    else:
        question = t._("Time spent on ticket {ticket}?", ticket=t.ticket(number))
    skip = Pick(t._("Skip"), TimeSkip(number))
    return Offer(done, question, (*_durations(t, number, ""), (skip,)),
                 t._("Another duration: {example}", example=f"{prefix}time {number} 2h15"), number,
                 duration=True, skip=skip)


def skip_time(t: Translator, action: TimeSkip) -> Done:
    return Done(t._("No time logged on ticket {ticket}.", ticket=t.ticket(action.number)))

