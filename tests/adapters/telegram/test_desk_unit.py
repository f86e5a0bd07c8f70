"""The Telegram desk's pieces: topic names, the card's HTML and buttons, the topic's messages, and
TelegramDesk.deliver over a stand-in forum (the end-to-end tests use the fake Bot API)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select, update
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TimedOut

from adapters.telegram import desk_text
from adapters.telegram.card import (
    MENUS,
    STATUS_MARKS,
    Listed,
    card_forgotten,
    card_html,
    card_keyboard,
    card_part,
    digest,
    name_part,
    pack,
    topic_name,
    unpack,
)
from adapters.telegram.desk import TelegramDesk
from adapters.telegram.topics import CardGone, ForumCalls, TopicClosed, TopicGone
from core.agents.card import Card, Controls, EscalateControl, Field, Option
from core.delivery.contract import DeliveryError
from core.domain.config import HelpdeskConfig
from core.domain.model import NewAttachment, Status, Who
from core.i18n import translator
from core.services import Services
from core.storage.db import Database
from core.storage.desk import card_state, update_post
from core.storage.models import OutboxMessage
from tests.adapters.telegram.forum_stub import ForumStub
from tests.conftest import FakeClock

CHAT = "-1001234567890"
LIMIT = 4096


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Shown(HTMLParser):
    """What Telegram shows of an HTML message: its text, and the tags it used."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.tags: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


# -- names, cards, buttons ----------------------------------------------------------------

LONG_SUBJECTS = [
    "ورود به سامانه با خطای ۵۰۰ مواجه می‌شود و پس از چند بار تلاش حساب کاربری قفل می‌شود " * 3,
    "🔥🚨💥 " * 60,
    "Nelze se přihlásit\n\t do   systému " + "x" * 300,
    "a" * 127,
    "👨‍👩‍👧‍👦" * 40,
]


@pytest.mark.parametrize("subject", LONG_SUBJECTS)
@pytest.mark.parametrize("status", list(Status))
def test_topic_names_fit_telegrams_limit(subject: str, status: Status) -> None:
    name = topic_name(10**12, status, subject)
    assert 1 <= units(name) <= 128 and len(name) <= 128
    assert name.startswith(f"{STATUS_MARKS[status]} #{10**12} · ")
    assert "\n" not in name and "\t" not in name and "  " not in name
    if units(f"x #{10**12} · {subject}") > 128:
        assert name.endswith("…")


def test_a_short_subject_is_named_whole() -> None:
    assert topic_name(1042, "new", "Cannot log in") == "🆕 #1042 · Cannot log in"
    assert topic_name(1042, "closed", "Cannot log in") == "🔒 #1042 · Cannot log in"


def _card(subject: str = "Login <fails> & \"more\"", description: str = "<b>not bold</b> & <a href='x'>",
          attachments: tuple[str, ...] = ("a<b>.log",), number: int = 1042,
          priorities: tuple[Option, ...] = (Option("normal", "Normal"),), top: bool = False,
          closed: bool = False) -> Card:
    controls = Controls(
        "Claim", "Assign to…", "Status",
        (Option("new", "New"), Option("accepted", "In progress"), Option("waiting", "Waiting"),
         Option("resolved", "Resolved"), Option("closed", "Closed")),
        "Priority", priorities, priorities[0],
        None if top else EscalateControl("Escalate to L2", "Escalate?", f"Pass ticket #{number} to L2?",
                                         "Escalate", "Cancel"))
    fields = (Field("status", "Status", "New"), Field("customer", "Customer", "<Ali> · telegram · فارسی"))
    return Card(number, subject, f"#{number} · {subject}", fields, "Description", description, attachments,
                None if closed else controls)


