"""A fake Telegram Bot API server, so tests can drive the real python-telegram-bot stack offline.

The fake is an aiohttp application bound to 127.0.0.1 on a free port. Point PTB at it with::

    async with FakeTelegramAPI(token="123:ABC") as api:
        bot = telegram.Bot("123:ABC", base_url=api.api_base_url, base_file_url=api.file_base_url)

or ``ApplicationBuilder().token(...).base_url(api.api_base_url).base_file_url(api.file_base_url)``.
PTB appends the token to both roots itself, so requests arrive as ``/bot<token>/<method>`` and
file downloads as ``/file/bot<token>/<file_path>``, exactly as on api.telegram.org.

What it models, with the real API's answers (status codes and descriptions):

* getMe, getUpdates (long polling, offset confirmation, 409 while a webhook is set or when a
  newer getUpdates call supersedes a pending one), setWebhook/deleteWebhook/getWebhookInfo,
  sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage, answerCallbackQuery,
  getFile plus the file download, sendDocument, sendPhoto, setMyCommands/getMyCommands/
  deleteMyCommands and sendChatAction.
* Supergroups with topics (``add_forum``): getChat, getChatMember, getChatAdministrators,
  createForumTopic, editForumTopic, closeForumTopic, reopenForumTopic, deleteForumTopic, and
  ``message_thread_id`` on every send method, with the real API's errors (telegram_forum.py
  lists them and where they come from). Topics are inspectable: ``topics``, ``topic``,
  ``topic_messages``; people act on them with ``create_topic``, ``close_topic``,
  ``reopen_topic`` and ``delete_topic``.
* HTML parse mode, ported from TDLib's ``parse_html`` (the parser behind the Bot API), so the
  same markup is accepted or refused with the same "can't parse entities" reasons and offsets.
* Inline keyboards, text and caption limits, blocked users and unknown chats.
* Injected faults (``fail_next``, ``delay_next``) and optional flood limits (``enforce_limits``):
  1 message a second per private chat, 30 a second overall, and ``group_limit`` (20 a minute by
  default) for every write into a group: send*, editMessageText, editMessageReplyMarkup,
  deleteMessage and the five topic methods. Every accepted write into a group is kept, limits
  or not: ``group_writes``, ``most_in_window``.

Users are simulated with helpers (``user_message``, ``press_button``, ``user_document``,
``user_photo``, ``user_edit``, ``queue_update``) that build real-shaped Update dicts, queue them
for getUpdates and return them, so a webhook test can POST them itself; given
``message_thread_id`` a message is written in that topic, as a client does. Everything the bot
did is recorded in ``requests``, ``sent()``, ``messages`` and ``downloads``.

Not modelled: MarkdownV2/Markdown parsing (the text is kept verbatim), automatic detection of
URLs/mentions/hashtags in the bot's own messages, webhook delivery, media groups, inline mode,
reply threads of groups without topics, the General topic's own methods.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import mimetypes
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from aiohttp import BodyPartReader, web

from . import telegram_forum as forum
from .telegram_forum import ForumTopicRecord, Group, Member, WriteTimeline

__all__ = [
    "Download",
    "EntityParseError",
    "FakeTelegramAPI",
    "ForumTopicRecord",
    "RecordedRequest",
    "StoredFile",
    "UploadedFile",
    "WebhookConfig",
    "parse_html",
]

JSONDict = dict[str, Any]
T = TypeVar("T")

BOT_USERNAME = "helpdesk_test_bot"
BOT_FIRST_NAME = "Helpdesk Test Bot"

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_CALLBACK_DATA_BYTES = 64
MAX_BUTTONS = 100
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024
MAX_PHOTO_UPLOAD_SIZE = 10 * 1024 * 1024

# What getUpdates delivers when allowed_updates was never set or set to [].
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})

COMMAND_SCOPES = frozenset({
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
})

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active;"
    " use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request;"
    " make sure that only one bot instance is running"
)


# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------


class EntityParseError(ValueError):
    """Markup the Bot API refuses; ``str(error)`` is the reason Telegram appends."""


# TDLib orders entities at the same position by these priorities (MessageEntity.cpp).
_ENTITY_PRIORITY = {
    "bold": 90, "italic": 91, "code": 20, "pre": 11, "text_link": 49, "text_mention": 49,
    "underline": 92, "strikethrough": 93, "blockquote": 0, "expandable_blockquote": 0,
    "spoiler": 94, "custom_emoji": 99,
}

_HTML_TAGS = frozenset({
    "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler", "tg-emoji",
    "span", "pre", "code", "blockquote",
})

_SIMPLE_TAG_TYPES = {
    "i": "italic", "em": "italic", "b": "bold", "strong": "bold", "s": "strikethrough",
    "strike": "strikethrough", "del": "strikethrough", "u": "underline", "ins": "underline",
    "tg-spoiler": "spoiler", "span": "spoiler",
}

_NAMED_HTML_ENTITIES = {b"lt": ord("<"), b"gt": ord(">"), b"amp": ord("&"), b"quot": ord('"')}

# TDLib's is_space() counts NUL as space; its loops rely on that to stop at the end of input.
_SPACES = frozenset(b" \t\r\n\v\0")

_TG_USER_LINK = re.compile(r"^tg://user\?id=(\d{1,19})$", re.IGNORECASE)
_DOMAIN = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,}$")


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    out_pos: int
    expandable: bool = False


def _decode_html_entity(src: bytes, pos: int) -> tuple[int, int] | None:
    """Decode the character reference at ``src[pos] == '&'``: (code point, next position)."""
    size = len(src)

    def at(i: int) -> int:
        return src[i] if i < size else 0

    end = pos + 1
    code = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while at(end) and chr(at(end)) in "0123456789abcdefABCDEF":
                code = code * 16 + int(chr(src[end]), 16)
                end += 1
        else:
            while ord("0") <= at(end) <= ord("9"):
                code = code * 10 + src[end] - ord("0")
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
    else:
        while chr(at(end)).isascii() and chr(at(end)).isalpha():
            end += 1
        named = _NAMED_HTML_ENTITIES.get(src[pos + 1:end])
        if named is None:
            return None
        code = named
    if at(end) == ord(";"):
        end += 1
    return code, end


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _checked_link(url: str) -> str | None:
    """Roughly TDLib's LinkManager::get_checked_link: normalise, or None to drop the entity."""
    url = url.strip()
    scheme_match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if scheme_match:
        scheme = scheme_match.group(1).lower()
        if scheme in ("tg", "ton"):
            return url
        if scheme not in ("http", "https"):
            return None
        rest = url[len(scheme_match.group(0)):]
    else:
        scheme, rest = "http", url
    cut = re.search(r"[/?#]", rest)
    host, tail = (rest[:cut.start()], rest[cut.start():]) if cut else (rest, "")
    hostname = host.rsplit("@", 1)[-1].split(":", 1)[0]
    if not (_DOMAIN.match(hostname) or re.match(r"^\d{1,3}(\.\d{1,3}){3}$", hostname)):
        return None
    if not tail.startswith("/"):
        tail = "/" + tail
    return f"{scheme}://{host}{tail}"


