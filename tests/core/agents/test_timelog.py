"""Time on tickets through the interpreter: the `time` command parsed, logged, listed, corrected
and deleted by its author only, each refusal in the agent's language, and the ticket's total."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.agents import AgentDesk, AgentIdentity, Details, Done, Refused, TimeLog, as_text, parse
from core.agents.actions import Incomplete
from core.agents.timekeys import pressed
from core.domain.config import HelpdeskConfig
from core.domain.timelog import TimeSettings, parse_duration
from core.services import Services
from core.services.timelog import TimeService, ticket_minutes
from core.storage.models import Ticket
from tests.conftest import FakeClock
from tests.core.agents.desk import EVA, JANA, People, run

DARIUSH = AgentIdentity("desk", "dariush", "Dariush", "fa")



async def _ticket(service: Services, user: str = "ana") -> Ticket:
    customer = await service.customers.customer("chat", user, user, f"User {user}", "en")
    return await service.tickets.open_ticket(customer.id, department="technical", request_type="bug",
                                             subject="Login fails", description="It fails.")


@pytest.mark.parametrize(("text", "minutes"), [
    ("25m", 25), ("25min", 25), ("90", 90), ("1h", 60), ("2H", 120), ("1h30", 90), ("1h30m", 90), ("1h05", 65),
    ("1:30", 90), ("0:45", 45), ("۲۵m", 25), ("١:٣٠", 90), ("0", 0), ("25h", 1500),
    ("abc", None), ("", None), ("1:75", None), ("1h60", None), ("-5", None), ("1.5h", None), ("m", None),
])
def test_durations(text: str, minutes: int | None) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(("line", "action"), [
    ("time 1042 25m", TimeLog("log", 1042, 25)),
    ("time #1042 1h30", TimeLog("log", 1042, 90)),
    ("time 1042 1:30", TimeLog("log", 1042, 90)),
    ("time 1042 90", TimeLog("log", 1042, 90)),
    ("TIME 1042 25m investigation checked the logs", TimeLog("log", 1042, 25, "investigation", "checked the logs")),
    ("time 1042 25m - a note only", TimeLog("log", 1042, 25, "", "a note only")),
    ("time 1042 25m development", TimeLog("log", 1042, 25, "development")),
    ("time 1042", TimeLog("list", 1042)),
    ("time fix 7 40m", TimeLog("fix", 7, 40)),
    ("time delete 7", TimeLog("delete", 7)),
    ("time", Incomplete("time", "number")),
    ("time abc", Incomplete("time", "number", "abc")),
    ("time 1042 soon", Incomplete("time", "duration", "soon")),
    ("time fix", Incomplete("time fix", "entry")),
    ("time fix x 40m", Incomplete("time fix", "entry", "x")),
    ("time fix 7", Incomplete("time fix", "duration")),
    ("time fix 7 lots", Incomplete("time fix", "duration", "lots")),
    ("time fix 7 40m more", Incomplete("time fix", "no_more", "more")),
    ("time delete", Incomplete("time delete", "entry")),
    ("time delete 7 8", Incomplete("time delete", "no_more", "8")),
])
def test_parse(line: str, action: object) -> None:
    assert parse(line) == action


def test_activities_from_the_configuration(config: HelpdeskConfig) -> None:
    assert [a.code for a in config.time.activities] == ["investigation", "communication", "development"]
    assert config.time.activity("Разработка") is config.time.activity("DEVELOPMENT") is not None
    own = TimeSettings.model_validate({"activities": ["meeting", {"code": "travel", "name": {"cs": "Cesta"}}]})
    assert own.activity("meeting") is not None and own.activity("cesta") is not None
    assert own.activity("investigation") is None
    from pydantic import ValidationError
    with pytest.raises(ValidationError, match="activity listed twice: meeting"):
        TimeSettings.model_validate({"activities": ["meeting", "travel", "meeting"]})


async def test_log_list_and_total(agents: AgentDesk, service: Services) -> None:
    ticket = await _ticket(service)
    n = ticket.number
    done = await run(agents, f"time {n} 25m investigation checked the logs")
    assert isinstance(done, Done)
    assert done.text == f"Logged 25 min on ticket #{n} (entry 1, Investigation)."
    assert isinstance(await run(agents, f"time {n} 1h30 Vývoj", JANA), Done)  # a name in any language
    assert isinstance(await run(agents, f"time {n} 1:05"), Done)
    listing = await run(agents, f"time {n}")
    assert isinstance(listing, Details)
    assert listing.lines == ("1 · Eva · 25 min · Investigation · checked the logs",
                             "2 · Jana · 1 hr 30 min · Development",
                             "3 · Eva · 1 hr 5 min · —",
                             "Total: 3 hr")
    assert await ticket_minutes(service.db, ticket.id) == 180
    czech = as_text(await run(agents, f"time {n}", JANA))
    assert "Vývoj" in czech and "Analýza" in czech


async def test_an_offer_logs_its_time_once(agents: AgentDesk, service: Services) -> None:
    """A quick duration pressed twice (a double tap, or the second press taken by another process
    or after a restart): the offer's key is kept with its entry, and the second press logs nothing."""
    n = (await _ticket(service)).number
    press = pressed(TimeLog("log", n, 45, "investigation"), "desk", "C1:1700000000.000100")
    assert press.offer == "desk:C1:1700000000.000100"
    assert isinstance(await agents.run(EVA, press, People()), Done)
    assert isinstance(await agents.run(JANA, press, People()), Refused)  # whoever presses it
    assert as_text(await agents.run(EVA, press, People())) == (
        f"That time is already logged on ticket #{n}: a second press logs nothing more.")
    # Another offer, or the same duration typed, logs again.
    assert isinstance(await agents.run(EVA, pressed(TimeLog("log", n, 45), "desk", "C1:1700000000.000200"),
                                       People()), Done)
    assert isinstance(await run(agents, f"time {n} 45m"), Done)
    assert [e.minutes for e in await TimeService(service.db, service.config, service.clock, service.news)
            .entries(n)] == [45, 45, 45]