def test_the_card_escapes_every_piece_of_text() -> None:
    markup = card_html(_card(), "Replies go to the customer; note: <stays> inside")
    shown = Shown(markup)
    assert set(shown.tags) <= {"b", "i"}
    assert "#1042 · Login <fails> & \"more\"" in shown.text
    assert "<b>not bold</b> & <a href='x'>" in shown.text
    assert "a<b>.log" in shown.text and "<Ali> · telegram · فارسی" in shown.text
    assert "note: <stays> inside" in shown.text


@pytest.mark.parametrize("description", ["&" * 5000, "🔥" * 5000, "ж" * 5000, "line\n" * 2000])
def test_the_card_fits_one_message_as_telegram_counts_it(description: str) -> None:
    many = tuple(f"{'<&>' * 80}-{i}.log" for i in range(60))
    markup = card_html(_card(subject="S" * 200, description=description, attachments=many), "hint " * 100)
    shown = Shown(markup)
    assert units(shown.text) <= LIMIT
    assert shown.text.count("…") >= 1  # cut, and said to be
    assert markup.count("<b>") == markup.count("</b>")  # cut before the markup, never inside it


def _buttons(markup: InlineKeyboardMarkup | None) -> list[tuple[str, str]]:
    assert markup is not None
    return [(b.text, str(b.callback_data)) for row in markup.inline_keyboard for b in row]


def test_every_button_of_every_menu_fits_callback_data() -> None:
    t = translator("fa")
    longest = tuple(Option(f"p{'x' * 31}{i}"[:32], "اولویت " * 20) for i in range(5))
    card = _card(number=10**15, priorities=longest)
    agents = [Listed(str(2**53 + i), "نام " * 40) for i in range(25)]
    seen = []
    for menu in (None, *MENUS):
        seen += _buttons(card_keyboard(t, card, menu, agents))
    assert len({data for _, data in seen}) >= 12
    for text, data in seen:
        assert 1 <= len(data.encode()) <= 64, data
        assert text
    assert card_keyboard(t, _card(closed=True)) is None
    assert not any("escalate" in data for _, data in _buttons(card_keyboard(t, _card(top=True))))


def test_the_digest_is_stable_and_tells_a_change() -> None:
    t = translator("en")
    one = card_html(_card(), "hint"), card_keyboard(t, _card())
    again = card_html(_card(), "hint"), card_keyboard(t, _card())
    assert digest(*one) == digest(*again) and card_part(*one) == card_part(*again)
    assert digest(card_html(_card(description="other"), "hint"), one[1]) != digest(*one)
    assert digest(one[0], card_keyboard(t, _card(), "status")) != digest(*one)
    assert digest(one[0], None) != digest(*one)
    stored = pack(card_part(*one), name_part("🆕 #1 · x"))
    assert len(stored) <= 64 and unpack(stored) == (card_part(*one), name_part("🆕 #1 · x"))
    assert unpack(None) == (None, None) and unpack(pack(None, name_part("n"))) == (None, name_part("n"))


# -- the topic's messages -----------------------------------------------------------------

@pytest.mark.parametrize("body", ["<&> " * 3000, "🔥" * 9000, "x" * 20000, "short"])
def test_a_long_message_is_split_and_every_part_escaped(body: str) -> None:
    parts = desk_text.block("Ali <ali@example.com> wrote:", body)
    shown = [Shown(p) for p in parts]
    assert all(units(s.text) <= LIMIT for s in shown)
    assert shown[0].text.startswith("Ali <ali@example.com> wrote:\n") and shown[0].tags == ["b"]
    rejoined = shown[0].text.split("\n", 1)[1] + "".join(s.text for s in shown[1:])
    assert rejoined.replace("\n", "") == body.replace("\n", "").strip() or rejoined.strip() == body.strip()


def test_markup_in_a_translated_sentence_survives_persian_isolation() -> None:
    t = translator("fa")
    line = desk_text.assigned(t, desk_text.mention("777", "Eva <E>"), desk_text.e("Bob & co"))
    assert '<a href="tg://user?id=777">Eva &lt;E&gt;</a>' in line
    assert "Bob &amp; co" in line
    assert desk_text.mention("U123", "<x>") == "&lt;x&gt;"  # not a Telegram user: named, not linked


