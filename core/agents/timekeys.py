"""The actions of time on tickets, and the button keys of those made by pressing: the card's
Log time (`time:1042`, then `time:1042:ACTIVITY`), a quick duration (`tlog:1042:MINUTES` or
`tlog:1042:MINUTES:ACTIVITY`) and Skip (`tskip:1042`). core.agents.actions puts its prefix before
them and parses the typed `time` command."""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.domain.timelog import MAX_MINUTES

NO_ACTIVITY = "-"  # time logged under no activity (as typed: `time 1042 25m -`)
TIME_KINDS = frozenset({"time", "tlog", "tskip"})


@dataclass(frozen=True, slots=True)
class TimeLog:
    """`time 1042 25m [ACTIVITY|-] [note]` (op "log"), `time 1042` ("list"), `time fix ENTRY 40m`
    ("fix"), `time delete ENTRY` ("delete"). `number` is the ticket's, or the entry's for fix/delete.
    `offer`: for a quick duration pressed, the desk's key of the offer's message (see `pressed`),
    kept with the entry so that the offer logs its time once; never part of the button's key."""

    op: str
    number: int
    minutes: int = 0
    activity: str = ""
    note: str = ""
    offer: str = ""


@dataclass(frozen=True, slots=True)
class TimeMenu:
    """The card's "Log time": the activities to log under (`activity` None), then, one chosen
    (its code, or NO_ACTIVITY), the quick durations."""

    number: int
    activity: str | None = None


@dataclass(frozen=True, slots=True)
class TimeSkip:
    """"Skip" under the question of the time spent on a ticket just resolved: nothing is logged."""

    number: int


def time_button(kind: str, number: int, value: str = "") -> TimeLog | TimeMenu | TimeSkip | None:
    """The action of a pressed time button (its kind of TIME_KINDS, ticket and value)."""
    if kind == "time":
        return TimeMenu(number, value or None)
    if kind == "tskip":
        return TimeSkip(number)
    minutes, _, activity = value.partition(":")
    if kind != "tlog" or not (minutes.isascii() and minutes.isdigit()) or not 0 < int(minutes) <= MAX_MINUTES:
        return None
    return TimeLog("log", number, int(minutes), "" if activity == NO_ACTIVITY else activity)


def pressed(action: TimeLog, desk: str, message: str) -> TimeLog:
    """A quick duration pressed under the offer `message` (the desk's id of it, unique on the desk
    `desk`): it logs its time once, whichever process takes the press."""
    return replace(action, offer=f"{desk}:{message}") if action.op == "log" else action


def time_key(action: TimeLog | TimeMenu | TimeSkip) -> str:
    """The key of a time button, without the desk keys' prefix; a noted or listing TimeLog is no button."""
    match action:
        case TimeMenu(number, activity):
            return f"time:{number}" + (f":{activity}" if activity else "")
        case TimeLog("log", number, minutes, activity, ""):
            return f"tlog:{number}:{minutes}" + (f":{activity}" if activity else "")
        case TimeSkip(number):
            return f"tskip:{number}"
    raise ValueError(f"{action!r} is not a button")