async def test_an_offer_pressed_twice_at_once_logs_once(agents: AgentDesk, service: Services) -> None:
    """Both presses checked before either was written: the unique key refuses the second."""
    n = (await _ticket(service)).number
    press = pressed(TimeLog("log", n, 30), "desk", "C1:1700000000.000300")
    results = await asyncio.gather(*(agents.run(EVA, press, People()) for _ in range(3)))
    assert sorted(type(r).__name__ for r in results) == ["Done", "Refused", "Refused"]
    assert await ticket_minutes(service.db, (await service.queries.get(n)).id) == 30


async def test_an_agents_first_actions_at_once_make_one_agent(service: Services) -> None:
    """Two presses of a new agent at the same moment: one row, both actions go on with it."""
    found = await asyncio.gather(*(service.desk.agent("desk", "U-new", "New") for _ in range(4)))
    assert len({a.id for a in found}) == 1


async def test_nothing_logged_yet(agents: AgentDesk, service: Services) -> None:
    ticket = await _ticket(service)
    listing = await run(agents, f"time {ticket.number}")
    assert isinstance(listing, Details) and listing.lines == ("No time logged yet.",)


async def test_only_the_author_corrects_or_deletes(agents: AgentDesk, service: Services) -> None:
    ticket = await _ticket(service)
    await run(agents, f"time {ticket.number} 25m")
    refused = await run(agents, "time fix 1 40m", JANA)
    assert isinstance(refused, Refused)
    assert "Eva" in refused.text and "1" in refused.text
    assert isinstance(await run(agents, "time delete 1", JANA), Refused)
    assert await ticket_minutes(service.db, ticket.id) == 25  # untouched
    fixed = await run(agents, "time fix 1 40m")
    assert isinstance(fixed, Done) and fixed.text == f"Entry 1 on ticket #{ticket.number} is now 40 min."
    assert await ticket_minutes(service.db, ticket.id) == 40
    deleted = await run(agents, "time delete 1")
    assert isinstance(deleted, Done) and deleted.text == f"Entry 1 on ticket #{ticket.number} deleted."
    assert await ticket_minutes(service.db, ticket.id) == 0


@pytest.mark.parametrize(("line", "english"), [
    ("time {n} soon", "“soon” is not a duration. Write it as 25m, 1h30, 1:30 or in minutes (90)."),
    ("time {n} 0", "Log from 1 minute to 24 hours at a time."),
    ("time {n} 0m", "Log from 1 minute to 24 hours at a time."),
    ("time {n} 24h01", None),  # 24 h 1 min: over a day
    ("time {n} 25h", "Log from 1 minute to 24 hours at a time."),
    ("time {n} 25m dancing", "There is no activity “dancing”. Use one of: investigation, communication, "
                             "development, or - for none."),
    ("time 999999 25m", "There is no ticket #999999."),
    ("time 999999", "There is no ticket #999999."),
    ("time fix 999 40m", "There is no time entry 999."),
    ("time delete 999", "There is no time entry 999."),
    ("time fix 1 0", "Log from 1 minute to 24 hours at a time."),
    ("time fix 1 2000", "Log from 1 minute to 24 hours at a time."),
    ("time", "Give a ticket number, for example: /agent time 1042 25m"),
    ("time x", "“x” is not a ticket number. For example: /agent time 1042 25m"),
    ("time fix 1", "Give the corrected time, for example: /agent time fix 12 40m"),
    ("time delete", "Give the entry's number (shown by /agent time 1042), for example: /agent time delete 12"),
    ("time delete 1 2", "Unexpected words after the command: “2”. Usage: /agent time delete ENTRY"),
])
async def test_refusals(agents: AgentDesk, service: Services, line: str, english: str | None) -> None:
    ticket = await _ticket(service)
    await run(agents, f"time {ticket.number} 25m")
    refused = await run(agents, line.format(n=ticket.number))
    assert isinstance(refused, Refused), refused
    if english is not None:
        assert refused.text == english
    assert await ticket_minutes(service.db, ticket.id) == 25