def test_the_summary_of_a_remade_topic_fits_and_marks_notes() -> None:
    t = translator("en")
    recalled = [("Ali", "customer", "<script>" * 200), ("Eva", "note", "internal " * 300), ("Eva", "agent", "")]
    parts = desk_text.summary(t, recalled * 4)
    assert all(units(Shown(p).text) <= LIMIT for p in parts)
    text = "".join(Shown(p).text for p in parts)
    assert "🔒 Eva (internal note):" in text and "Ali wrote:" in text and "<script>" in text


# -- Telegram's answers -------------------------------------------------------------------

async def _raising(exc: Exception) -> None:
    raise exc


@pytest.mark.parametrize(("said", "kind"), [
    ("Bad Request: message thread not found", TopicGone),
    ("Bad Request: TOPIC_DELETED", TopicGone),
    ("Bad Request: TOPIC_ID_INVALID", TopicGone),
    ("Bad Request: TOPIC_CLOSED", TopicClosed),
    ("Bad Request: message to edit not found", CardGone),
])
async def test_answers_that_the_desk_mends(said: str, kind: type[Exception]) -> None:
    with pytest.raises(kind):
        await ForumCalls(None).call(CHAT, _raising(BadRequest(said)))  # type: ignore[arg-type]


async def test_answers_that_change_nothing_count_as_done() -> None:
    calls = ForumCalls(None)  # type: ignore[arg-type]
    assert await calls.call(CHAT, _raising(BadRequest("Bad Request: TOPIC_NOT_MODIFIED"))) is None
    assert await calls.call(CHAT, _raising(BadRequest(
        "Bad Request: message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"))) is None


async def test_a_bot_without_rights_is_told_once_what_to_fix(caplog: pytest.LogCaptureFixture) -> None:
    calls = ForumCalls(None)  # type: ignore[arg-type]
    for _ in range(3):
        with pytest.raises(DeliveryError) as failed:
            await calls.call(CHAT, _raising(BadRequest("Bad Request: not enough rights to create a topic")))
        assert failed.value.permanent and "give the bot the right to manage topics" in str(failed.value)
    assert sum("give the bot the right to manage topics" in r.getMessage() for r in caplog.records) == 1
    with pytest.raises(DeliveryError) as failed:
        await calls.call(CHAT, _raising(BadRequest("Bad Request: the chat is not a forum")))
    assert failed.value.permanent and "enable topics" in str(failed.value)
    with pytest.raises(DeliveryError) as failed:
        await calls.call(CHAT, _raising(Forbidden("Forbidden: bot was kicked from the supergroup chat")))
    assert failed.value.permanent


async def test_a_flood_wait_and_a_network_failure_are_retried() -> None:
    calls = ForumCalls(None)  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as failed:
        await calls.call(CHAT, _raising(RetryAfter(7)))
    assert failed.value.retry_after == 7 and not failed.value.permanent
    with pytest.raises(DeliveryError) as failed:
        await calls.call(CHAT, _raising(TimedOut()))
    assert failed.value.retry_after is None and not failed.value.permanent


# -- TelegramDesk.deliver over the stand-in forum -------------------------------------------

