"""Time logged by pressing, in the agents' core: the keys of Log time, its activities and quick
durations, and the question of the time spent that resolving a ticket answers with (Skip: nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.agents import AgentDesk, Done, Offer, Refused, SetStatus, TimeLog, TimeMenu, TimeSkip, as_text, decode
from core.agents.actions import KEY_LIMIT, encode
from core.agents.card import ticket_card
from core.agents.timekeys import NO_ACTIVITY
from core.domain.config import HelpdeskConfig
from core.i18n import translator
from core.services import Services
from core.storage.desk import card_state
from tests.core.agents.desk import EVA, JANA, People
from tests.core.agents.test_timelog import _ticket


@pytest.mark.parametrize(("action", "key"), [
    (TimeMenu(1042), "ag:time:1042"),
    (TimeMenu(1042, "investigation"), "ag:time:1042:investigation"),
    (TimeMenu(1042, NO_ACTIVITY), "ag:time:1042:-"),
    (TimeLog("log", 1042, 90), "ag:tlog:1042:90"),
    (TimeLog("log", 1042, 90, "development"), "ag:tlog:1042:90:development"),
    (TimeSkip(1042), "ag:tskip:1042"),
    (TimeLog("log", 999999999, 1440, "a" * 32), f"ag:tlog:999999999:1440:{'a' * 32}"),
])
def test_time_keys_round_trip(action: object, key: str) -> None:
    assert encode(action) == key  # type: ignore[arg-type]
    assert len(key.encode()) <= KEY_LIMIT
    assert decode(key) == action


@pytest.mark.parametrize("key", ["ag:tlog:1042", "ag:tlog:1042:0", "ag:tlog:1042:1441", "ag:tlog:1042:x",
                                 "ag:tlog:1042:²", "ag:tlog:1042:-5"])
def test_time_keys_that_log_nothing(key: str) -> None:
    assert decode(key) is None


def test_a_noted_entry_or_a_listing_is_no_button() -> None:
    with pytest.raises(ValueError):
        encode(TimeLog("log", 1042, 25, "", "a note"))
    with pytest.raises(ValueError):
        encode(TimeLog("list", 1042))


async def test_log_time_offers_activities_then_durations(agents: AgentDesk, service: Services) -> None:
    n = (await _ticket(service)).number
    menu = await agents.run(EVA, TimeMenu(n), People(), prefix="/helpdesk ")
    assert isinstance(menu, Offer) and not menu.duration and menu.skip is None
    assert [p.label for row in menu.picks for p in row] == [
        "Investigation", "Communication with the customer", "Development", "No activity"]
    assert menu.picks[-1][0].action == TimeMenu(n, NO_ACTIVITY)
    assert f"/helpdesk time {n} 25m" in menu.hint
    czech = await agents.run(JANA, TimeMenu(n), People())
    assert isinstance(czech, Offer)
    assert [p.label for row in czech.picks for p in row][:3] == ["Analýza", "Komunikace se zákazníkem", "Vývoj"]

    durations = await agents.run(EVA, TimeMenu(n, "investigation"), People(), prefix="/helpdesk ")
    assert isinstance(durations, Offer) and durations.duration
    picks = [p for row in durations.picks for p in row]
    assert [p.label for p in picks][:6] == ["15 min", "30 min", "45 min", "1 hr", "1 hr 30 min", "2 hr"]
    assert picks[4].action == TimeLog("log", n, 90, "investigation")
    assert f"/helpdesk time {n} 2h15 investigation" in durations.hint
    none = await agents.run(EVA, TimeMenu(n, NO_ACTIVITY), People())
    assert isinstance(none, Offer) and [p.action for row in none.picks for p in row][0] == TimeLog("log", n, 15)

    done = await agents.run(EVA, picks[4].action, People())
    assert isinstance(done, Done) and done.text.startswith(f"Logged 1 hr 30 min on ticket #{n}")
    card = ticket_card(translator("en"), service.config, await card_state(service.db, (await _by(service, n)), "x"))
    assert ("Time logged", "1 hr 30 min") in [(f.label, f.value) for f in card.fields]
    assert card.controls is not None and card.controls.log_time == "Log time"


async def _by(service: Services, number: int) -> int:
    return (await service.queries.get(number)).id


async def test_an_activity_since_removed_or_a_ticket_not_there(agents: AgentDesk, service: Services) -> None:
    n = (await _ticket(service)).number
    assert isinstance(await agents.run(EVA, TimeMenu(n, "dancing"), People()), Refused)
    assert isinstance(await agents.run(EVA, TimeMenu(99999), People()), Refused)


async def test_resolving_asks_the_time_spent(agents: AgentDesk, service: Services, config: HelpdeskConfig) -> None:
    n = (await _ticket(service)).number
    await agents.run(EVA, SetStatus(n, "accepted"), People())
    asked = await agents.run(EVA, SetStatus(n, "resolved"), People(), prefix="/agent ")
    assert isinstance(asked, Offer) and asked.duration and asked.number == n
    assert asked.done == f"Ticket #{n} is now Resolved, awaiting confirmation."
    assert asked.question == f"Time spent on ticket #{n}?"
    assert asked.skip is not None and asked.picks[-1] == (asked.skip,) and asked.skip.label == "Skip"
    assert asked.picks[0][0].action == TimeLog("log", n, 15)
    assert as_text(asked).splitlines()[-1] == f"Another duration: /agent time {n} 2h15"

    skipped = await agents.run(EVA, asked.skip.action, People())
    assert skipped == Done(f"No time logged on ticket #{n}.")
    await agents.run(EVA, TimeLog("log", n, 20), People())
    assert isinstance(await agents.run(EVA, SetStatus(n, "accepted"), People()), Done)
    again = await agents.run(JANA, SetStatus(n, "resolved"), People())
    assert isinstance(again, Offer)
    assert "20" in again.question and again.skip is not None  # the total so far, in her language

    await agents.run(EVA, SetStatus(n, "accepted"), People())
    other = await agents.run(EVA, SetStatus(n, "waiting"), People())
    assert other == Done(f"Ticket #{n} is now Waiting for the customer.")  # any other status: no question


async def test_the_report_keeps_short_time_to_minutes(agents: AgentDesk, service: Services,
                                                      config: HelpdeskConfig) -> None:
    from core.agents.report import render_text
    from core.services.reports import build_report
    n = (await _ticket(service)).number
    start = service.clock()
    await agents.run(EVA, TimeLog("log", n, 20), People())
    report = await build_report(service.db, config, start - timedelta(days=1), start + timedelta(days=1))
    english = render_text(translator("en"), config, report)
    assert "Time logged: 20 min" in english and f"#{n} Login fails: 20 min" in english and "0.3" not in english
    persian = render_text(translator("fa"), config, report)
    assert "۲۰ دقیقه" in persian and "0.3" not in persian and "۰٫۳" not in persian
    czech = render_text(translator("cs"), config, report)
    assert "20 min" in czech and "0,3" not in czech
