"""Who counts as an agent on the Telegram desk, whom the Assign menu offers, and in which
language each agent reads the desk's answers.

An agent is a user named in TELEGRAM_AGENT_USERS or a member of a desk group (Telegram's
getChatMember, asked again after a minute; a "no" is asked again sooner, so that someone just
added to the group is not kept waiting). Names and languages come from the updates an agent
sends (language_code), else from the agents table, else from the group's member list.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from telegram import Bot, ChatMember, User
from telegram.error import BadRequest, Forbidden

from adapters.telegram.card import Listed
from adapters.telegram.startup import NAME
from core.agents import AgentIdentity
from core.i18n import match_locale
from core.storage.db import Database
from core.storage.desk import agents_on

MEMBER_SECONDS = 60.0  # how long a "member" answer is trusted
REFUSAL_SECONDS = 10.0  # and a "not a member" one
KEPT = 2000  # people remembered (names, verdicts) at most: a busy group must not grow this for ever
_MEMBERS = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER})


class AgentDirectory:
    """The desk's Directory (core.agents.interpreter.Directory) for Telegram user ids."""

    def __init__(self, bot: Bot, db: Database, *, chats: Iterable[str], users: Iterable[str] = (),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bot = bot
        self.db = db
        self.chats = sorted(set(chats))
        self.fixed = frozenset(u.strip() for u in users if u.strip())
        self.clock = clock
        self._verdicts: OrderedDict[str, tuple[float, bool]] = OrderedDict()  # user id -> (until, agent?)
        self._people: OrderedDict[str, AgentIdentity] = OrderedDict()  # user id -> as last seen
        self._usernames: dict[str, str] = {}  # @username (lower case) -> user id
        self._listed: tuple[float, list[Listed]] | None = None

    # -- who is an agent ----------------------------------------------------------------

    async def is_agent(self, user_id: str) -> bool:
        if user_id in self.fixed:
            return True
        now = self.clock()
        cached = self._verdicts.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        verdict = False
        for chat in self.chats:
            if await self._member_of(chat, user_id):
                verdict = True
                break
        self._verdicts[user_id] = (now + (MEMBER_SECONDS if verdict else REFUSAL_SECONDS), verdict)
        self._verdicts.move_to_end(user_id)
        while len(self._verdicts) > KEPT:
            self._verdicts.popitem(last=False)
        return verdict

    async def _member_of(self, chat: str, user_id: str) -> bool:
        member = await self._member(chat, user_id)
        if member is None or member.user.is_bot:
            return False
        if member.status in _MEMBERS:
            return True
        return member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", False))

    async def _member(self, chat: str, user_id: str) -> ChatMember | None:
        """The user as the group knows them; None when it does not (a network failure is raised:
        the update is then tried again rather than refused)."""
        if not user_id.isdigit():
            return None
        try:
            member = await self.bot.get_chat_member(chat, int(user_id))
        except (BadRequest, Forbidden):  # no such user, or the bot is not in the group any more
            return None
        self._remember(member.user, keep_locale=True)
        return member

    # -- names and languages ------------------------------------------------------------

    def identity(self, user: User) -> AgentIdentity:
        """The user as the agents' core sees them, from an update they sent (remembered)."""
        return self._remember(user)

    def _remember(self, user: User, *, keep_locale: bool = False) -> AgentIdentity:
        uid = str(user.id)
        known = self._people.get(uid)
        locale = match_locale(user.language_code) or "en"
        if keep_locale and known is not None:  # member lists carry no language: keep the one seen
            locale = known.locale
        who = AgentIdentity(NAME, uid, user.full_name, locale)
        self._people[uid] = who
        self._people.move_to_end(uid)
        if user.username:
            self._usernames[user.username.lower()] = uid
        while len(self._people) > KEPT:
            self._people.popitem(last=False)
        if len(self._usernames) > KEPT:
            self._usernames = {k: v for k, v in self._usernames.items() if v in self._people}
        return who

    async def lookup(self, ref: str) -> AgentIdentity | None:
        """The person a user id (as the Assign menu's buttons carry it) or a known @username names."""
        ref = ref.strip()
        if ref.startswith("@"):
            uid = self._usernames.get(ref[1:].lower())
            if uid is None:
                return None
        elif ref.isdigit():
            uid = ref
        else:
            return None
        return await self._person(uid)

    async def _person(self, uid: str) -> AgentIdentity:
        known = self._people.get(uid)
        if known is not None:
            return known
        for agent in await agents_on(self.db, NAME):
            if agent.platform_user_id == uid:
                return AgentIdentity(NAME, uid, agent.display_name, agent.locale)
        for chat in self.chats:
            member = await self._member(chat, uid)
            if member is not None and member.status not in (ChatMember.LEFT, ChatMember.BANNED):
                return self._people[uid]
        return AgentIdentity(NAME, uid)

    # -- the Assign menu ----------------------------------------------------------------

    async def listed(self) -> list[Listed]:
        """The agents the Assign menu offers: TELEGRAM_AGENT_USERS, the desk groups'
        administrators and the agents already known here; no bots. Kept a minute."""
        now = self.clock()
        if self._listed is not None and self._listed[0] > now:
            return self._listed[1]
        found: dict[str, str] = {}
        for chat in self.chats:
            try:
                admins = await self.bot.get_chat_administrators(chat)
            except (BadRequest, Forbidden):
                continue
            for admin in admins:
                if not admin.user.is_bot:
                    found[str(admin.user.id)] = self._remember(admin.user, keep_locale=True).name
        known = {a.platform_user_id: a.display_name for a in await agents_on(self.db, NAME)}
        for uid, name in known.items():
            found.setdefault(uid, name)
        for uid in sorted(self.fixed - found.keys()):
            found[uid] = (await self._person(uid)).name
        listed = sorted((Listed(uid, name or uid) for uid, name in found.items()),
                        key=lambda a: (a.name.casefold(), a.user_id))
        self._listed = (now + MEMBER_SECONDS, listed)
        return listed