@dataclass
class World:
    service: Services
    forum: ForumStub
    desk: TelegramDesk
    tmp: Path

    @property
    def db(self) -> Database:
        return self.service.db

    async def drain(self) -> int:
        """Deliver the desk's rows in order, as the relay does; how many."""
        async with self.db.read() as session:
            rows = list((await session.execute(select(OutboxMessage).where(
                OutboxMessage.platform == "desk:telegram", OutboxMessage.status == "pending")
                .order_by(OutboxMessage.id))).scalars())
        for row in rows:
            assert row.ticket_id is not None and row.chat_id == CHAT
            await self.desk.deliver(row.event, row.params, row.ticket_id)
            async with self.db.write() as session:
                await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(status="sent"))
        return len(rows)

    def stored(self, name: str, content: bytes = b"log") -> NewAttachment:
        path = self.tmp / name
        path.write_bytes(content)
        return NewAttachment(name, "text/plain", len(content), "ab" * 32, str(path))

    async def ticket(self, subject: str = "Cannot log in", files: tuple[str, ...] = ()) -> int:
        customer = await self.service.customers.customer("telegram", "100", "100", "Ali <A>", "cs")
        ticket = await self.service.tickets.open_ticket(
            customer.id, department="technical", request_type="bug", subject=subject,
            description="Error 500 & <b>", attachments=[self.stored(f) for f in files])
        return ticket.id

    async def post(self, ticket_id: int):  # type: ignore[no-untyped-def]
        post = (await card_state(self.db, ticket_id, "telegram")).post
        assert post is not None
        return post


@pytest.fixture
def world(db: Database, config: HelpdeskConfig, clock: FakeClock, tmp_path: Path) -> World:
    service = Services.build(db, config, clock, desks={"telegram": CHAT})
    forum = ForumStub()
    desk = TelegramDesk(forum, db, config, default_chat=CHAT, locale="en", interval=0.0,  # type: ignore[arg-type]
                        clock=clock)
    return World(service, forum, desk, tmp_path)


async def test_a_new_ticket_gets_a_topic_its_card_and_its_files(world: World) -> None:
    ticket_id = await world.ticket(files=("screen.png", "log.txt"))
    assert await world.drain() == 1
    [thread] = world.forum.live_topics()
    assert world.forum.topics[thread].name == "🆕 #1001 · Cannot log in"
    card, *files = world.forum.in_topic(thread)
    assert card.markup is not None and "ag:claim:1001" in str(card.markup.to_dict())
    shown = Shown(card.text).text
    assert "#1001 · Cannot log in" in shown and "Error 500 & <b>" in shown and "Ali <A>" in shown
    assert "note:" in shown and "/note" in shown  # the hint under the card
    assert [f.document for f in files] == ["screen.png", "log.txt"]
    post = await world.post(ticket_id)
    assert (post.channel, post.ts, post.card) == (CHAT, str(thread), str(card.message_id))
    assert world.forum.calls == ["createForumTopic", "sendMessage", "sendDocument", "sendDocument"]


async def test_a_burst_of_changes_edits_the_card_once_and_renames_once(world: World) -> None:
    await world.ticket()
    await world.drain()
    agent = await world.service.desk.agent("telegram", "555", "Eva")
    await world.service.desk.assign(1001, agent.id, Who.agent(agent.id))  # and in progress
    await world.service.desk.set_priority(1001, "high", Who.agent(agent.id))
    await world.service.desk.change_status(1001, Status.WAITING, Who.agent(agent.id))
    world.forum.calls.clear()
    assert await world.drain() >= 4
    assert world.forum.calls.count("editMessageText") == 1
    assert world.forum.calls.count("editForumTopic") == 1
    [thread] = world.forum.live_topics()
    assert world.forum.topics[thread].name == "⏳ #1001 · Cannot log in"
    lines = [Shown(m.text).text for m in world.forum.in_topic(thread)[1:]]
    assert any("Eva is now handling this ticket" in line for line in lines)
    assert '<a href="tg://user?id=555">Eva</a>' in world.forum.in_topic(thread)[1].text
    assert any("changed the priority" in line for line in lines)
    assert any("changed the status" in line for line in lines)


