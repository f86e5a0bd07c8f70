"""Bale delivers every update type (it ignores allowed_updates), some in shapes
python-telegram-bot cannot read: polling skips them and goes on; ended, it is reported down."""

from __future__ import annotations

import pytest

from tests.adapters.bale.conftest import BaleUser
from tests.adapters.telegram.conftest import Running
from tests.adapters.telegram.test_unreadable_updates import SECRET, reported_down_when_polling_ends, survives_unreadable


async def test_a_member_update_that_cannot_be_read_is_skipped_and_polling_goes_on(
        bale_bot: Running, caplog: pytest.LogCaptureFixture) -> None:
    # The customer blocked the bot: Bale's "kicked" carries no until_date, which python-telegram-bot requires.
    user = {"id": 900, "is_bot": False, "first_name": SECRET}
    bad = {"my_chat_member": {"chat": {"id": 900, "type": "private"}, "from": user, "date": 1,
                              "old_chat_member": {"status": "member", "user": user},
                              "new_chat_member": {"status": "kicked", "user": user}}}
    await survives_unreadable(bale_bot, BaleUser(bale_bot, 901), bad, caplog)


async def test_bale_polling_that_ended_is_reported_down(bale_bot: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    await reported_down_when_polling_ends(bale_bot, "bale", monkeypatch)
