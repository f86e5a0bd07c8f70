"""A stand-in for the few Bot methods the desk calls, over a forum kept in memory, with
Telegram's error descriptions: to drive TelegramDesk alone, without a server. (The end-to-end
tests use the fake Bot API, tests/fakes/telegram_api.py.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from telegram import Chat, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, TelegramError


@dataclass
class Topic:
    name: str
    closed: bool = False
    deleted: bool = False
    names: list[str] = field(default_factory=list)


@dataclass
class Posted:
    message_id: int
    thread: int
    text: str
    markup: InlineKeyboardMarkup | None = None
    document: str | None = None  # a document's file name
    caption: str | None = None
    deleted: bool = False


class ForumStub:
    def __init__(self, *, can_post_in_closed: bool = True) -> None:
        self.topics: dict[int, Topic] = {}
        self.messages: dict[int, Posted] = {}
        self.calls: list[str] = []
        self.fail: dict[str, list[TelegramError]] = {}  # method -> errors to raise at its next calls
        self.can_post_in_closed = can_post_in_closed
        self._next = 100

    def _id(self) -> int:
        self._next += 1
        return self._next

    def _call(self, method: str) -> None:
        self.calls.append(method)
        errors = self.fail.get(method)
        if errors:
            raise errors.pop(0)

    def _live(self, thread: int, gone: str = "Bad Request: message thread not found") -> Topic:
        topic = self.topics.get(thread)
        if topic is None or topic.deleted:
            raise BadRequest(gone)
        return topic

    # -- what tests look at and do ------------------------------------------------------

    def in_topic(self, thread: int) -> list[Posted]:
        return [m for m in self.messages.values() if m.thread == thread and not m.deleted]

    def live_topics(self) -> list[int]:
        return [n for n, t in self.topics.items() if not t.deleted]

    def delete_topic(self, thread: int) -> None:
        self.topics[thread].deleted = True
        for m in self.in_topic(thread):
            m.deleted = True

    # -- the Bot's methods ---------------------------------------------------------------

    async def create_forum_topic(self, chat_id: Any, name: str) -> Any:
        self._call("createForumTopic")
        if not 1 <= len(name.encode("utf-16-le")) // 2 <= 128:
            raise BadRequest("Bad Request: TOPIC_NAME_INVALID")
        thread = self._id()
        self.topics[thread] = Topic(name, names=[name])
        return SimpleNamespace(message_thread_id=thread, name=name)

    async def edit_forum_topic(self, chat_id: Any, message_thread_id: int, name: str) -> bool:
        self._call("editForumTopic")
        topic = self._live(message_thread_id, "Bad Request: TOPIC_ID_INVALID")
        if topic.name == name:
            raise BadRequest("Bad Request: TOPIC_NOT_MODIFIED")
        topic.name = name
        topic.names.append(name)
        return True

    async def close_forum_topic(self, chat_id: Any, message_thread_id: int) -> bool:
        self._call("closeForumTopic")
        topic = self._live(message_thread_id, "Bad Request: TOPIC_ID_INVALID")
        if topic.closed:
            raise BadRequest("Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = True
        return True

    async def reopen_forum_topic(self, chat_id: Any, message_thread_id: int) -> bool:
        self._call("reopenForumTopic")
        topic = self._live(message_thread_id, "Bad Request: TOPIC_ID_INVALID")
        if not topic.closed:
            raise BadRequest("Bad Request: TOPIC_NOT_MODIFIED")
        topic.closed = False
        return True

    def _post(self, thread: int | None, text: str, **extra: Any) -> Any:
        assert thread is not None, "the desk always writes into a topic"
        topic = self._live(thread)
        if topic.closed and not self.can_post_in_closed:
            raise BadRequest("Bad Request: TOPIC_CLOSED")
        posted = Posted(self._id(), thread, text, **extra)
        self.messages[posted.message_id] = posted
        return Message(posted.message_id, datetime.now(UTC), Chat(-1001, Chat.SUPERGROUP),
                       message_thread_id=thread, is_topic_message=True)

    async def send_message(self, chat_id: Any, text: str, *, message_thread_id: int | None = None,
                           reply_markup: InlineKeyboardMarkup | None = None, **_: Any) -> Any:
        self._call("sendMessage")
        if len(text) > 4096 * 6:
            raise BadRequest("Bad Request: message is too long")
        return self._post(message_thread_id, text, markup=reply_markup)

    async def send_document(self, chat_id: Any, document: bytes, *, filename: str, caption: str | None = None,
                            message_thread_id: int | None = None, **_: Any) -> Any:
        self._call("sendDocument")
        return self._post(message_thread_id, "", document=filename, caption=caption)

    async def edit_message_text(self, text: str, *, chat_id: Any, message_id: int,
                                reply_markup: InlineKeyboardMarkup | None = None, **_: Any) -> Any:
        self._call("editMessageText")
        posted = self.messages.get(message_id)
        if posted is None or posted.deleted:
            raise BadRequest("Bad Request: message to edit not found")
        if posted.text == text and posted.markup == reply_markup:
            raise BadRequest("Bad Request: message is not modified: specified new message content and reply "
                             "markup are exactly the same as a current content and reply markup of the message")
        posted.text, posted.markup = text, reply_markup
        return True