async def test_a_retry_goes_on_where_the_failure_stopped(world: World) -> None:
    ticket_id = await world.ticket()
    await world.drain()
    customer_id = (await card_state(world.db, ticket_id, "telegram")).customer.id
    await world.service.tickets.add_customer_message(customer_id, 1001, "🔥" * 3000, [world.stored("more.txt")])
    sent = 0
    original = world.forum.send_message

    async def second_part_floods(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal sent
        sent += 1
        if sent == 2:
            raise RetryAfter(3)
        return await original(*args, **kwargs)

    world.forum.send_message = second_part_floods  # type: ignore[method-assign]
    with pytest.raises(DeliveryError) as failed:
        await world.drain()
    assert failed.value.retry_after == 3
    await world.drain()  # the same row again
    [thread] = world.forum.live_topics()
    parts = [m for m in world.forum.in_topic(thread)[1:] if m.document is None]
    assert len(parts) == 2 and Shown(parts[0].text).text.startswith("Ali <A> wrote:")
    assert [m.document for m in world.forum.in_topic(thread) if m.document] == ["more.txt"]


async def test_a_deleted_topic_is_made_anew_with_card_summary_and_the_message(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    ticket_id = await world.ticket(files=("log.txt",))
    await world.drain()
    customer_id = (await card_state(world.db, ticket_id, "telegram")).customer.id
    agent = await world.service.desk.agent("slack", "U1", "Eva")
    await world.service.desk.add_agent_message(agent.id, 1001, "Which browser?", via="slack")
    await world.drain()
    [old] = world.forum.live_topics()
    world.forum.delete_topic(old)
    await world.service.tickets.add_customer_message(customer_id, 1001, "Firefox 133")
    with caplog.at_level(logging.INFO, logger="adapters.telegram.desk"):
        await world.drain()
    [new] = world.forum.live_topics()
    assert new != old and len(world.forum.topics) == 2
    card, file, *rest = world.forum.in_topic(new)
    assert card.markup is not None and file.document == "log.txt"
    summary = Shown(rest[0].text).text
    assert "made anew" in summary and "Eva replied to the customer:" in summary and "Which browser?" in summary
    assert "Firefox 133" not in summary  # delivered next, in full
    assert Shown(rest[-1].text).text == "Ali <A> wrote:\nFirefox 133"
    post = await world.post(ticket_id)
    assert (post.ts, post.card) == (str(new), str(card.message_id))
    assert any("#1001" in r.getMessage() and "made anew" in r.getMessage() for r in caplog.records)
    assert not any("Firefox" in r.getMessage() for r in caplog.records)


async def test_a_card_deleted_alone_is_posted_again_in_its_topic(world: World) -> None:
    ticket_id = await world.ticket()
    await world.drain()
    [thread] = world.forum.live_topics()
    world.forum.in_topic(thread)[0].deleted = True
    agent = await world.service.desk.agent("telegram", "555", "Eva")
    await world.service.desk.set_priority(1001, "high", Who.agent(agent.id))
    await world.drain()
    assert world.forum.live_topics() == [thread]
    card = world.forum.in_topic(thread)[0]
    assert card.markup is not None and (await world.post(ticket_id)).card == str(card.message_id)


async def test_closing_closes_the_topic_and_reopening_opens_it(world: World) -> None:
    ticket_id = await world.ticket()
    await world.drain()
    agent = await world.service.desk.agent("telegram", "555", "Eva")
    await world.service.desk.change_status(1001, Status.CLOSED, Who.agent(agent.id))
    await world.drain()
    [thread] = world.forum.live_topics()
    topic = world.forum.topics[thread]
    assert topic.closed and topic.name.startswith("🔒 #1001")
    assert world.forum.in_topic(thread)[0].markup is None  # a closed ticket's card has no buttons
    assert (await world.post(ticket_id)).closed
    await world.desk.deliver("status_changed", {"number": 1001, "old": "resolved", "new": "closed"}, ticket_id)
    assert world.forum.calls.count("closeForumTopic") == 1  # a retry closes nothing twice
    customer_id = (await card_state(world.db, ticket_id, "telegram")).customer.id
    await world.service.tickets.change_status(1001, Status.ACCEPTED, Who.customer(customer_id))
    await world.drain()
    assert not topic.closed and topic.name.startswith("🔧 #1001") and not (await world.post(ticket_id)).closed
    assert world.forum.in_topic(thread)[0].markup is not None


async def test_a_closed_topic_that_refuses_a_line_is_opened_for_it_and_closed_again(world: World) -> None:
    ticket_id = await world.ticket()
    await world.drain()
    agent = await world.service.desk.agent("telegram", "555", "Eva")
    await world.service.desk.change_status(1001, Status.CLOSED, Who.agent(agent.id))
    await world.drain()
    world.forum.can_post_in_closed = False
    await world.desk.deliver("rated", {"number": 1001, "score": 5, "comment": "Thanks <3"}, ticket_id)
    [thread] = world.forum.live_topics()
    assert world.forum.topics[thread].closed
    assert Shown(world.forum.in_topic(thread)[-1].text).text == "The customer rated this ticket 5 of 5.\nThanks <3"


async def test_the_desks_own_replies_are_not_posted_again_and_notes_are_marked(world: World) -> None:
    ticket_id = await world.ticket()
    await world.drain()
    here = await world.service.desk.agent("telegram", "555", "Eva")
    there = await world.service.desk.agent("slack", "U1", "Bob")
    await world.service.desk.add_agent_message(here.id, 1001, "from the topic", via="telegram")
    await world.service.desk.add_agent_message(there.id, 1001, "proxy?", internal=True, via="slack")
    await world.drain()
    [thread] = world.forum.live_topics()
    texts = [Shown(m.text).text for m in world.forum.in_topic(thread)[1:]]
    assert not any("from the topic" in t for t in texts)
    assert "🔒 Bob (internal note):\nproxy?" in texts
    assert ticket_id


async def test_a_bot_without_rights_fails_for_good(world: World) -> None:
    await world.ticket()
    world.forum.fail["createForumTopic"] = [BadRequest("Bad Request: not enough rights to create a topic")]
    with pytest.raises(DeliveryError) as failed:
        await world.drain()
    assert failed.value.permanent and "manage topics" in str(failed.value)
    assert world.forum.live_topics() == []


async def test_a_card_whose_buttons_changed_in_place_is_drawn_again_without_a_rename(world: World) -> None:
    ticket_id = await world.ticket()
    await world.drain()
    [thread] = world.forum.live_topics()
    card = world.forum.in_topic(thread)[0]
    card.markup = None  # a menu shown in place of the card's buttons
    post = await world.post(ticket_id)
    await update_post(world.db, post, card_digest=card_forgotten(post.card_digest))
    world.forum.calls.clear()
    await world.desk.deliver("customer_unreachable", {"number": 1001, "platform": "telegram", "reason": "blocked"},
                             ticket_id)
    assert world.forum.calls == ["editMessageText", "sendMessage"]  # the card again, the line; no rename
    assert card.markup is not None and "ag:claim:1001" in str(card.markup.to_dict())
    world.forum.calls.clear()
    await world.desk.deliver("rated", {"number": 1001, "score": 4}, ticket_id)
    assert world.forum.calls == ["sendMessage"]  # nothing changed: the card is left as it is


async def test_a_message_taken_back_is_not_shown_and_its_withdrawal_is(world: World) -> None:
    ticket_id = await world.ticket()
    await world.drain()
    [thread] = world.forum.live_topics()
    shown = len(world.forum.in_topic(thread))
    await world.desk.deliver("customer_message", {"number": 1001, "message_id": 424242}, ticket_id)  # gone
    assert len(world.forum.in_topic(thread)) == shown
    await world.desk.deliver("message_withdrawn", {"number": 1001, "excerpt": "Wrong ticket", "moved_to": 1002},
                             ticket_id)
    assert Shown(world.forum.in_topic(thread)[-1].text).text == \
        "The customer moved their message to ticket #1002: “Wrong ticket”"
