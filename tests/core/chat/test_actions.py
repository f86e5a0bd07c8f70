"""Button keys: encoded exactly as the buttons already in customers' chats carry them, decoded
back to the same action, and short enough for Telegram's callback data."""

from __future__ import annotations

from zoneinfo import available_timezones

import pytest

from core.chat import actions as act
from core.chat.form import FORM
from core.chat.notices import render
from core.domain.config import load_config
from core.domain.model import Status, TicketFilter
from core.i18n import translator
from core.knowledge.articles import SLUG_MAX

BIGGEST = 999_999_999_999  # the longest number textnorm.ticket_number reads (12 digits)

# Every key as it was written before the actions existed: these strings are in chats already.
SENT_BEFORE = {
    "lang:fa": act.SetLanguage("fa"),
    "nav:cancel": act.Cancel(),
    "nav:back": act.Back(),
    "new": act.NewTicket(),
    "resume:restart": act.Resume(restart=True),
    "resume:continue": act.Resume(restart=False),
    "list:all": act.ListTickets(TicketFilter.ALL),
    "list:open": act.ListTickets(TicketFilter.OPEN),
    "list:done": act.ListTickets(TicketFilter.DONE),
    "t:1042": act.ShowTicket(1042),
    "reply:1042": act.WriteTo(1042),
    "confirm:1042": act.Settle(1042, solved=True),
    "dispute:1042": act.Settle(1042, solved=False),
    "escalate:1042": act.Escalate(1042),
    "rate:1042:5": act.Rate(1042, 5),
    "rate_done": act.RateDone(),
    "withdraw:1042": act.Withdraw(1042),
    "withdraw_yes:1042": act.WithdrawYes(1042),
    "withdraw_no": act.WithdrawNo(),
    "pick:1042": act.PickTicket(1042),
    "pick:new": act.PickTicket(None),
    "link:1042": act.LinkTicket(1042),
    "dup:add:1042": act.AddToDuplicate(1042),
    "dup:add": act.AddToDuplicate(None),
    "dup:new": act.NewDespiteDuplicate(),
    "dep:technical": act.Answer("dep", "technical"),
    "rt:bug": act.Answer("rt", "bug"),
    "pri:urgent": act.Answer("pri", "urgent"),
    "att:done": act.FilesDone(),
    "rev:submit": act.Submit(),
    "rev:edit:request_type": act.Edit("request_type"),
    "added:undo:77": act.UndoAdded(77),
    "added:move:77": act.MoveAdded(77),
    "added:to:77:1042": act.MoveAddedTo(77, 1042),
    "added:to:77:new": act.MoveAddedTo(77, None),
    # The knowledge base's articles (core.chat.deflection, core.chat.selfhelp).
    "kb:open:reset-password": act.ArticleOpen("reset-password"),
    "kb:read:reset-password": act.ArticleOpen("reset-password", offered=False),
    "kb:solved:reset-password": act.ArticleSolved("reset-password"),
    "kb:continue": act.ArticleContinue(),
    "kb:yes:fa:reset-password": act.ArticleHelpful("fa", "reset-password", True),
    "kb:no:cs:reset-password": act.ArticleHelpful("cs", "reset-password", False),
    "kb:nocomment": act.ArticleNoComment(),
}


@pytest.mark.parametrize("key", SENT_BEFORE)
def test_keys_already_sent_keep_their_meaning_and_their_bytes(key: str) -> None:
    assert act.decode(key) == SENT_BEFORE[key]
    assert SENT_BEFORE[key].encode() == key


def test_numbers_are_read_as_customers_type_them() -> None:
    assert act.decode("t:#1042") == act.ShowTicket(1042)
    assert act.decode("confirm:۱۰۴۲") == act.Settle(1042, solved=True)


@pytest.mark.parametrize("key", ["", "x" * 64, "t:", "t:abc", "reply:10x", "rate:1042", "rate:x:5", "list:mine",
                                 "rev:nothing", "rev:edit:", "dup:add:x", "pick:", "DEP:technical", "nav",
                                 "withdraw_yes:", ":technical", "added:undo:", "added:undo:7:1", "added:to:7",
                                 "added:to:x:1", "added:to:7:x", "added:keep:7", "kb:open:" + "a" * 41,
                                 "kb:yes:reset-password", "kb:open:Reset"])
def test_keys_that_are_none_of_ours(key: str) -> None:
    assert act.decode(key) is None


