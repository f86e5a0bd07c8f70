"""Every field is checked where it is entered, whatever path entered it, not at submit."""

from __future__ import annotations

from pathlib import Path

from core.delivery.attachments import MAX_FILES
from core.domain.config import HelpdeskConfig
from core.services import Services
from tests.core.chat.harness import Customer, make_conversation

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


async def test_a_long_first_message_is_refused_at_once_not_kept(service: Services, config: HelpdeskConfig,
                                                                 tmp_path: Path) -> None:
    c = Customer(make_conversation(service, config, tmp_path), "400", "pt")
    replies = await c.say("x" * 12_000)
    assert "12.000" in replies[0].text and "4.000" in replies[0].text  # grouped as in Portuguese
    assert "lang:pt" in c.keys()  # and still welcomed, with the language to choose
    await c.press("lang:pt")
    await c.press("dep:technical")
    await c.press("rt:bug")
    await c.say("Falha no login")
    await c.press("pri:high")
    assert any("4.000" in r.text for r in c.last)  # the description is asked for: nothing was kept


async def test_a_waiting_message_is_checked_as_each_part_comes(service: Services, config: HelpdeskConfig,
                                                               tmp_path: Path) -> None:
    c = Customer(make_conversation(service, config, tmp_path), "401", "en")
    await c.say("/start")
    await c.press("lang:en")
    await c.press("nav:cancel")
    await c.say("a" * 3000)  # no open ticket: kept until the customer says where it goes
    assert "pick:new" in c.keys()
    refused = await c.say("b" * 3000)
    assert "too long" in refused[0].text and "6,001" in refused[0].text
    await c.press_any("pick:new")
    await c.press("dep:technical")
    await c.press("rt:bug")
    await c.say("Login fails")
    await c.press("pri:high")
    await c.press("att:done")
    assert "a" * 3000 in c.text and "b" * 10 not in c.text  # the review shows what was accepted
    assert "#1001" in (await c.press("rev:submit"))[0].text


async def test_too_long_at_once_from_the_start(service: Services, config: HelpdeskConfig,
                                               tmp_path: Path) -> None:
    c = Customer(make_conversation(service, config, tmp_path), "402", "en")
    await c.say("/start")
    await c.press("lang:en")
    await c.press("nav:cancel")
    refused = await c.say("z" * 5000)
    assert "too long" in refused[0].text and "pick:new" not in c.keys()


async def test_files_waiting_for_a_ticket_are_counted_where_they_come(
        service: Services, config: HelpdeskConfig, tmp_path: Path) -> None:
    c = Customer(make_conversation(service, config, tmp_path), "403", "en")
    await c.say("/start")
    await c.press("lang:en")
    await c.press("nav:cancel")
    for i in range(MAX_FILES):
        await c.send_file(f"s{i}.png", PNG)
    fetches = c.fetches
    refused = await c.send_file("one_more.png", PNG)
    assert f"At most {MAX_FILES} files" in refused[0].text and c.fetches == fetches
