"""Supergroups with topics for the fake Bot API: the state and the rules that need no HTTP.

``FakeTelegramAPI`` (telegram_api.py) answers the methods; this module holds what a group is to
it (its Chat object, its members and their rights, its topics), the ChatMember shapes the Bot API
returns, the cleaning Telegram applies to a topic's name, and the timeline of writes into each
group that the group rate limit is checked against.

Facts taken from the real stack (TDLib's ForumTopicManager and misc.cpp, the Bot API server's
Client.cpp), so that the fake answers as Telegram does:

* A topic name is cleaned, not refused: runs of spaces and newlines become one space, it is
  trimmed and cut to 128 characters (code points); only a name that cleans to nothing is
  refused ("title must be non-empty").
* Editing, closing or reopening a topic needs ``can_manage_topics`` unless the bot created the
  topic; deleting one needs ``can_delete_messages``. Creating needs ``can_manage_topics`` (or the
  group letting members create topics).
* A change that changes nothing answers ``TOPIC_NOT_MODIFIED`` (TDLib swallows it for users,
  not for bots); a topic that is gone answers ``TOPIC_ID_INVALID`` to the topic methods and
  "message thread not found" to a send.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, field
from typing import Any

JSONDict = dict[str, Any]

#: The colours Telegram gives topic icons; createForumTopic without one gets one of these.
ICON_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
MAX_TOPIC_NAME = 128

STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})

#: An administrator's rights in a supergroup, as ChatMemberAdministrator lists them.
ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_pin_messages", "can_manage_topics",
)
#: What a member may do, as ChatPermissions / ChatMemberRestricted list it.
MEMBER_PERMISSIONS = (
    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
    "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls",
    "can_send_other_messages", "can_add_web_page_previews", "can_change_info",
    "can_invite_users", "can_pin_messages", "can_manage_topics", "can_edit_tag",
    "can_react_to_messages",
)

# Descriptions, without the "Bad Request: " the server puts before them.
THREAD_NOT_FOUND = "message thread not found"
TOPIC_CLOSED = "TOPIC_CLOSED"
TOPIC_NOT_MODIFIED = "TOPIC_NOT_MODIFIED"
TOPIC_ID_INVALID = "TOPIC_ID_INVALID"
THREAD_ID_INVALID = "invalid message thread identifier specified"
NOT_A_FORUM = "the chat is not a forum"
NAME_EMPTY = "title must be non-empty"
NO_RIGHTS_TO_CREATE = "not enough rights to create a topic"
NO_RIGHTS_TO_EDIT = "not enough rights to edit the topic"
NO_RIGHTS_TO_CLOSE = "not enough rights to close or open the topic"
NO_RIGHTS_TO_DELETE = "not enough rights to delete the topic"
ADMIN_REQUIRED = "CHAT_ADMIN_REQUIRED"
USER_NOT_FOUND = "user not found"
BOT_NOT_MEMBER = "Forbidden: bot is not a member of the supergroup chat"
BOT_KICKED = "Forbidden: bot was kicked from the supergroup chat"


@dataclass
class Member:
    """One user's standing in a group. ``rights`` are an administrator's (others' are unused);
    ``permissions`` a restricted member's."""

    status: str
    rights: dict[str, bool] = field(default_factory=dict)
    permissions: dict[str, bool] = field(default_factory=dict)
    until_date: int = 0


@dataclass
class ForumTopicRecord:
    """One topic as the fake keeps it, for tests to inspect (``api.topics(chat_id)``).

    ``names`` is every name the topic had, the first one first; ``creator_id`` the user (or
    the bot) that created it. A deleted topic stays listed with ``deleted=True``.
    """

    chat_id: int
    thread_id: int
    name: str
    icon_color: int
    creator_id: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False
    deleted: bool = False
    names: list[str] = field(default_factory=list)

    def forum_topic(self) -> JSONDict:
        """The ForumTopic object createForumTopic returns."""
        topic: JSONDict = {
            "message_thread_id": self.thread_id, "name": self.name, "icon_color": self.icon_color}
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


@dataclass
class Group:
    """A group or supergroup set up by a test: its Chat object, members and topics."""

    chat: JSONDict
    members: dict[int, Member] = field(default_factory=dict)
    topics: dict[int, ForumTopicRecord] = field(default_factory=dict)
    #: Default permissions of members (ChatPermissions), e.g. whether they may create topics.
    permissions: dict[str, bool] = field(default_factory=dict)

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    @property
    def is_forum(self) -> bool:
        return bool(self.chat.get("is_forum"))

    def status_of(self, user_id: int) -> str:
        member = self.members.get(user_id)
        return member.status if member is not None else "left"

    def may(self, user_id: int, right: str) -> bool:
        """Whether the user holds an administrator right (the creator holds them all)."""
        member = self.members.get(user_id)
        if member is None:
            return False
        if member.status == "creator":
            return True
        return member.status == "administrator" and bool(member.rights.get(right))

    def may_create_topics(self, user_id: int) -> bool:
        if self.may(user_id, "can_manage_topics"):
            return True
        member = self.members.get(user_id)
        if member is None or member.status not in ("member", "restricted"):
            return False
        allowed = member.permissions if member.status == "restricted" else self.permissions
        return bool(allowed.get("can_manage_topics"))

    def live_topic(self, thread_id: Any) -> ForumTopicRecord | None:
        topic = self.topics.get(thread_id) if isinstance(thread_id, int) else None
        return topic if topic is not None and not topic.deleted else None


def member_json(user: JSONDict, member: Member) -> JSONDict:
    """The ChatMember object of the member's status, with the fields the Bot API always sends."""
    status = member.status
    result: JSONDict = {"user": copy.deepcopy(user), "status": status}
    if status == "creator":
        result["is_anonymous"] = False
    elif status == "administrator":
        result["can_be_edited"] = False
        result["is_anonymous"] = False
        result.update({right: bool(member.rights.get(right)) for right in ADMIN_RIGHTS})
    elif status == "restricted":
        result["is_member"] = True
        result.update({p: bool(member.permissions.get(p)) for p in MEMBER_PERMISSIONS})
        result["until_date"] = member.until_date
    elif status == "kicked":
        result["until_date"] = member.until_date
    return result


def default_rights(**overrides: bool) -> dict[str, bool]:
    """An administrator's rights as Telegram grants them by default, with some set apart."""
    rights = dict.fromkeys(ADMIN_RIGHTS, True)
    rights.update(can_promote_members=False, can_post_stories=False, can_edit_stories=False,
                  can_delete_stories=False)
    rights.update(overrides)
    return rights


# Characters TDLib's strip_empty_characters turns into a space (U+202E only on request).
_SPACE_LIKE = frozenset(
    "\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f"
    "\u205f\u2800\u3000\ufffc")
# Characters that alone leave a name empty.
_EMPTY_CHARACTERS = frozenset(" \n\u200b\u200c\u200d\u200e\u200f\u202e\ufeff\xa0")
_TRIMMED = " \t\r\n\v\f\0"


def clean_topic_name(name: str, limit: int = MAX_TOPIC_NAME) -> str:
    """The name Telegram keeps for a topic (TDLib's clean_name): "" means it is refused."""
    spaced = "".join(
        " " if ch in _SPACE_LIKE or 0xE0000 <= ord(ch) <= 0xE007F else ch
        for ch in name.replace("\r", ""))
    cut = spaced.strip(_TRIMMED)[:limit].strip(_TRIMMED)
    if all(ch in _EMPTY_CHARACTERS for ch in cut):
        return ""
    out: list[str] = []
    for ch in cut:
        if ch in (" ", "\n", "\xa0"):
            if out and out[-1] == " ":
                continue
            ch = " "
        out.append(ch)
    return "".join(out).strip(_TRIMMED)


class WriteTimeline:
    """Accepted writes into each group, in order: what the group limit is checked against.

    The limit is a sliding window (at most ``count`` writes in any ``window`` seconds), stricter
    than Telegram's own bursty accounting, so code that keeps it keeps the real one.
    """

    def __init__(self) -> None:
        self.writes: dict[int, list[tuple[float, str]]] = {}
        self._recent: dict[int, deque[float]] = {}

    def add(self, chat_id: int, method: str, at: float) -> None:
        self.writes.setdefault(chat_id, []).append((at, method))
        self._recent.setdefault(chat_id, deque()).append(at)

    def wait(self, chat_id: int, now: float, count: int, window: float) -> float:
        """Seconds until one more write fits into the window (0 when it fits now)."""
        recent = self._recent.setdefault(chat_id, deque())
        while recent and now - recent[0] >= window:
            recent.popleft()
        if len(recent) < count:
            return 0.0
        return window - (now - recent[len(recent) - count])

    def most_in_window(self, chat_id: int, seconds: float) -> int:
        return most_in_window([at for at, _ in self.writes.get(chat_id, [])], seconds)


def most_in_window(times: list[float], seconds: float) -> int:
    """The largest number of the (sorted) times that fall in any window [t, t + seconds)."""
    best = start = 0
    for end, at in enumerate(times):
        while at - times[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best
