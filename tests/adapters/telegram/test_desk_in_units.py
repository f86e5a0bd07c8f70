"""The Telegram desk's inbound pieces on their own: commands with @botname, notes, results as
HTML, the agent directory (its cache and its refusals), the desk groups' settings, start-up checks."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from telegram import User
from telegram.error import BadRequest

from adapters.telegram.agents import MEMBER_SECONDS, REFUSAL_SECONDS, AgentDirectory
from adapters.telegram.card import Listed
from adapters.telegram.commands import Command, agent_commands, command_action, command_of, note_of, result_html
from adapters.telegram.desk import TelegramDesk
from adapters.telegram.desk_updates import desk_settings
from adapters.telegram.startup import check_desk, check_keys
from core.agents import Claim, Help, Post, ReportView, SetStatus, Show, TicketList, TicketRow
from core.domain.config import ConfigError, HelpdeskConfig
from core.i18n import translator
from core.services import Services
from core.startup import StartupError

BOT = "HelpDeskBot"


# -- commands and notes -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("/queue", Command("queue", "", True)),
    ("/queue billing", Command("queue", "billing", True)),
    ("/queue@HelpDeskBot billing", Command("queue", "billing", True)),
    ("/queue@helpdeskbot", Command("queue", "", True)),  # Telegram's usernames ignore case
    ("/queue@OtherBot billing", Command("queue", "billing", False)),
    ("/Show  1042 ", Command("show", "1042", True)),
    ("/note line one\nline two", Command("note", "line one\nline two", True)),
    ("/note@HelpDeskBot\nsecond line", Command("note", "second line", True)),
    ("/path/to/file is broken", None),  # a path, not a command
    ("hello /queue", None),
    ("/", None),
    ("note: /queue", None),
])
def test_command_of(text: str, expected: Command | None) -> None:
    assert command_of(text, BOT) == expected


def test_command_for_a_named_bot_is_not_ours_without_a_name() -> None:
    assert command_of("/queue@HelpDeskBot", None) == Command("queue", "", False)


@pytest.mark.parametrize(("text", "body"), [
    ("note: checked the logs", "checked the logs"),
    ("Note:checked", "checked"),
    ("  NOTE:  spaced  ", "spaced"),
    ("note:", ""),
    ("notes: not a note", None),
    ("a note: not at the start", None),
    ("note - no colon", None),
])
def test_note_of(text: str, body: str | None) -> None:
    assert note_of(text) == body


def test_commands_in_a_topic_are_about_its_ticket() -> None:
    def topic(text: str) -> object:
        command = command_of(text, BOT)
        assert command is not None
        return command_action(command, 1042)

    assert topic("/claim") == Claim(1042)
    assert topic("/status resolved") == SetStatus(1042, "resolved")
    assert topic("/show 1043") == Show(1043)  # a ticket named is the one meant
    assert topic("/reply thanks, fixed") == Post(1042, "thanks, fixed", via="telegram")
    assert topic("/reply 1042 thanks") == Post(1042, "thanks", via="telegram")
    # In General (no topic) a reply is not shown yet where the ticket is: no `via`.
    general = command_of("/reply 1042 thanks", BOT)
    assert general is not None and command_action(general) == Post(1042, "thanks")


def test_results_as_html() -> None:
    rows = (TicketRow(1042, "<b>x</b> & y", "new", "high", "IT"),)
    [text] = result_html(TicketList("Open:", rows, "none"))
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in text and "<b>" not in text
    [report] = result_html(ReportView("a  | b\n<1> | 2"))
    assert report == "<pre>a  | b\n&lt;1&gt; | 2</pre>"
    long = result_html(Help("intro", tuple((f"/cmd{i}", "x" * 200) for i in range(60)), "footer"))
    assert len(long) > 1 and all(len(part) <= 4096 for part in long)


def test_agent_commands_fit_telegram() -> None:
    for lang in ("en", "fa", "cs", "ru", "pt"):
        commands = agent_commands(translator(lang))
        names = [c.command for c in commands]
        assert {"queue", "mine", "show", "note", "report", "stats"} <= set(names)
        assert all(re.fullmatch(r"[a-z0-9_]{1,32}", n) for n in names) and len(set(names)) == len(names)
        assert all(1 <= len(c.description) <= 256 for c in commands)


# -- the agent directory --------------------------------------------------------------------

def _user(uid: int, name: str = "Eva", *, bot: bool = False, lang: str | None = None,
          username: str | None = None) -> User:
    return User(uid, name, bot, language_code=lang, username=username)


class StubBot:
    """getChatMember and getChatAdministrators of two groups, counted."""

    def __init__(self) -> None:
        self.members: dict[tuple[str, int], SimpleNamespace] = {}
        self.admins: dict[str, list[SimpleNamespace]] = {}
        self.calls: list[tuple[str, str, int | None]] = []

    def put(self, chat: str, user: User, status: str, **extra: Any) -> None:
        self.members[(chat, user.id)] = SimpleNamespace(user=user, status=status, **extra)
        if status in ("administrator", "creator"):
            self.admins.setdefault(chat, []).append(self.members[(chat, user.id)])

    async def get_chat_member(self, chat: str, user_id: int) -> SimpleNamespace:
        self.calls.append(("getChatMember", chat, user_id))
        if user_id == 404:
            raise BadRequest("Bad Request: user not found")
        return self.members.get((chat, user_id)) or SimpleNamespace(user=_user(user_id, "?"), status="left")

    async def get_chat_administrators(self, chat: str) -> list[SimpleNamespace]:
        self.calls.append(("getChatAdministrators", chat, None))
        if chat not in self.admins:
            raise BadRequest("Bad Request: chat not found")
        return self.admins[chat]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stub() -> StubBot:
    bot = StubBot()
    bot.put("-1001", _user(1, "Owner"), "creator")
    bot.put("-1001", _user(2, "Ana", username="ana_support"), "member")
    bot.put("-1002", _user(3, "Boris"), "administrator")
    bot.put("-1001", _user(4, "Muted"), "restricted", is_member=True)
    bot.put("-1001", _user(5, "Gone"), "restricted", is_member=False)
    bot.put("-1001", _user(6, "Kicked"), "kicked")
    bot.put("-1001", _user(7, "Robot", bot=True), "administrator")
    return bot


def _directory(stub: StubBot, service: Services, clock: Clock, users: tuple[str, ...] = ()) -> AgentDirectory:
    return AgentDirectory(stub, service.db, chats=["-1002", "-1001"], users=users, clock=clock)  # type: ignore[arg-type]


async def test_members_of_any_desk_group_are_agents(stub: StubBot, service: Services) -> None:
    directory = _directory(stub, service, Clock(), users=("99", " "))
    assert await directory.is_agent("99") and not stub.calls  # named in TELEGRAM_AGENT_USERS: not asked
    for uid in ("1", "2", "3", "4"):
        assert await directory.is_agent(uid), uid
    for uid in ("5", "6", "7", "8", "404", "not-a-number"):
        assert not await directory.is_agent(uid), uid


async def test_answers_are_kept_a_while_and_a_refusal_less_long(stub: StubBot, service: Services) -> None:
    clock = Clock()
    directory = _directory(stub, service, clock)
    assert await directory.is_agent("2") and not await directory.is_agent("8")
    asked = len(stub.calls)
    clock.now += REFUSAL_SECONDS - 1
    assert await directory.is_agent("2") and not await directory.is_agent("8")
    assert len(stub.calls) == asked  # both kept
    # Now added to the group: recognised once the refusal has run out, well before a minute.
    stub.put("-1001", _user(8, "New"), "member")
    clock.now += 2
    assert await directory.is_agent("8")
    # And a member removed is no agent once the "yes" has run out.
    stub.put("-1001", _user(2, "Ana"), "left")
    clock.now += MEMBER_SECONDS - REFUSAL_SECONDS - 2
    assert await directory.is_agent("2")
    clock.now += REFUSAL_SECONDS + 1
    assert not await directory.is_agent("2")


async def test_names_and_languages(stub: StubBot, service: Services) -> None:
    directory = _directory(stub, service, Clock())
    cs = directory.identity(_user(2, "Ana", lang="cs", username="ana_support"))
    assert (cs.platform, cs.user_id, cs.name, cs.locale) == ("telegram", "2", "Ana", "cs")
    assert directory.identity(_user(3, "Boris", lang="de")).locale == "en"  # not one of ours: English
    assert directory.identity(_user(10, "Pedro", lang="pt-BR")).locale == "pt"
    await directory.is_agent("2")  # a member list carries no language: the one seen stays
    found = await directory.lookup("2")
    assert found is not None and found.locale == "cs"
    by_name = await directory.lookup("@Ana_Support")
    assert by_name is not None and by_name.user_id == "2"
    assert await directory.lookup("@nobody") is None and await directory.lookup("Ana") is None
    await service.desk.agent("telegram", "11", "Known Agent", "ru")
    known = await directory.lookup("11")  # from the agents table
    assert known is not None and (known.name, known.locale) == ("Known Agent", "ru")
    member = await directory.lookup("4")  # from the group
    assert member is not None and member.name == "Muted"
    stranger = await directory.lookup("12345")
    assert stranger is not None and stranger.user_id == "12345"


async def test_the_assign_menu_lists_agents_without_bots(stub: StubBot, service: Services) -> None:
    clock = Clock()
    directory = _directory(stub, service, clock, users=("2",))
    await service.desk.agent("telegram", "11", "Known Agent", "ru")
    await service.desk.agent("slack", "U1", "Slack Agent", "en")
    listed = await directory.listed()
    assert listed == [Listed("2", "Ana"), Listed("3", "Boris"), Listed("11", "Known Agent"), Listed("1", "Owner")]
    asked = len(stub.calls)
    assert await directory.listed() == listed and len(stub.calls) == asked  # kept a minute
    clock.now += MEMBER_SECONDS + 1
    await directory.listed()
    assert len(stub.calls) > asked


# -- settings and start-up ------------------------------------------------------------------

def _config(config: HelpdeskConfig, **chats: str) -> HelpdeskConfig:
    departments = [d.model_copy(update={"desks": {**d.desks, "telegram": chats[d.code]}}) if d.code in chats else d
                   for d in config.departments]
    return config.model_copy(update={"departments": departments})


def test_desk_groups_named_by_their_settings(config: HelpdeskConfig) -> None:
    codes = [d.code for d in config.departments]
    both = _config(config, **{codes[0]: "-1002", codes[1]: "-1002"})
    desk = TelegramDesk(None, None, both, default_chat="-1001", locale="en", interval=1.0)  # type: ignore[arg-type]
    named = desk_settings(desk)
    assert named["-1001"] == "TELEGRAM_DESK_CHAT"
    assert named["-1002"] == f"telegram_desk_chat of the departments {codes[0]}, {codes[1]}"
    check_keys(both)
    with pytest.raises(ConfigError, match=rf"departments\.{codes[0]}\.telegram_desk_chat: must be the group's"):
        check_keys(_config(config, **{codes[0]: "@desk"}))


class StartBot:
    id = 42

    def __init__(self, *, forum: bool = True, status: str = "administrator", topics: bool = True,
                 missing: bool = False) -> None:
        self.forum, self.status, self.topics, self.missing = forum, status, topics, missing

    async def get_chat(self, chat: str) -> SimpleNamespace:
        if self.missing:
            raise BadRequest("Bad Request: chat not found")
        return SimpleNamespace(is_forum=self.forum)

    async def get_chat_member(self, chat: str, user_id: int) -> SimpleNamespace:
        return SimpleNamespace(status=self.status, can_manage_topics=self.topics)


async def test_start_refuses_a_group_that_cannot_be_a_desk() -> None:
    chats = {"-1001": "TELEGRAM_DESK_CHAT"}
    await check_desk(StartBot(), chats)  # type: ignore[arg-type]
    for bot, *said in ((StartBot(forum=False), "group -1001 (TELEGRAM_DESK_CHAT) has no topics", "Enable topics"),
                      (StartBot(topics=False), "may not manage topics in the Telegram desk group -1001",
                       "administrator of the group with the right “Manage topics”"),
                      (StartBot(status="member"), "may not manage topics", "Manage topics"),
                      (StartBot(missing=True), "-1001 (TELEGRAM_DESK_CHAT) cannot be used by the bot: Chat not found",
                       "Add the bot to the group")):
        with pytest.raises(StartupError) as raised:
            await check_desk(bot, chats)  # type: ignore[arg-type]
        assert said[0] in str(raised.value) and said[1] in str(raised.value)
