"""Organisations through the real Telegram stack against the fake Bot API: a member of an
`everybody` organisation lists a colleague's tickets by creator, and opens one read-only."""

from __future__ import annotations

from sqlalchemy import select

from core.storage.models import Customer
from tests.adapters.telegram.conftest import Running, TgUser


async def _named(bot: Running, user_id: int, name: str, language: str) -> TgUser:
    u = TgUser(bot, user_id, language)
    await u._processed(bot.api.user_message(user_id, "/start", language_code=language, first_name=name))
    return u


async def test_a_member_of_an_everybody_organisation_lists_a_colleagues_tickets_by_creator_in_telegram(
        bot: Running) -> None:
    services = bot.desk.services
    jana, petr = await _named(bot, 601, "Jana", "cs"), await _named(bot, 602, "Petr", "cs")
    await jana.intake("Faktura za listopad", "Faktura má špatnou částku.")
    await petr.intake("Nefunguje VPN", "Od rána se nepřipojím.")
    await petr.say("/new")
    await petr.press("dep:technical")
    await petr.press("rt:bug")
    await petr.say("Tiskárna netiskne")
    await petr.press("pri:low")
    await petr.say("Ve druhém patře.")
    await petr.press("att:done")
    await petr.press("rev:submit")
    # An agent makes both requesters members (the agents' side: `helpdesk-bot org ...`, the desks).
    await services.organisations.create("Firma", "everybody")
    for number in (1001, 1002):
        await services.organisations.add_requester("Firma", number)
    async with bot.desk.db.read() as s:
        petr_id = (await s.execute(select(Customer.id).where(Customer.platform_user_id == "602"))).scalar_one()

    listed = await jana.say("/tickets")
    assert "Tikety vaší organizace" in listed[-1]["text"]
    assert "#1002" in listed[-1]["text"] and "Petr" in listed[-1]["text"]
    assert {"list:all:mine", "list:all:everyone", "people:all"} <= set(jana.buttons())

    people = await jana.press("people:all")
    assert "Čí tikety" in people[-1]["text"]
    assert f"list:all:{petr_id}" in jana.buttons()
    by_petr = await jana.press(f"list:all:{petr_id}")
    assert "Petr" in by_petr[-1]["text"] and "#1001" not in by_petr[-1]["text"]
    assert {b for b in jana.buttons() if b.startswith("t:")} == {"t:1002", "t:1003"}
    await jana.press(f"list:open:{petr_id}")
    assert {b for b in jana.buttons() if b.startswith("t:")} == {"t:1002", "t:1003"}

    shown = await jana.press("t:1002")
    assert "Petr" in shown[-1]["text"] and "Nefunguje VPN" in shown[-1]["text"]
    assert jana.buttons() == ["list:all"]  # read-only: no Write, Withdraw, Confirm

    await petr.say("/tickets mine")  # typed words after /tickets that name no filter: all of them
    assert {"t:1001", "t:1002", "t:1003"} <= set(petr.buttons())