def parse_html(text: str, *, strict_entities: bool = False) -> tuple[str, list[JSONDict]]:
    """Parse Bot API HTML into (visible text, entities), as Telegram does.

    A port of TDLib's ``parse_html``: the same tags, attributes, nesting rules and error
    reasons, with byte offsets into the UTF-8 input. Entity offsets are in UTF-16 code units.
    Like Telegram, a ``&`` that does not start a known character reference is kept as is;
    ``strict_entities=True`` refuses it instead, for tests that want every ``&`` escaped.
    ``<a href="tg://user?id=N">`` yields ``{"type": "text_mention", "user_id": N}``, which the
    server turns into a full user.
    """
    src = text.encode("utf-8")
    size = len(src)

    def at(i: int) -> int:
        return src[i] if i < size else 0

    out = bytearray()
    entities: list[JSONDict] = []
    stack: list[_OpenTag] = []
    utf16 = 0
    has_surrogate = False
    i = 0
    while i < size:
        c = src[i]
        if c == ord("&"):
            decoded = _decode_html_entity(src, i)
            if decoded is not None:
                code, i = decoded
                utf16 += 2 if code > 0xFFFF else 1
                has_surrogate |= 0xD800 <= code <= 0xDFFF
                out += chr(code).encode("utf-8", "surrogatepass")
                continue
            if strict_entities:
                raise EntityParseError(f"Unsupported HTML entity at byte offset {i}")
        if c != ord("<"):
            if c & 0xC0 != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != ord("/"):
            while at(i) not in _SPACES and at(i) != ord(">"):
                i += 1
            if at(i) == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = src[begin + 1:i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            expandable = False
            while at(i) != ord(">"):
                while at(i) and at(i) in _SPACES:
                    i += 1
                if at(i) == ord(">"):
                    break
                attr_begin = i
                # Stopping at ">" too lets <blockquote expandable> end its tag (newer TDLib).
                while at(i) not in _SPACES and at(i) not in b"=>":
                    i += 1
                attr_name = src[attr_begin:i].decode("utf-8", "replace")
                if not attr_name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) and at(i) in _SPACES:
                    i += 1
                if at(i) != ord("="):
                    # Newer TDLib: <blockquote expandable> is a value-less attribute.
                    if tag == "blockquote" and attr_name == "expandable":
                        expandable = True
                        continue
                    raise EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag"
                        f' "{tag}" at byte offset {begin}')
                i += 1
                while at(i) and at(i) in _SPACES:
                    i += 1
                if at(i) == 0:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in (ord("'"), ord('"')):
                    token_begin = i
                    while chr(at(i)).isascii() and (chr(at(i)).isalnum() or at(i) in b".-"):
                        i += 1
                    value = src[token_begin:i].decode("ascii").lower()
                    if at(i) not in _SPACES and at(i) != ord(">"):
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = at(i)
                    i += 1
                    buf = bytearray()
                    while at(i) != quote and at(i) != 0:
                        if at(i) == ord("&"):
                            decoded = _decode_html_entity(src, i)
                            if decoded is not None:
                                code, i = decoded
                                buf += chr(code).encode("utf-8", "surrogatepass")
                                continue
                        buf.append(src[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = buf.decode("utf-8", "replace")
                if at(i) == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[len("language-"):]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-"):]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append(_OpenTag(tag, argument, utf16, len(out), expandable))
            i += 1
            continue

        # An end tag.
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while at(i) not in _SPACES and at(i) != ord(">"):
            i += 1
        end_name = src[begin + 2:i].decode("utf-8", "replace").lower()
        while at(i) and at(i) in _SPACES:
            i += 1
        if at(i) != ord(">"):
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        open_tag = stack[-1]
        if end_name and end_name != open_tag.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{open_tag.name}>",'
                f' found "</{end_name}>"')
        i += 1
        stack.pop()
        if utf16 > open_tag.utf16_offset:
            _close_entity(open_tag, utf16, out, entities)

    if stack:
        raise EntityParseError(
            f"Can't find end tag corresponding to start tag {stack[-1].name}")
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    if has_surrogate:
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, check for"
            " unmatched surrogate code units")
    entities.sort(key=lambda e: (e["offset"], -e["length"], _ENTITY_PRIORITY.get(e["type"], 50)))
    return out.decode("utf-8"), entities