async def test_refusals_in_the_agents_language(agents: AgentDesk, service: Services) -> None:
    """Each refusal has its own words, in the agent's language (Persian here) when translated."""
    ticket = await _ticket(service)
    await run(agents, f"time {ticket.number} 25m")
    lines = [f"time {ticket.number} soon", f"time {ticket.number} 0", f"time {ticket.number} 25m dancing",
             "time 999999 25m", "time fix 1 40m"]
    texts = [(await run(agents, line, DARIUSH)).text for line in lines]  # type: ignore[union-attr]
    assert len(set(texts)) == len(texts)
    english = [(await run(agents, line, JANA if "fix" in line else EVA)).text for line in lines]  # type: ignore[union-attr]
    assert len(set(english)) == len(english)


async def test_a_note_too_long_is_refused(agents: AgentDesk, service: Services) -> None:
    ticket = await _ticket(service)
    refused = await run(agents, f"time {ticket.number} 25m - " + "x" * 1001)
    assert isinstance(refused, Refused) and "1000" in refused.text


def test_help_lists_the_time_commands(agents: AgentDesk) -> None:
    from core.i18n import translator
    text = as_text(agents.help(translator("en"), "/agent "))
    assert "/agent time 1042 25m [ACTIVITY|-] [note]" in text and "/agent time fix ENTRY 40m" in text


async def test_the_card_shows_the_total_once_time_is_logged(agents: AgentDesk, service: Services,
                                                            config: HelpdeskConfig) -> None:
    from core.agents.card import ticket_card
    from core.i18n import translator
    from core.storage.desk import card_state
    ticket = await _ticket(service)
    before = ticket_card(translator("en"), config, await card_state(service.db, ticket.id, "desk"))
    assert "time" not in [f.key for f in before.fields]
    await run(agents, f"time {ticket.number} 1h30")
    await run(agents, f"time {ticket.number} 15m", JANA)
    card = ticket_card(translator("en"), config, await card_state(service.db, ticket.id, "desk"))
    assert [(f.label, f.value) for f in card.fields if f.key == "time"] == [("Time logged", "1 hr 45 min")]


async def test_report_figures(agents: AgentDesk, service: Services, config: HelpdeskConfig,
                              clock: FakeClock) -> None:
    from core.agents.report import render_csv, render_text
    from core.i18n import translator
    from core.services.reports import build_report
    one, two = await _ticket(service, "ana"), await _ticket(service, "bob")
    await service.organisations.create("Acme", "none")
    await service.organisations.add_requester("Acme", one.number, "member")
    async with service.db.write() as s:
        (await s.get_one(Ticket, two.id)).department = "billing"
    start = clock()
    await run(agents, f"time {one.number} 25m")
    await run(agents, f"time {one.number} 1h", JANA)
    await run(agents, f"time {two.number} 10m")
    clock.advance(days=2)
    await run(agents, f"time {two.number} 5h")  # after the period
    report = await build_report(service.db, config, start, start + timedelta(days=1))
    figures = report.time
    assert figures.total == 95
    assert figures.per_ticket == [(one.number, "Login fails", 85), (two.number, "Login fails", 10)]
    assert figures.per_agent == [("Jana", 60), ("Eva", 35)]
    assert figures.per_customer == [("User ana", 85), ("User bob", 10)]
    assert figures.per_organisation == [("Acme", 85)]
    assert figures.per_department == [("technical", 85), ("billing", 10)]
    text = render_text(translator("en"), config, report)
    assert "Time logged: 1 hr 35 min" in text
    assert f"    #{one.number} Login fails: 1 hr 25 min" in text and "    Jana: 1 hr" in text
    assert "    Acme: 1 hr 25 min" in text and "    Billing: 10 min" in text
    rows = render_csv(config, report).splitlines()
    assert "time_minutes,*,total,95" in rows and "time_minutes,billing,total,10" in rows
    assert f"time_minutes_per_ticket,*,#{one.number},85" in rows
    assert "time_minutes_per_agent,*,Jana,60" in rows and "time_minutes_per_organisation,*,Acme,85" in rows
    assert "time_minutes_per_customer,*,User bob,10" in rows
    only = await build_report(service.db, config, start, start + timedelta(days=1), organisation="acme")
    assert only.time.total == 85 and only.time.per_agent == [("Jana", 60), ("Eva", 25)]
    nothing = await build_report(service.db, config, start - timedelta(days=5), start)
    assert nothing.time.total == 0 and "Time logged: —" in render_text(translator("en"), config, nothing)


async def test_export_rows(agents: AgentDesk, service: Services, clock: FakeClock) -> None:
    from core.agents.report import time_csv
    from core.services.timelog import export_rows
    ticket = await _ticket(service)
    start = clock()
    await run(agents, f"time {ticket.number} 25m communication called, left a message")
    clock.advance(days=1)
    await run(agents, f"time {ticket.number} 1:30", JANA)
    rows = time_csv(await export_rows(service.db, start, start + timedelta(days=2))).splitlines()
    assert rows == ["date,agent,ticket,activity,minutes,note",
                    f'2026-11-16,Eva,{ticket.number},communication,25,"called, left a message"',
                    f"2026-11-17,Jana,{ticket.number},,90,"]
    assert len(await export_rows(service.db, start + timedelta(days=1), start + timedelta(days=2))) == 1