def test_every_key_fits_telegram_callback_data() -> None:
    config = load_config()
    longest_code = "a" * 32  # the configuration's code pattern allows 32 characters
    keys = [a.encode() for a in SENT_BEFORE.values()]
    keys += [act.ShowTicket(BIGGEST).encode(), act.WriteTo(BIGGEST).encode(), act.Escalate(BIGGEST).encode(),
             act.Settle(BIGGEST, solved=False).encode(), act.Rate(BIGGEST, 5).encode(),
             act.Withdraw(BIGGEST).encode(), act.WithdrawYes(BIGGEST).encode(), act.PickTicket(BIGGEST).encode(),
             act.LinkTicket(BIGGEST).encode(), act.AddToDuplicate(BIGGEST).encode(),
             act.UndoAdded(BIGGEST).encode(), act.MoveAdded(BIGGEST).encode(),
             act.MoveAddedTo(BIGGEST, BIGGEST).encode()]
    keys += [act.SetLanguage(code).encode() for code in ("en", "fa", "cs", "ru", "pt")]
    slug = "a" * SLUG_MAX
    keys += [act.ArticleOpen(slug).encode(), act.ArticleOpen(slug, False).encode(), act.ArticleSolved(slug).encode(),
             *(act.ArticleHelpful(code, slug, yes).encode() for code in ("en", "fa", "cs", "ru", "pt")
               for yes in (True, False))]
    keys += [act.Edit(step.key).encode() for step in FORM]
    for step in FORM:
        tag = getattr(step.ask, "tag", None)
        if tag is not None:
            keys.append(act.Answer(tag, longest_code).encode())
            keys += [act.Answer(tag, o.code).encode() for o in step.ask.options(config, {})]  # type: ignore[union-attr]
    too_long = [k for k in keys if not 1 <= len(k.encode()) <= act.KEY_MAX_BYTES]
    assert too_long == []
    assert act.KEY_MAX_BYTES == 64


def test_notification_buttons_decode_to_what_they_encode() -> None:
    t = translator("en")
    events = [("status_changed", {"number": 1042, "new": Status.RESOLVED, "old": Status.ACCEPTED}),
              ("status_changed", {"number": 1042, "new": Status.WAITING, "old": Status.ACCEPTED}),
              ("agent_reply", {"number": 1042, "body": "Hello"}),
              ("rating_request", {"number": 1042}), ("reminder", {"number": 1042})]
    keys = [c.key for event, params in events for c in render(t, event, params).flat_choices]
    assert "rate:1042:1" in keys and "confirm:1042" in keys and "reply:1042" in keys and "t:1042" in keys
    for key in keys:
        action = act.decode(key)
        assert action is not None and action.encode() == key, key


def test_commands_that_name_a_ticket_are_its_buttons() -> None:
    assert act.numbered_command("confirm", 7) == act.Settle(7, solved=True)
    assert act.numbered_command("notsolved", 7) == act.Settle(7, solved=False)
    assert act.numbered_command("withdraw", 7) == act.Withdraw(7)
    assert act.numbered_command("escalate", 7) == act.Escalate(7)
    assert act.numbered_command("tickets", 7) is None
    assert set(act.NUMBERED_COMMANDS) == {"confirm", "notsolved", "withdraw", "escalate"}


def test_time_zone_keys() -> None:
    assert act.decode("tz:America/Argentina/Buenos_Aires") == act.SetZone("America/Argentina/Buenos_Aires")
    assert act.decode("tz:") is None
    longest = max(available_timezones(), key=len)
    assert len(act.SetZone(longest).encode().encode()) <= act.KEY_MAX_BYTES


ORGANISATION_KEYS = {
    "list:open:mine": act.ListTickets(TicketFilter.OPEN, act.MINE),
    "list:all:everyone": act.ListTickets(TicketFilter.ALL, act.EVERYONE),
    "list:done:42": act.ListTickets(TicketFilter.DONE, 42),
    "people:open": act.ListCreators(TicketFilter.OPEN),
    "org:code": act.SendCode(),
    "org:other": act.OtherAddress(),
    "org:forget": act.ForgetAddress(),
}


@pytest.mark.parametrize("key", ORGANISATION_KEYS)
def test_the_organisations_keys_round_trip(key: str) -> None:
    assert act.decode(key) == ORGANISATION_KEYS[key]
    assert ORGANISATION_KEYS[key].encode() == key


@pytest.mark.parametrize("key", ["list:all:", "list:all:someone", "list:all:#42", "list:all:۴۲", "list:x:mine",
                                 "list:all:1234567890123", "people:", "people:mine", "org:", "org:codes",
                                 "org:x"])
def test_organisation_keys_that_are_none_of_ours(key: str) -> None:
    assert act.decode(key) is None


def test_the_organisations_keys_fit_telegram_callback_data() -> None:
    keys = [act.ListTickets(view, by).encode() for view in TicketFilter for by in (act.MINE, act.EVERYONE, BIGGEST)]
    keys += [a.encode() for a in ORGANISATION_KEYS.values()]
    assert max(len(k.encode()) for k in keys) <= act.KEY_MAX_BYTES