def _close_entity(tag: _OpenTag, utf16: int, out: bytearray, entities: list[JSONDict]) -> None:
    offset, length = tag.utf16_offset, utf16 - tag.utf16_offset
    span: JSONDict = {"offset": offset, "length": length}
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if tag.name in _SIMPLE_TAG_TYPES:
        entities.append({"type": _SIMPLE_TAG_TYPES[tag.name], **span})
    elif tag.name == "tg-emoji":
        if not tag.argument.isdigit() or int(tag.argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append({"type": "custom_emoji", **span, "custom_emoji_id": tag.argument})
    elif tag.name == "a":
        url = tag.argument or out[tag.out_pos:].decode("utf-8", "replace")
        user = _TG_USER_LINK.match(url)
        if user:
            entities.append({"type": "text_mention", **span, "user_id": int(user.group(1))})
        elif (checked := _checked_link(url)) is not None:
            entities.append({"type": "text_link", **span, "url": checked})
    elif tag.name == "pre":
        if same_span and last is not None and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", **span})
    elif tag.name == "code":
        if same_span and last is not None and last["type"] == "pre" and tag.argument:
            last["language"] = tag.argument
        else:
            entities.append({"type": "code", **span, "language": tag.argument})
    elif tag.name == "blockquote":
        kind = "expandable_blockquote" if tag.expandable else "blockquote"
        entities.append({"type": kind, **span})
    if entities and entities[-1].get("language") == "":
        del entities[-1]["language"]


_TRIM = " \t\n\r\v\f"


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip outer whitespace like Telegram does, moving entities along and dropping empty ones."""
    stripped = text.strip(_TRIM)
    shift = _utf16_len(text[:len(text) - len(text.lstrip(_TRIM))])
    total = _utf16_len(stripped)
    kept: list[JSONDict] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --------------------------------------------------------------------------------------------
# Records and state
# --------------------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """A multipart file part of a request."""

    field_name: str
    filename: str
    content_type: str
    content: bytes


@dataclass
class RecordedRequest:
    """One HTTP request to a Bot API method, as the fake received and answered it."""

    method: str
    params: JSONDict
    chat_id: int | str | None
    received_at: float
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int | None = None
    response: JSONDict | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class StoredFile:
    """A file the fake knows by file_id (uploaded by the bot or sent by a simulated user)."""

    file_id: str
    file_unique_id: str
    kind: str
    content: bytes
    file_size: int
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None


@dataclass
class Download:
    """One GET of /file/bot<token>/<file_path>."""

    file_id: str
    file_path: str
    size: int
    received_at: float


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    ip_address: str | None


@dataclass
class _Fault:
    kind: str  # "fail" or "delay"
    method: str
    chat_id: int | str | None
    remaining: int
    status: int = 0
    description: str = ""
    parameters: JSONDict | None = None
    delay: float = 0.0
    processed: bool = True
    after: int = 0  # matching calls that succeed before the fault starts


@dataclass
class _CallbackQuery:
    query_id: str
    user_id: int
    chat_id: int
    message_id: int
    answered: bool = False


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(reason: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {reason}")


_NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}
_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}

# How form/multipart fields are decoded; JSON bodies already carry types.
_JSON_FIELDS = frozenset({
    "reply_markup", "reply_parameters", "allowed_updates", "commands", "scope", "entities",
    "caption_entities", "link_preview_options", "media", "results", "permissions",
})
_INT_FIELDS = frozenset({
    "offset", "limit", "message_id", "reply_to_message_id", "message_thread_id",
    "max_connections", "cache_time", "user_id", "until_date", "duration", "width", "height",
    "icon_color",
})
_FLOAT_FIELDS = frozenset({"timeout"})
_BOOL_FIELDS = frozenset({
    "drop_pending_updates", "disable_notification", "protect_content", "show_alert",
    "disable_web_page_preview", "allow_sending_without_reply", "disable_content_type_detection",
    "has_spoiler", "show_caption_above_media", "allow_paid_broadcast", "is_personal",
})

_SENDING_METHODS = frozenset({"sendmessage", "senddocument", "sendphoto"})
# What counts against a group's limit: everything that writes into the group, erring on counting.
_GROUP_WRITES = _SENDING_METHODS | {
    "editmessagetext", "editmessagereplymarkup", "deletemessage", "createforumtopic",
    "editforumtopic", "closeforumtopic", "reopenforumtopic", "deleteforumtopic",
}

Handler = Callable[[JSONDict, dict[str, UploadedFile]], Awaitable[Any]]


class FakeTelegramAPI:
    """An in-process Bot API server on 127.0.0.1 that the real PTB client can talk to."""

    # Where another messenger's Bot API differs (tests/fakes/bale_api.py sets these).
    #: Methods it lacks: answered as an unknown method is.
    lacks: frozenset[str] = frozenset()
    #: The answer to an unknown method: (status, body).
    unknown_method: tuple[int, JSONDict] = (404, _NOT_FOUND)
    #: parse_mode HTML honoured; without, every text is shown as it was sent.
    parses_html = True
    #: The language_code of a simulated user who is given none (None: the field is left out).
    default_language: str | None = "en"
    #: getUpdates' allowed_updates honoured; without, every update type is delivered.
    filters_updates = True

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = BOT_FIRST_NAME,
        enforce_limits: bool = False,
        strict_html_entities: bool = False,
        group_limit: tuple[int, float] = (20, 60.0),
        strict_topic_names: bool = False,
    ) -> None:
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
            raise ValueError(f"not a bot token: {token!r}")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: JSONDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        #: Answer 429 like Telegram's flood control: 1 msg/s per private chat and 30/s overall
        #: for send* methods, ``group_limit`` for every write into a group (stricter than the
        #: real, bursty limits).
        self.enforce_limits = enforce_limits
        #: (writes, seconds) allowed into one group; a test may scale the minute down.
        self.group_limit = group_limit
        #: Refuse a bare "&" in HTML (Telegram itself keeps it as text).
        self.strict_html_entities = strict_html_entities
        #: Refuse topic names over 128 characters (Telegram cuts them) with a 400 of the fake's
        #: own, for tests that want every name to fit before it is sent.
        self.strict_topic_names = strict_topic_names
        #: Every accepted write into each group, in order.
        self.timeline = WriteTimeline()

        self.requests: list[RecordedRequest] = []
        self.messages: dict[tuple[int, int], JSONDict] = {}
        self.downloads: list[Download] = []
        self.files: dict[str, StoredFile] = {}
        self.callback_answers: dict[str, JSONDict] = {}
        #: setMyCommands storage keyed by (scope as canonical JSON, language_code).
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.webhook: WebhookConfig | None = None

        self._history: dict[int, list[JSONDict]] = {}
        self._pending: list[JSONDict] = []
        self._allowed_updates: frozenset[str] | None = None
        self._next_update_id = 100_000_001
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._blocked: set[int] = set()
        self._deleted: set[int] = set()
        self._faults: list[_Fault] = []
        self._queries: dict[str, _CallbackQuery] = {}
        self._query_ids = itertools.count(4_113_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._issued_paths: dict[str, str] = {}
        self._poll_waiter: asyncio.Future[str] | None = None
        self._change_waiters: list[asyncio.Future[None]] = []
        self._sends_by_chat: dict[int, deque[float]] = {}
        self._sends_all: deque[float] = deque()
        self._groups: dict[int, Group] = {}

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "getFile": self._get_file,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendChatAction": self._send_chat_action,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "createForumTopic": self._create_forum_topic,
                "editForumTopic": self._edit_forum_topic,
                "closeForumTopic": self._close_forum_topic,
                "reopenForumTopic": self._reopen_forum_topic,
                "deleteForumTopic": self._delete_forum_topic,
            }.items() if name not in self.lacks
        }

    # ----------------------------------------------------------------------------------------
    # Lifecycle
    # ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_download)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # handler_cancellation: a client that gives up (PTB timeout, polling stopped) cancels
        # its handler, as a dropped connection would on the real server.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._wake_poller("closed")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramAPI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegramAPI is not started")
        return self._port

    @property
    def server_url(self) -> str:
        """The server root, ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base_url(self) -> str:
        """For ``Bot(base_url=...)`` and ``ApplicationBuilder().base_url(...)``.

        ``http://127.0.0.1:PORT/bot``: PTB appends the token, then ``/<method>``.
        """
        return f"{self.server_url}/bot"

    @property
    def base_url(self) -> str:
        """Same as :attr:`api_base_url`, the value PTB's ``base_url`` expects."""
        return self.api_base_url

    @property
    def file_base_url(self) -> str:
        """For ``base_file_url``: ``http://127.0.0.1:PORT/file/bot``; PTB appends the token."""
        return f"{self.server_url}/file/bot"

    def method_url(self, method: str, token: str | None = None) -> str:
        """The full URL of a method, for raw HTTP requests in tests."""
        return f"{self.api_base_url}{token or self.token}/{method}"

    # ----------------------------------------------------------------------------------------
    # Test controls
    # ----------------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 3,
        count: int = 1,
        chat_id: int | str | None = None,
        *,
        description: str | None = None,
        parameters: JSONDict | None = None,
        after: int = 0,
    ) -> None:
        """Make the next ``count`` calls of ``method`` (optionally only for one chat) fail, once
        ``after`` of them have succeeded."""
        if status == 429:
            description = description or f"Too Many Requests: retry after {retry_after}"
            parameters = {"retry_after": retry_after, **(parameters or {})}
        elif description is None:
            description = "Internal Server Error" if status == 500 else HTTPStatus(status).phrase
        self._faults.append(_Fault(
            "fail", method.lower(), chat_id, count, status=status, description=description,
            parameters=parameters, after=after))

    def delay_next(
        self,
        method: str,
        seconds: float,
        *,
        count: int = 1,
        chat_id: int | str | None = None,
        processed: bool = True,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` only after ``seconds``.

        With ``processed=True`` the call takes effect at once and only the answer is late: the
        client times out although the message was sent (the case that causes duplicates).
        With ``processed=False`` the wait comes first; if the client gives up meanwhile the
        call never takes effect.
        """
        self._faults.append(_Fault(
            "delay", method.lower(), chat_id, count, delay=seconds, processed=processed))

    def block_bot(self, user_id: int) -> None:
        """The user blocked the bot: sends to them answer 403."""
        self._blocked.add(user_id)

    def unblock_bot(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def delete_chat(self, chat_id: int) -> None:
        """The chat is gone (or never existed): sends to it answer 400 "chat not found"."""
        self._deleted.add(chat_id)

    def sent(self, chat_id: int, since: int = 0) -> list[JSONDict]:
        """Snapshots of the bot's messages in a chat, one per successful send or edit, in order;
        from the `since`-th on (`sent(chat, n)` is `sent(chat)[n:]` without copying the first n:
        a wait_for predicate runs on every change, and copying a long history each time costs
        a busy test more CPU than the bot it tests)."""
        return [copy.deepcopy(m) for m in self._history.get(chat_id, [])[since:]]

    def sent_count(self, chat_id: int) -> int:
        """How many snapshots `sent(chat_id)` holds, without copying them."""
        return len(self._history.get(chat_id, []))

    def requests_for(self, method: str, chat_id: int | str | None = None) -> list[RecordedRequest]:
        return [
            r for r in self.requests
            if r.method.lower() == method.lower()
            and (chat_id is None or str(r.chat_id) == str(chat_id))
        ]

    def commands_for(
        self, language_code: str = "", scope: JSONDict | None = None
    ) -> list[JSONDict]:
        """The commands stored by setMyCommands for exactly this scope and language."""
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        return copy.deepcopy(self.commands.get(key, []))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Queued updates not yet confirmed by a getUpdates offset."""
        return list(self._pending)

    def webhook_headers(self) -> dict[str, str]:
        """Headers Telegram would send with a webhook POST (the secret token, if set)."""
        if self.webhook is None or not self.webhook.secret_token:
            return {}
        return {"X-Telegram-Bot-Api-Secret-Token": self.webhook.secret_token}

    async def wait_for(
        self, predicate: Callable[[], T], timeout: float = 5.0
    ) -> T:
        """Wait until ``predicate()`` is truthy (checked on every change) and return its value."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                recent = [f"{r.method}->{r.status}" for r in self.requests[-10:]]
                raise TimeoutError(
                    f"condition not met within {timeout}s; last requests: {recent}")
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._change_waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                pass
            finally:
                if waiter in self._change_waiters:
                    self._change_waiters.remove(waiter)

    async def wait_for_request(
        self,
        method: str,
        *,
        chat_id: int | str | None = None,
        count: int = 1,
        timeout: float = 5.0,
    ) -> RecordedRequest:
        """Wait until ``count`` answered calls of ``method`` were made; return the last one."""
        def answered() -> list[RecordedRequest]:
            done = [r for r in self.requests_for(method, chat_id) if r.status is not None]
            return done if len(done) >= count else []
        return (await self.wait_for(answered, timeout))[count - 1]

    # ----------------------------------------------------------------------------------------
    # Groups with topics (test setup and inspection)
    # ----------------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> JSONDict:
        """Make a user known to the fake (as if the bot had met them); returns the User."""
        user = self._user(
            user_id, first_name=first_name, language_code=language_code, username=username)
        if last_name:
            self._users[user_id]["last_name"] = last_name
            user["last_name"] = last_name
        return user

    def add_forum(
        self,
        chat_id: int,
        *,
        title: str = "Help desk",
        is_forum: bool = True,
        username: str | None = None,
        bot_status: str = "administrator",
        bot_can_manage_topics: bool = True,
        bot_can_delete_messages: bool = True,
        members: Mapping[int, str] | None = None,
        members_can_create_topics: bool = False,
    ) -> JSONDict:
        """A supergroup (with topics unless ``is_forum=False``) the bot is in; returns its Chat.

        ``members`` maps user ids to a status: "creator", "administrator" (default rights,
        including can_manage_topics), "member", "restricted", "left" or "kicked"; unknown users
        get the name "Test" and language "en" (``add_user`` first to choose them). The bot is
        an administrator with the two topic rights as given, or ``bot_status``.
        """
        if chat_id > -1_000_000_000_000:
            raise ValueError("a supergroup's id is -100 followed by its number")
        chat: JSONDict = {"id": chat_id, "title": title}
        if username:
            chat["username"] = username
        if is_forum:
            chat["is_forum"] = True
        chat["type"] = "supergroup"
        self._chats[chat_id] = chat
        # Message 1 is the group's creation; a topic's id is never 1 (the General topic's).
        self._message_ids.setdefault(chat_id, itertools.count(2))
        group = Group(chat=chat, permissions={"can_manage_topics": members_can_create_topics})
        self._groups[chat_id] = group
        self.set_member(chat_id, self.bot_id, bot_status, rights={
            "can_manage_topics": bot_can_manage_topics,
            "can_delete_messages": bot_can_delete_messages,
        })
        for user_id, status in (members or {}).items():
            self.set_member(chat_id, user_id, status)
        return dict(chat)

    def set_member(
        self,
        chat_id: int,
        user_id: int,
        status: str,
        *,
        rights: Mapping[str, bool] | None = None,
        permissions: Mapping[str, bool] | None = None,
        until_date: int = 0,
    ) -> None:
        """Set a user's (or the bot's) standing in a group set up with ``add_forum``.

        An administrator gets Telegram's default rights with ``rights`` applied over them; a
        restricted member may do nothing but what ``permissions`` allows.
        """
        if status not in forum.STATUSES:
            raise ValueError(f"unknown member status {status!r}")
        group = self._groups[chat_id]
        if user_id != self.bot_id and user_id not in self._users:
            self._user(user_id, language_code="en")
        group.members[user_id] = Member(
            status,
            rights=forum.default_rights(**dict(rights or {})) if status == "administrator" else {},
            permissions=dict(permissions or {}),
            until_date=until_date,
        )
        self._changed()

    def set_bot_rights(
        self, chat_id: int, *, status: str = "administrator", **rights: bool
    ) -> None:
        """Change the bot's standing in a group, e.g. ``can_manage_topics=False``; rights not
        named keep their value."""
        group = self._groups[chat_id]
        current = group.members.get(self.bot_id)
        kept = dict(current.rights) if current is not None else {}
        self.set_member(chat_id, self.bot_id, status, rights={**kept, **rights})

    def set_is_forum(self, chat_id: int, is_forum: bool) -> None:
        """Turn topics on or off in a group (its topics stay recorded)."""
        chat = self._groups[chat_id].chat
        if is_forum:
            chat["is_forum"] = True
        else:
            chat.pop("is_forum", None)
        self._changed()

    def topics(self, chat_id: int) -> list[ForumTopicRecord]:
        """Every topic ever created in the group, deleted ones too, oldest first (copies)."""
        group = self._groups.get(chat_id)
        if group is None:
            return []
        return [copy.deepcopy(t) for _, t in sorted(group.topics.items())]

    def topic(self, chat_id: int, thread_id: int) -> ForumTopicRecord:
        """One topic's record (a copy); KeyError if it was never created."""
        return copy.deepcopy(self._groups[chat_id].topics[thread_id])

    def topic_messages(self, chat_id: int, thread_id: int) -> list[JSONDict]:
        """The messages now in a topic, oldest first, service messages included (the first is
        the topic's forum_topic_created); empty once the topic is deleted."""
        found = [m for (c, _), m in self.messages.items()
                 if c == chat_id and m.get("message_thread_id") == thread_id]
        return [copy.deepcopy(m) for m in sorted(found, key=lambda m: m["message_id"])]

    def create_topic(
        self, chat_id: int, name: str, *, user_id: int, icon_color: int = forum.ICON_COLORS[0]
    ) -> ForumTopicRecord:
        """A person creates a topic; the bot gets the forum_topic_created message as an update."""
        group = self._forum_for_test(chat_id)
        topic = self._open_topic(group, name, icon_color, None, self._user(user_id))
        self.queue_update({"message": copy.deepcopy(self.messages[(chat_id, topic.thread_id)])})
        return copy.deepcopy(topic)

    def close_topic(self, chat_id: int, thread_id: int, *, user_id: int) -> JSONDict:
        """A person (an admin) closes a topic; returns the queued update."""
        return self._person_toggles(chat_id, thread_id, user_id, closed=True)

    def reopen_topic(self, chat_id: int, thread_id: int, *, user_id: int) -> JSONDict:
        """A person (an admin) reopens a topic; returns the queued update."""
        return self._person_toggles(chat_id, thread_id, user_id, closed=False)

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """A person deletes a topic with all its messages; Telegram sends the bot no update."""
        group = self._forum_for_test(chat_id)
        topic = group.live_topic(thread_id)
        if topic is None:
            raise ValueError(f"no live topic {thread_id} in chat {chat_id}")
        self._remove_topic(group, topic)

    def group_writes(self, chat_id: int) -> list[tuple[float, str]]:
        """Every accepted write into the group: (time.monotonic() when accepted, method)."""
        return list(self.timeline.writes.get(chat_id, []))

    def most_in_window(self, chat_id: int, seconds: float) -> int:
        """The most accepted writes into the group in any window of ``seconds``."""
        return self.timeline.most_in_window(chat_id, seconds)

    def _forum_for_test(self, chat_id: int) -> Group:
        group = self._groups.get(chat_id)
        if group is None or not group.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum set up with add_forum")
        return group

    def _person_toggles(self, chat_id: int, thread_id: int, user_id: int, *, closed: bool) -> JSONDict:
        group = self._forum_for_test(chat_id)
        topic = group.live_topic(thread_id)
        if topic is None or topic.closed == closed:
            raise ValueError(f"topic {thread_id} is gone or already {'closed' if closed else 'open'}")
        topic.closed = closed
        event = "forum_topic_closed" if closed else "forum_topic_reopened"
        message = self._post_service(group, topic, self._user(user_id), {event: {}})
        return self.queue_update({"message": copy.deepcopy(message)})

    # ----------------------------------------------------------------------------------------
    # Simulated users
    # ----------------------------------------------------------------------------------------

    def queue_update(self, update: JSONDict) -> JSONDict:
        """Queue any Update dict for getUpdates; assigns ``update_id`` if missing."""
        if "update_id" not in update:  # first, where Telegram puts it
            rest = dict(update)
            update.clear()
            update["update_id"] = self._next_update_id
            update.update(rest)
        self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        for key in ("message", "edited_message", "channel_post"):
            message = update.get(key)
            if isinstance(message, dict) and "chat" in message and "message_id" in message:
                chat_id = message["chat"]["id"]
                self._chats.setdefault(chat_id, message["chat"])
                self.messages[(chat_id, message["message_id"])] = message
        self._pending.append(update)
        self._wake_poller("update")
        self._changed()
        return update

    def user_message(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        language_code: str | None = None,
        first_name: str | None = None,
        chat_type: str | None = None,
        update_id: int | None = None,
        username: str | None = None,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
    ) -> JSONDict:
        """A user sends ``text``; a leading /command gets its bot_command entity.

        Without ``chat_id`` it is their private chat; in a group set up with ``add_forum``,
        ``message_thread_id`` writes in that topic (replying to a topic message does too), and
        none writes in the General topic. A user the fake knows keeps their name and language
        unless given here; a new one is "Test" speaking "en".
        """
        message = self._user_message_base(
            user_id, chat_id, language_code, first_name, chat_type, username)
        self._place(message, message_thread_id, reply_to_message_id)
        message["text"] = text
        self._mark_command(message)
        if "message_thread_id" in message:
            message["is_topic_message"] = True
        update: JSONDict = {"message": message}
        if update_id is not None:
            update["update_id"] = update_id
        return self.queue_update(update)

    def press_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        chat_id: int | None = None,
        language_code: str | None = None,
        check_button: bool = True,
    ) -> JSONDict:
        """A user presses an inline button of a bot message; queues the callback_query update.

        With ``check_button`` the message must carry a button with this callback_data, as only
        such a press is possible in a real client. In a group (``chat_id``) anyone may press,
        member or not: the query's ``from`` is the presser, its ``message`` the group's message.
        """
        chat_id = user_id if chat_id is None else chat_id
        message = self.messages.get((chat_id, message_id))
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        if check_button:
            buttons = [
                b for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                for b in row
            ]
            if not any(b.get("callback_data") == callback_data for b in buttons):
                raise ValueError(
                    f"message {message_id} has no button with callback_data {callback_data!r}")
        user = self._user(user_id, language_code=self._language(user_id, language_code))
        query_id = str(next(self._query_ids))
        self._queries[query_id] = _CallbackQuery(query_id, user_id, chat_id, message_id)
        return self.queue_update({"callback_query": {
            "id": query_id,
            "from": user,
            "message": copy.deepcopy(message),
            "chat_instance": str(7_000_000_000_000_000_000 + chat_id),
            "data": callback_data,
        }})

    def user_document(
        self,
        user_id: int,
        *,
        file_name: str,
        mime_type: str,
        content: bytes,
        chat_id: int | None = None,
        caption: str | None = None,
        declared_size: int | None = None,
        language_code: str | None = None,
        first_name: str | None = None,
        chat_type: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """A user sends a file; it becomes downloadable via getFile. Groups and topics as for
        ``user_message``."""
        message = self._user_message_base(
            user_id, chat_id, language_code, first_name, chat_type, None)
        self._place(message, message_thread_id, reply_to_message_id)
        stored = self._store_file(
            "document", content, file_name=file_name, mime_type=mime_type, size=declared_size)
        message["document"] = self._document_json(stored)
        if caption:
            message["caption"] = caption
        if "message_thread_id" in message:
            message["is_topic_message"] = True
        return self.queue_update({"message": message})

    def user_photo(
        self,
        user_id: int,
        *,
        content: bytes,
        chat_id: int | None = None,
        caption: str | None = None,
        declared_size: int | None = None,
        language_code: str | None = None,
        first_name: str | None = None,
        chat_type: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> JSONDict:
        """A user sends a photo; ``photo`` lists several sizes, the largest last. Groups and
        topics as for ``user_message``."""
        message = self._user_message_base(
            user_id, chat_id, language_code, first_name, chat_type, None)
        self._place(message, message_thread_id, reply_to_message_id)
        message["photo"] = self._photo_sizes(content, declared_size)
        if caption:
            message["caption"] = caption
        if "message_thread_id" in message:
            message["is_topic_message"] = True
        return self.queue_update({"message": message})

    def user_edit(
        self,
        user_id: int,
        message_id: int,
        *,
        chat_id: int | None = None,
        text: str | None = None,
        caption: str | None = None,
    ) -> JSONDict:
        """A user edits their own message (text, or a file's caption): queues the
        ``edited_message`` update, the whole message as it now is, with ``edit_date``."""
        chat_id = user_id if chat_id is None else chat_id
        stored = self.messages.get((chat_id, message_id))
        if stored is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        if stored.get("from", {}).get("id") != user_id:
            raise ValueError(f"message {message_id} is not user {user_id}'s")
        message = copy.deepcopy(stored)
        if text is not None:
            if "text" not in message:
                raise ValueError(f"message {message_id} has no text to edit")
            message["text"] = text
            message.pop("entities", None)
            self._mark_command(message)
        if caption is not None:
            if "text" in message:
                raise ValueError(f"message {message_id} has no caption to edit")
            _set_or_drop(message, "caption", caption or None)
        message["edit_date"] = max(int(time.time()), int(message["date"]) + 1)
        return self.queue_update({"edited_message": message})

    # ----------------------------------------------------------------------------------------
    # HTTP layer
    # ----------------------------------------------------------------------------------------

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return web.json_response(_NOT_FOUND, status=404)

    def _token_error(self, token: str) -> tuple[int, JSONDict] | None:
        token = unquote(token)
        if token == self.token:
            return None
        # Telegram answers 404 to tokens that are not even shaped like one.
        if re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
            return 401, dict(_UNAUTHORIZED)
        return 404, dict(_NOT_FOUND)

    async def _handle_method(self, request: web.Request) -> web.Response:
        received_at = time.monotonic()
        token_error = self._token_error(request.match_info["token"])
        method_name = request.match_info["method"]
        entry = self._methods.get(method_name.lower())
        try:
            params, files = await self._read_params(request)
        except _ApiError as error:
            params, files, parse_error = {}, {}, error
        else:
            parse_error = None
        record = RecordedRequest(
            method=entry[0] if entry else method_name,
            params=params,
            chat_id=params.get("chat_id"),
            received_at=received_at,
            files=files,
        )
        self.requests.append(record)
        self._changed()

        status, body = await self._dispatch(record, entry, token_error, parse_error)
        record.status, record.response = status, body
        self._changed()
        return web.json_response(body, status=status)

    async def _dispatch(
        self,
        record: RecordedRequest,
        entry: tuple[str, Handler] | None,
        token_error: tuple[int, JSONDict] | None,
        parse_error: _ApiError | None,
    ) -> tuple[int, JSONDict]:
        if token_error is not None:
            return token_error
        if entry is None:
            return self.unknown_method[0], dict(self.unknown_method[1])
        if parse_error is not None:
            return parse_error.status, parse_error.body()
        name, handler = entry
        delay = self._take_fault("delay", name, record.chat_id)
        if delay is not None and not delay.processed:
            await asyncio.sleep(delay.delay)
        try:
            fault = self._take_fault("fail", name, record.chat_id)
            if fault is not None:
                raise _ApiError(fault.status, fault.description, fault.parameters)
            counts_as_send = name.lower() in _SENDING_METHODS
            group_id = self._group_id(record.chat_id) if name.lower() in _GROUP_WRITES else None
            if self.enforce_limits and (counts_as_send or group_id is not None):
                self._check_flood(record.chat_id, group_id, counts_as_send)
            result = await handler(record.params, record.files)
            if counts_as_send:
                self._note_send(record.chat_id)
            if group_id is not None:
                self.timeline.add(group_id, name, time.monotonic())
            if isinstance(result, tuple):
                result, description = result
                body: JSONDict = {"ok": True, "result": result, "description": description}
            else:
                body = {"ok": True, "result": result}
            status = 200
        except _ApiError as error:
            status, body = error.status, error.body()
        if delay is not None and delay.processed:
            await asyncio.sleep(delay.delay)
        return status, body

    async def _handle_download(self, request: web.Request) -> web.Response:
        token_error = self._token_error(request.match_info["token"])
        if token_error is not None:
            return web.json_response(token_error[1], status=token_error[0])
        file_path = unquote(request.match_info["file_path"])
        file_id = self._issued_paths.get(file_path)
        if file_id is None:
            return web.json_response(_NOT_FOUND, status=404)
        stored = self.files[file_id]
        self.downloads.append(Download(file_id, file_path, len(stored.content), time.monotonic()))
        self._changed()
        return web.Response(
            body=stored.content, content_type=stored.mime_type or "application/octet-stream")

    async def _read_params(
        self, request: web.Request
    ) -> tuple[JSONDict, dict[str, UploadedFile]]:
        raw: JSONDict = dict(request.query)
        files: dict[str, UploadedFile] = {}
        from_json = False
        if request.method == "POST" and request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad_request("can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise _bad_request("can't parse JSON object")
                raw.update(body)
                from_json = True
            elif content_type == "multipart/form-data":
                reader = await request.multipart()
                async for part in reader:
                    if not isinstance(part, BodyPartReader) or part.name is None:
                        continue
                    if part.filename is not None:
                        files[part.name] = UploadedFile(
                            part.name, part.filename,
                            part.headers.get("Content-Type", "application/octet-stream"),
                            bytes(await part.read()))
                    else:
                        raw[part.name] = await part.text()
            elif content_type == "application/x-www-form-urlencoded":
                raw.update((await request.post()).items())
        return _coerce_params(raw, from_json), files

    # ----------------------------------------------------------------------------------------
    # Faults, limits, notifications
    # ----------------------------------------------------------------------------------------

    def _take_fault(self, kind: str, method: str, chat_id: Any) -> _Fault | None:
        for fault in self._faults:
            if fault.kind != kind or fault.method != method.lower():
                continue
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_id):
                continue
            if fault.after > 0:
                fault.after -= 1
                return None
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _group_id(self, chat_id: Any) -> int | None:
        """The group a request writes into, if it is one (by id or by @username)."""
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            wanted = chat_id[1:].lower()
            chat_id = next((c["id"] for c in self._chats.values()
                            if str(c.get("username", "")).lower() == wanted), None)
        if isinstance(chat_id, int) and not isinstance(chat_id, bool) and chat_id < 0:
            return chat_id
        return None

    def _check_flood(self, chat_id: Any, group_id: int | None, is_send: bool) -> None:
        now = time.monotonic()
        wait = 0.0
        if group_id is not None:
            count, window = self.group_limit
            wait = self.timeline.wait(group_id, now, count, window)
        elif is_send:
            key = chat_id if isinstance(chat_id, int) else 0
            chat_sends = self._sends_by_chat.setdefault(key, deque())
            while chat_sends and now - chat_sends[0] >= 1.0:
                chat_sends.popleft()
            if chat_sends:
                wait = 1.0 - (now - chat_sends[0])
        if is_send:
            while self._sends_all and now - self._sends_all[0] >= 1.0:
                self._sends_all.popleft()
            if len(self._sends_all) >= 30:
                wait = max(wait, 1.0 - (now - self._sends_all[0]))
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise _ApiError(
                429, f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after})

    def _note_send(self, chat_id: Any) -> None:
        now = time.monotonic()
        key = chat_id if isinstance(chat_id, int) else 0
        self._sends_by_chat.setdefault(key, deque()).append(now)
        self._sends_all.append(now)

    def _changed(self) -> None:
        for waiter in self._change_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._change_waiters.clear()

    def _wake_poller(self, reason: str) -> None:
        if self._poll_waiter is not None and not self._poll_waiter.done():
            self._poll_waiter.set_result(reason)

    # ----------------------------------------------------------------------------------------
    # Users, chats, messages, files
    # ----------------------------------------------------------------------------------------

    def _user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        language_code: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        user = self._users.setdefault(
            user_id, {"id": user_id, "is_bot": False, "first_name": first_name or "Test"})
        if first_name:
            user["first_name"] = first_name
        if language_code:
            user["language_code"] = language_code
        if username:
            user["username"] = username
        return dict(user)

    def _chat(self, chat_id: int, chat_type: str | None = None) -> JSONDict:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_type is None:
                chat_type = "private" if chat_id > 0 else (
                    "supergroup" if chat_id <= -1_000_000_000_000 else "group")
            if chat_type == "private":
                user = self._users.get(chat_id, {"first_name": "Test"})
                chat = {"id": chat_id, "first_name": user["first_name"], "type": "private"}
                if "username" in user:
                    chat["username"] = user["username"]
            else:
                chat = {"id": chat_id, "title": f"Test {chat_type}", "type": chat_type}
            self._chats[chat_id] = chat
        return dict(chat)

    def _user_message_base(
        self,
        user_id: int,
        chat_id: int | None,
        language_code: str | None,
        first_name: str | None,
        chat_type: str | None,
        username: str | None,
    ) -> JSONDict:
        if chat_type is None:
            known = self._chats.get(chat_id) if chat_id is not None else None
            chat_type = "private" if chat_id in (None, user_id) or chat_id > 0 else (
                known["type"] if known is not None else None)
        if chat_type == "private":
            if chat_id not in (None, user_id):
                raise ValueError("a private chat's id is the user's id")
            chat_id = user_id
        elif chat_id is None:
            raise ValueError(f"a {chat_type} message needs chat_id")
        user = self._user(
            user_id, first_name=first_name, language_code=self._language(user_id, language_code),
            username=username)
        return {
            "message_id": self._next_message_id(chat_id),
            "from": user,
            "chat": self._chat(chat_id, chat_type),
            "date": int(time.time()),
        }

    def _language(self, user_id: int, language_code: str | None) -> str | None:
        """The language a simulated user writes with: as given, else as known, else "en"."""
        if language_code is None and "language_code" not in self._users.get(user_id, {}):
            return self.default_language
        return language_code

    def _place(
        self, message: JSONDict, thread_id: int | None, reply_to_message_id: int | None
    ) -> None:
        """Put a user's new message in its topic and reply, as a client does: in a topic,
        a message that replies to nothing replies to the topic's first message."""
        chat_id = message["chat"]["id"]
        replied = self.messages.get((chat_id, reply_to_message_id)) if (
            reply_to_message_id is not None) else None
        if thread_id is None and replied is not None and replied.get("is_topic_message"):
            thread_id = replied["message_thread_id"]
        if thread_id is not None:
            group = self._groups.get(chat_id)
            topic = group.live_topic(thread_id) if group is not None and group.is_forum else None
            if group is None or topic is None:
                raise ValueError(f"no topic {thread_id} in chat {chat_id}")
            if topic.closed and not group.may(message["from"]["id"], "can_manage_topics"):
                raise ValueError(f"topic {thread_id} is closed: only its managers may write")
            message["message_thread_id"] = thread_id
            replied = replied or self.messages.get((chat_id, thread_id))
        if replied is not None:
            message["reply_to_message"] = self._without_reply(replied)

    @staticmethod
    def _mark_command(message: JSONDict) -> None:
        command = re.match(
            r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])", message["text"])
        if command:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command.group(0))}]

    def _next_message_id(self, chat_id: int) -> int:
        # Both sides of a chat share one message_id sequence, as in Telegram.
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    @staticmethod
    def _without_reply(message: JSONDict) -> JSONDict:
        # Telegram never nests reply_to_message more than one level.
        return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}

    def _store_file(
        self,
        kind: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        size: int | None = None,
    ) -> StoredFile:
        number = next(self._file_ids)
        prefix = {"document": "BQACAgIAAxkBAAI", "photo": "AgACAgIAAxkBAAI"}.get(kind, "CQAC")
        file_id = f"{prefix}{number:06d}{secrets.token_urlsafe(24)}"
        if kind == "photo":
            path = f"photos/file_{number}.jpg"
        else:
            suffix = ""
            if file_name and "." in file_name:
                suffix = "." + file_name.rsplit(".", 1)[1]
            path = f"documents/file_{number}{suffix}"
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=f"AgAD{number:04d}{secrets.token_urlsafe(6)}",
            kind=kind,
            content=content,
            file_size=len(content) if size is None else size,
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[file_id] = stored
        return stored

    @staticmethod
    def _document_json(stored: StoredFile) -> JSONDict:
        doc: JSONDict = {}
        if stored.file_name:
            doc["file_name"] = stored.file_name
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        doc.update(
            file_id=stored.file_id, file_unique_id=stored.file_unique_id,
            file_size=stored.file_size)
        return doc

    def _photo_sizes(self, content: bytes, declared_size: int | None) -> list[JSONDict]:
        # The fake does not resize images: every size serves the same bytes.
        sizes = []
        for width, height in ((90, 68), (320, 240), (800, 600), (1280, 960)):
            stored = self._store_file(
                "photo", content, mime_type="image/jpeg", size=declared_size)
            sizes.append({
                "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": stored.file_size, "width": width, "height": height,
            })
        return sizes

    def _target_chat(self, params: JSONDict, *, writing: bool = True) -> int:
        """Resolve and check ``chat_id`` as Telegram does before any sending or editing."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            wanted = chat_id.lstrip("@").lower()
            for known in self._chats.values():
                if str(known.get("username", "")).lower() == wanted:
                    chat_id = known["id"]
                    break
            else:
                raise _bad_request("chat not found")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise _bad_request("chat not found")
        if chat_id in self._deleted:
            raise _bad_request("chat not found")
        if writing and chat_id in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        group = self._groups.get(chat_id)
        if group is not None and group.status_of(self.bot_id) in ("left", "kicked"):
            kicked = group.status_of(self.bot_id) == "kicked"
            raise _ApiError(403, forum.BOT_KICKED if kicked else forum.BOT_NOT_MEMBER)
        return chat_id

    def _formatted(
        self, params: JSONDict, text_key: str, entities_key: str, limit: int, what: str
    ) -> tuple[str, list[JSONDict]]:
        """Apply parse_mode/entities, trim, and check the length: (visible text, entities)."""
        raw = params.get(text_key)
        text = "" if raw is None else str(raw)
        parse_mode = str(params.get("parse_mode") or "").lower() if self.parses_html else ""
        given = params.get(entities_key)
        if isinstance(given, list):
            entities = [dict(e) for e in given if isinstance(e, dict)]
        elif parse_mode == "html":
            try:
                text, entities = parse_html(text, strict_entities=self.strict_html_entities)
            except EntityParseError as error:
                raise _bad_request(f"can't parse entities: {error}") from None
            entities = [self._resolve_mention(e) for e in entities]
        elif parse_mode in ("", "markdown", "markdownv2"):
            entities = []
        else:
            raise _bad_request("unsupported parse_mode")
        text, entities = _trim(text, entities)
        if len(text) > limit:
            raise _bad_request(f"{what} is too long")
        return text, entities

    def _resolve_mention(self, entity: JSONDict) -> JSONDict:
        if entity["type"] != "text_mention":
            return entity
        user_id = entity.pop("user_id")
        entity["user"] = self._users.get(
            user_id, {"id": user_id, "is_bot": False, "first_name": "User"})
        return entity

    def _validated_markup(self, markup: Any, *, inline_only: bool = False) -> JSONDict | None:
        """Check reply_markup; return the inline keyboard to echo (None for other kinds)."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if inline_only or not ({"keyboard", "remove_keyboard", "force_reply"} & markup.keys()):
                raise _bad_request("can't parse reply keyboard markup JSON object")
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request("can't parse inline keyboard markup: expected an Array of Arrays")
        if sum(len(row) for row in rows) > MAX_BUTTONS:
            raise _bad_request("reply markup is too long")
        actions = ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
                   "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                   "copy_text", "callback_game", "pay")
        for row in rows:
            for button in row:
                if not isinstance(button, dict):
                    raise _bad_request("can't parse InlineKeyboardButton: expected an Object")
                text = button.get("text")
                if not isinstance(text, str) or not text.strip():
                    raise _bad_request("BUTTON_TEXT_INVALID")
                present = [a for a in actions if button.get(a) not in (None, "")]
                if not present:
                    raise _bad_request(
                        "can't parse InlineKeyboardButton: Text buttons are not allowed in the"
                        " inline keyboard")
                data = button.get("callback_data")
                if data not in (None, "") and (
                    not isinstance(data, str)
                    or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES
                ):
                    raise _bad_request("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and (not isinstance(url, str) or _checked_link(url) is None):
                    raise _bad_request("BUTTON_URL_INVALID")
        return {"inline_keyboard": copy.deepcopy(rows)}

    def _reply_target(self, params: JSONDict, chat_id: int) -> JSONDict | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_without = bool(reply.get("allow_sending_without_reply"))
            reply_chat = reply.get("chat_id", chat_id)
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
            allow_without = bool(params.get("allow_sending_without_reply"))
            reply_chat = chat_id
        else:
            return None
        replied = self.messages.get((reply_chat, message_id)) if isinstance(
            reply_chat, int) else None
        if replied is None:
            if allow_without:
                return None
            raise _bad_request("message to be replied not found")
        return self._without_reply(replied)

    def _new_bot_message(self, chat_id: int, params: JSONDict) -> JSONDict:
        message: JSONDict = {
            "message_id": 0,  # assigned once every check has passed
            "from": dict(self.bot_user),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        reply_to = self._reply_target(params, chat_id)
        topic = self._send_topic(chat_id, params, reply_to)
        if topic is not None:
            message["message_thread_id"] = topic.thread_id
            if reply_to is None:
                # Telegram shows a topic message as a reply to the topic's first message.
                created = self.messages.get((chat_id, topic.thread_id))
                reply_to = self._without_reply(created) if created is not None else None
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if topic is not None:
            message["is_topic_message"] = True
        if params.get("protect_content"):
            message["has_protected_content"] = True
        return message

    def _send_topic(
        self, chat_id: int, params: JSONDict, reply_to: JSONDict | None
    ) -> ForumTopicRecord | None:
        """The topic a send goes to: its message_thread_id, or the replied message's topic."""
        thread_id = params.get("message_thread_id")
        if thread_id in (None, "", 0):
            if reply_to is None or not reply_to.get("is_topic_message"):
                return None
            thread_id = reply_to["message_thread_id"]
        group = self._groups.get(chat_id)
        topic = group.live_topic(thread_id) if group is not None and group.is_forum else None
        if group is None or topic is None:
            raise _bad_request(forum.THREAD_NOT_FOUND)
        if topic.closed and not group.may(self.bot_id, "can_manage_topics"):
            raise _bad_request(forum.TOPIC_CLOSED)
        return topic

    def _commit(self, chat_id: int, message: JSONDict) -> JSONDict:
        message["message_id"] = self._next_message_id(chat_id)
        self.messages[(chat_id, message["message_id"])] = message
        self._history.setdefault(chat_id, []).append(copy.deepcopy(message))
        return copy.deepcopy(message)

    def _input_file(
        self,
        params: JSONDict,
        files: dict[str, UploadedFile],
        name: str,
        kind: str,
    ) -> tuple[StoredFile, bool]:
        """The file a send* call refers to, and whether it is new (uploaded or fetched by URL)."""
        upload = files.get(name)
        value = params.get(name)
        if upload is None and isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value[len("attach://"):])
        if upload is not None:
            if not upload.content:
                raise _bad_request("file must be non-empty")
            limit = MAX_PHOTO_UPLOAD_SIZE if kind == "photo" else MAX_UPLOAD_SIZE
            if len(upload.content) > limit:
                raise _ApiError(413, "Request Entity Too Large")
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(upload.filename)[0] or mime
            return self._store_file(
                kind, upload.content, file_name=upload.filename, mime_type=mime), True
        if not isinstance(value, str) or not value:
            raise _bad_request(f"there is no {name} in the request")
        if value.startswith(("http://", "https://")):
            # No network here: a URL becomes an empty file the fake can still hand out.
            file_name = value.rsplit("/", 1)[-1] or None
            return self._store_file(
                kind, b"", file_name=file_name, mime_type=mimetypes.guess_type(value)[0]), True
        stored = self.files.get(value)
        if stored is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise _bad_request("type of file mismatch")
        return stored, False

    def _editable_message(self, params: JSONDict) -> tuple[int, JSONDict]:
        if params.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        message = self.messages.get((chat_id, message_id)) if isinstance(
            message_id, int) else None
        if message is None:
            raise _bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return chat_id, message

    def _store_edit(self, chat_id: int, message: JSONDict) -> JSONDict:
        message["edit_date"] = int(time.time())
        self._history.setdefault(chat_id, []).append(copy.deepcopy(message))
        self._changed()
        return copy.deepcopy(message)

    # ----------------------------------------------------------------------------------------
    # Methods
    # ----------------------------------------------------------------------------------------

    async def _get_me(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return dict(self.bot_user)

    async def _get_updates(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        if self.webhook is not None:
            raise _ApiError(409, WEBHOOK_CONFLICT)
        offset = _as_int(params.get("offset", 0), "offset")
        limit = min(max(_as_int(params.get("limit", 100), "limit"), 1), 100)
        try:
            timeout = max(float(params.get("timeout") or 0), 0.0)
        except (TypeError, ValueError):
            raise _bad_request("wrong parameter timeout in request") from None
        if "allowed_updates" in params and self.filters_updates:
            self._set_allowed_updates(params["allowed_updates"])
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        # Only one getUpdates may wait at a time; the newer one wins, as on the real server.
        self._wake_poller("conflict")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            batch = self._deliverable(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                return batch
            waiter: asyncio.Future[str] = loop.create_future()
            self._poll_waiter = waiter
            try:
                reason = await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                return []
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            if reason == "conflict":
                raise _ApiError(409, POLL_CONFLICT)
            if reason in ("closed", "webhook"):
                return []

    def _set_allowed_updates(self, value: Any) -> None:
        if isinstance(value, list) and value:
            self._allowed_updates = frozenset(str(v) for v in value)
        else:
            self._allowed_updates = None

    def _deliverable(self, limit: int) -> list[JSONDict]:
        def allowed(update: JSONDict) -> bool:
            kinds = set(update) - {"update_id"}
            if self._allowed_updates is None:
                return not kinds & DEFAULT_EXCLUDED_UPDATES
            return bool(kinds & self._allowed_updates)
        # Telegram never creates updates of types the bot opted out of, so drop them for good.
        self._pending = [u for u in self._pending if allowed(u)]
        return copy.deepcopy(self._pending[:limit])

    async def _set_webhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params, files)
        parts = urlsplit(url)
        if parts.scheme.lower() != "https":
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        try:
            port = parts.port
        except ValueError:
            port = -1
        if port not in (None, 80, 88, 443, 8443):
            raise _bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        if not parts.hostname:
            raise _bad_request("bad webhook: Failed to resolve host: Name or service not known")
        secret = params.get("secret_token")
        if secret not in (None, "") and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        max_connections = _as_int(params.get("max_connections", 40), "max_connections")
        if not 1 <= max_connections <= 100:
            raise _bad_request("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])
        already = self.webhook is not None and self.webhook.url == url
        self.webhook = WebhookConfig(
            url=url,
            secret_token=str(secret) if secret else None,
            max_connections=max_connections,
            allowed_updates=sorted(self._allowed_updates) if self._allowed_updates else None,
            ip_address=params.get("ip_address"),
        )
        self._wake_poller("webhook")
        return True, "Webhook is already set" if already else "Webhook was set"

    async def _delete_webhook(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        existed = self.webhook is not None
        self.webhook = None
        return True, "Webhook was deleted" if existed else "Webhook is already deleted"

    async def _get_webhook_info(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        info: JSONDict = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook is not None:
            info["max_connections"] = self.webhook.max_connections
            info["ip_address"] = self.webhook.ip_address or "127.0.0.1"
            if self.webhook.allowed_updates:
                info["allowed_updates"] = self.webhook.allowed_updates
        return info

    async def _send_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        chat_id = self._target_chat(params)
        text, entities = self._formatted(params, "text", "entities", MAX_MESSAGE_LENGTH, "message")
        if not text:
            raise _bad_request("message text is empty")
        markup = self._validated_markup(params.get("reply_markup"))
        message = self._new_bot_message(chat_id, params)
        message["text"] = text
        if entities:
            message["entities"] = entities
        if markup is not None:
            message["reply_markup"] = markup
        result = self._commit(chat_id, message)
        self._changed()
        return result

    async def _send_media(
        self, params: JSONDict, files: dict[str, UploadedFile], kind: str
    ) -> JSONDict:
        chat_id = self._target_chat(params)
        caption, entities = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption")
        markup = self._validated_markup(params.get("reply_markup"))
        message = self._new_bot_message(chat_id, params)
        stored, is_new = self._input_file(params, files, kind, kind)
        if kind == "photo" and is_new:
            # A new photo is stored in several sizes, like a user's; drop the single entry.
            del self.files[stored.file_id]
            message["photo"] = self._photo_sizes(stored.content, None)
        elif kind == "photo":
            message["photo"] = [{
                "file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": stored.file_size, "width": 1280, "height": 960}]
        else:
            message["document"] = self._document_json(stored)
        if caption:
            message["caption"] = caption
        if entities:
            message["caption_entities"] = entities
        if markup is not None:
            message["reply_markup"] = markup
        result = self._commit(chat_id, message)
        self._changed()
        return result

    async def _send_document(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return await self._send_media(params, files, "document")

    async def _send_photo(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return await self._send_media(params, files, "photo")

    async def _edit_message_text(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        chat_id, message = self._editable_message(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", "entities", MAX_MESSAGE_LENGTH, "message")
        if not text:
            raise _bad_request("message text is empty")
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        markup = self._validated_markup(params.get("reply_markup"), inline_only=True)
        if (text, entities, markup) == (
            message["text"], message.get("entities", []), message.get("reply_markup")
        ):
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message["text"] = text
        _set_or_drop(message, "entities", entities or None)
        _set_or_drop(message, "reply_markup", markup)
        return self._store_edit(chat_id, message)

    async def _edit_message_reply_markup(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> Any:
        chat_id, message = self._editable_message(params)
        markup = self._validated_markup(params.get("reply_markup"), inline_only=True)
        if markup == message.get("reply_markup"):
            raise _bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        _set_or_drop(message, "reply_markup", markup)
        return self._store_edit(chat_id, message)

    async def _delete_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int) or (chat_id, message_id) not in self.messages:
            raise _bad_request("message to delete not found")
        del self.messages[(chat_id, message_id)]
        self._changed()
        return True

    async def _answer_callback_query(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        query = self._queries.get(query_id)
        if query is None or query.answered:
            raise _bad_request(QUERY_INVALID.removeprefix("Bad Request: "))
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers[query_id] = {
            k: params[k] for k in ("text", "show_alert", "url", "cache_time") if k in params}
        self._changed()
        return True

    async def _get_file(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        file_id = str(params.get("file_id") or "")
        stored = self.files.get(file_id)
        if stored is None:
            raise _bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad_request("file is too big")
        self._issued_paths[stored.file_path] = file_id
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise _bad_request("can't parse BotCommandScope JSON object")
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad_request("invalid language code specified")
        return json.dumps(scope, sort_keys=True), language

    async def _set_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands specified")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            name = command.get("command")
            description = command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(params)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        self._changed()
        return True

    async def _get_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

    async def _delete_my_commands(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> Any:
        self.commands.pop(self._commands_key(params), None)
        self._changed()
        return True

    async def _send_chat_action(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        self._send_topic(self._target_chat(params), params, None)
        if params.get("action") not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    # Chats, members and topics ---------------------------------------------------------------

    async def _get_chat(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        chat_id = self._target_chat(params, writing=False)
        if chat_id not in self._chats and chat_id not in self._users:
            raise _bad_request("chat not found")
        chat = self._chat(chat_id)
        full: JSONDict = {
            **chat,
            "accent_color_id": abs(chat_id) % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                "premium_subscription": False, "gifts_from_channels": False,
            },
        }
        group = self._groups.get(chat_id)
        if group is not None:
            full["permissions"] = {
                p: group.permissions.get(p, p.startswith("can_send") or p in (
                    "can_add_web_page_previews", "can_react_to_messages"))
                for p in forum.MEMBER_PERMISSIONS}
        return full

    async def _get_chat_member(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        chat_id = self._target_chat(params, writing=False)
        user_id = params.get("user_id")
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
            raise _bad_request("invalid user_id specified")
        group = self._groups.get(chat_id)
        if user_id == self.bot_id:
            user = self._bot_as_user()
        elif user_id in self._users:
            user = dict(self._users[user_id])
        else:
            # Telegram finds only users the bot has met (in a chat, or as a group's member).
            raise _bad_request(forum.USER_NOT_FOUND)
        if group is not None:
            member = group.members.get(user_id, Member("left"))
        elif chat_id > 0:
            member = Member("member" if user_id in (chat_id, self.bot_id) else "left")
        else:
            member = Member("member" if user_id == self.bot_id else "left")
        return forum.member_json(user, member)

    async def _get_chat_administrators(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> Any:
        chat_id = self._target_chat(params, writing=False)
        if chat_id > 0:
            raise _bad_request("there are no administrators in the private chat")
        group = self._groups.get(chat_id)
        if group is None:
            return []
        admins = sorted(
            (uid for uid, m in group.members.items() if m.status in ("creator", "administrator")),
            key=lambda uid: (group.members[uid].status != "creator", uid))
        return [
            forum.member_json(
                self._bot_as_user() if uid == self.bot_id else dict(self._user(uid)),
                group.members[uid])
            for uid in admins]

    async def _create_forum_topic(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        group = self._forum(self._target_chat(params))
        if not group.may_create_topics(self.bot_id):
            raise _bad_request(forum.NO_RIGHTS_TO_CREATE)
        name = self._topic_name(params.get("name"))
        if not name:
            raise _bad_request(forum.NAME_EMPTY)
        color = _as_int(params.get("icon_color") or 0, "icon_color")
        if not 0 <= color <= 0xFFFFFF:
            raise _bad_request("invalid icon color specified")
        if color not in forum.ICON_COLORS:
            color = forum.ICON_COLORS[len(group.topics) % len(forum.ICON_COLORS)]
        emoji = str(params.get("icon_custom_emoji_id") or "") or None
        topic = self._open_topic(group, name, color, emoji, self._bot_as_user())
        return topic.forum_topic()

    async def _edit_forum_topic(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        group, topic = self._managed_topic(params, forum.NO_RIGHTS_TO_EDIT)
        raw_name = params.get("name")
        edit_name = raw_name not in (None, "")
        name = self._topic_name(raw_name) if edit_name else ""
        if edit_name and not name:
            raise _bad_request(forum.NAME_EMPTY)
        edit_icon = "icon_custom_emoji_id" in params
        if not edit_name and not edit_icon:
            return True  # nothing asked: TDLib answers at once
        if topic is None:
            raise _bad_request(forum.TOPIC_ID_INVALID)
        new_name = name if edit_name else topic.name
        new_emoji = (str(params["icon_custom_emoji_id"] or "") or None) if edit_icon else (
            topic.icon_custom_emoji_id)
        if (new_name, new_emoji) == (topic.name, topic.icon_custom_emoji_id):
            raise _bad_request(forum.TOPIC_NOT_MODIFIED)
        edited: JSONDict = {}
        if edit_name:
            edited["name"] = new_name
        if edit_icon:
            edited["icon_custom_emoji_id"] = new_emoji or ""
        if new_name != topic.name:
            topic.names.append(new_name)
        topic.name, topic.icon_custom_emoji_id = new_name, new_emoji
        self._post_service(group, topic, self._bot_as_user(), {"forum_topic_edited": edited})
        return True

    async def _close_forum_topic(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return self._toggle_topic(params, closed=True)

    async def _reopen_forum_topic(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        return self._toggle_topic(params, closed=False)

    async def _delete_forum_topic(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        group = self._forum(self._target_chat(params))
        topic = group.live_topic(self._thread_param(params))
        if not group.may(self.bot_id, "can_delete_messages") and topic is not None:
            # TDLib refuses others' topics itself; the server, the bot's own.
            raise _bad_request(
                forum.ADMIN_REQUIRED if topic.creator_id == self.bot_id else forum.NO_RIGHTS_TO_DELETE)
        if topic is None:
            raise _bad_request(forum.TOPIC_ID_INVALID)
        self._remove_topic(group, topic)
        return True

    def _toggle_topic(self, params: JSONDict, *, closed: bool) -> bool:
        group, topic = self._managed_topic(params, forum.NO_RIGHTS_TO_CLOSE)
        if topic is None:
            raise _bad_request(forum.TOPIC_ID_INVALID)
        if topic.closed == closed:
            raise _bad_request(forum.TOPIC_NOT_MODIFIED)
        topic.closed = closed
        event = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._post_service(group, topic, self._bot_as_user(), {event: {}})
        return True

    def _managed_topic(
        self, params: JSONDict, no_rights: str
    ) -> tuple[Group, ForumTopicRecord | None]:
        """The forum and live topic a topic method names, after the bot's rights are checked:
        managing a topic needs can_manage_topics unless the bot created it."""
        group = self._forum(self._target_chat(params))
        topic = group.live_topic(self._thread_param(params))
        if (topic is not None and topic.creator_id != self.bot_id
                and not group.may(self.bot_id, "can_manage_topics")):
            raise _bad_request(no_rights)
        return group, topic

    def _forum(self, chat_id: int) -> Group:
        group = self._groups.get(chat_id)
        if group is None or not group.is_forum:
            raise _bad_request(forum.NOT_A_FORUM)
        return group

    @staticmethod
    def _thread_param(params: JSONDict) -> int:
        thread_id = params.get("message_thread_id")
        if not isinstance(thread_id, int) or isinstance(thread_id, bool) or thread_id <= 0:
            raise _bad_request(forum.THREAD_ID_INVALID)
        return thread_id

    def _topic_name(self, raw: Any) -> str:
        name = "" if raw is None else str(raw)
        if self.strict_topic_names and len(name) > forum.MAX_TOPIC_NAME:
            raise _bad_request(
                "topic name is longer than 128 characters (the fake's strict_topic_names;"
                " Telegram would cut it)")
        return forum.clean_topic_name(name)

    def _bot_as_user(self) -> JSONDict:
        return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

    def _open_topic(
        self, group: Group, name: str, color: int, emoji: str | None, creator: JSONDict
    ) -> ForumTopicRecord:
        """Create a topic: its first message, a service message, is the thread's id."""
        thread_id = self._next_message_id(group.chat_id)
        topic = ForumTopicRecord(
            chat_id=group.chat_id, thread_id=thread_id, name=name, icon_color=color,
            creator_id=int(creator["id"]), icon_custom_emoji_id=emoji, names=[name])
        group.topics[thread_id] = topic
        created: JSONDict = {"name": name, "icon_color": color}
        if emoji:
            created["icon_custom_emoji_id"] = emoji
        self.messages[(group.chat_id, thread_id)] = {
            "message_id": thread_id,
            "from": dict(creator),
            "chat": self._chat(group.chat_id),
            "date": int(time.time()),
            "message_thread_id": thread_id,
            "forum_topic_created": created,
            "is_topic_message": True,
        }
        self._changed()
        return topic

    def _post_service(
        self, group: Group, topic: ForumTopicRecord, sender: JSONDict, content: JSONDict
    ) -> JSONDict:
        """A service message in the topic (closed, reopened, edited), as Telegram posts it."""
        chat_id = group.chat_id
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(sender),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "message_thread_id": topic.thread_id,
        }
        created = self.messages.get((chat_id, topic.thread_id))
        if created is not None:
            message["reply_to_message"] = self._without_reply(created)
        message.update(content)
        message["is_topic_message"] = True
        self.messages[(chat_id, message["message_id"])] = message
        self._changed()
        return message

    def _remove_topic(self, group: Group, topic: ForumTopicRecord) -> None:
        """Delete a topic with every message in it."""
        topic.deleted = True
        for key in [k for k, m in self.messages.items()
                    if k[0] == group.chat_id and m.get("message_thread_id") == topic.thread_id]:
            del self.messages[key]
        self._changed()


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _set_or_drop(target: JSONDict, key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _as_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise _bad_request(f"wrong parameter {name} in request")
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise _bad_request(f"wrong parameter {name} in request") from None


def _coerce_params(raw: JSONDict, from_json: bool) -> JSONDict:
    """Give form fields their API types; JSON bodies only need nested JSON strings decoded."""
    params: JSONDict = {}
    for key, value in raw.items():
        if key in _JSON_FIELDS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                if key == "reply_markup":
                    raise _bad_request("can't parse reply keyboard markup JSON object") from None
                raise _bad_request(f"can't parse {key} JSON object") from None
        elif key == "chat_id" and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            value = int(value)
        elif not from_json and isinstance(value, str):
            if key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif key in _FLOAT_FIELDS:
                try:
                    value = float(value)
                except ValueError:
                    raise _bad_request(f"wrong parameter {key} in request") from None
            elif key in _BOOL_FIELDS:
                value = value.lower() in ("true", "1")
        params[key] = value
    return params
