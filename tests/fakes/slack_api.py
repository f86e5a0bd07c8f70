"""A fake Slack Web API on 127.0.0.1, and a signer that drives a Bolt app the way Slack does.

Tests run the *real* ``slack_sdk.web.async_client.AsyncWebClient`` and the real
``slack_bolt.async_app.AsyncApp`` against these, so the code under test goes
through the same request encoding, signature checks and error handling as in
production, without any network.

``FakeSlackAPI``
    An aiohttp server that answers ``/api/<method>`` like slack.com does:
    HTTP 200 with ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``,
    404 ``unknown_method``, 429 + ``Retry-After`` on demand.  It holds a small
    workspace (users, channels, user groups, DMs, messages, files), validates
    Block Kit limits, records every call, also serves the file upload URL,
    ``url_private_download`` links and ``response_url`` webhooks.

    Usage::

        async with FakeSlackAPI() as api:
            api.add_user("U1", "alice", locale="cs-CZ")
            api.add_channel("C1", "helpdesk", members=["U1"])
            client = AsyncWebClient(token=api.bot_token, base_url=api.base_url)

``SlackEventSender``
    Builds real-shaped Events API, interactivity and slash-command payloads,
    signs them (v0 HMAC-SHA256, via ``slack_sdk.signature.SignatureVerifier``)
    and POSTs them to a Bolt app's HTTP endpoint; it can also forge or omit
    the signature, age the timestamp and add ``X-Slack-Retry-*`` headers.

``serve_bolt_app``
    Serves an ``AsyncApp`` over HTTP on a free port, wired exactly as
    slack_bolt's own aiohttp server does it.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
import json
import mimetypes
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, TypedDict, TypeVar, Unpack
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import ClientSession, ClientTimeout, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

JSON = dict[str, Any]
T = TypeVar("T")

#: Pseudo-method names under which the non-``/api/`` endpoints are recorded in
#: ``FakeSlackAPI.calls`` and can be targeted by ``fail_next``/``delay_next``.
UPLOAD: Final = "upload"
DOWNLOAD: Final = "download"
RESPONSE_URL: Final = "response_url"

# Limits as documented for Block Kit and chat.* methods.
MAX_BLOCKS_IN_MESSAGE: Final = 50
MAX_BLOCKS_IN_VIEW: Final = 100
MAX_MESSAGE_TEXT: Final = 40_000
MAX_SECTION_TEXT: Final = 3_000
MAX_SECTION_FIELD_TEXT: Final = 2_000
MAX_SECTION_FIELDS: Final = 10
MAX_HEADER_TEXT: Final = 150
MAX_CONTEXT_ELEMENTS: Final = 10
MAX_CONTEXT_TEXT: Final = 3_000
MAX_ACTIONS_ELEMENTS: Final = 25
MAX_BUTTON_TEXT: Final = 75
MAX_BUTTON_VALUE: Final = 2_000
MAX_URL: Final = 3_000
MAX_ACTION_ID: Final = 255
MAX_BLOCK_ID: Final = 255
MAX_PLACEHOLDER: Final = 150
MAX_OPTION_TEXT: Final = 75
MAX_OPTION_VALUE: Final = 150
MAX_SELECT_OPTIONS: Final = 100
MAX_ALT_TEXT: Final = 2_000
MAX_INPUT_LABEL: Final = 2_000
MAX_MARKDOWN_BLOCK: Final = 12_000
MAX_VIEW_TITLE: Final = 24

_FIRST_TS_MICROS: Final = 1_700_000_000_000_000
_TS_STEP_MICROS: Final = 100
_JSON_PARAMS: Final = ("blocks", "attachments", "files", "view", "metadata", "outputs")


# --------------------------------------------------------------------------------------
# Workspace model


@dataclass
class FakeUser:
    """A workspace member as ``users.info`` describes it."""

    id: str
    name: str
    real_name: str = ""
    locale: str = "en-US"
    is_bot: bool = False
    tz: str = "UTC"
    deleted: bool = False
    email: str | None = None
    display_name: str = ""
    bot_id: str | None = None

    def to_api(self, team_id: str, *, include_locale: bool) -> JSON:
        profile: JSON = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "status_text": "",
            "status_emoji": "",
            "team": team_id,
            "image_48": f"https://avatars.example/{self.id}_48.png",
        }
        if self.email is not None:
            profile["email"] = self.email
        if self.bot_id is not None:
            profile["bot_id"] = self.bot_id
        user: JSON = {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": _tz_offset(self.tz),
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_690_000_000,
        }
        # Slack only reveals the locale when asked with include_locale=true.
        if include_locale:
            user["locale"] = self.locale
        return user


@dataclass
class FakeChannel:
    """A conversation: public/private channel, DM (``is_im``) or group DM (``is_mpim``)."""

    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_archived: bool = False
    im_user: str | None = None
    created: int = 1_690_000_000

    def to_api(self, bot_user_id: str) -> JSON:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
                "is_open": True,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_mpim,
            "is_group": False,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_mpim,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": bot_user_id in self.members,
            "num_members": len(self.members),
            "created": self.created,
            "creator": "",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class FakeUsergroup:
    """A user group (``@handle``)."""

    id: str
    handle: str
    users: list[str] = field(default_factory=list)
    name: str = ""


@dataclass
class RecordedCall:
    """One request the fake received (Web API method or pseudo-method)."""

    method: str
    params: JSON
    received_at: float  # time.monotonic()
    http_method: str
    token: str | None
    status: int | None = None
    response: JSON | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response and self.response.get("ok"))


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None


@dataclass
class _PendingUpload:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None
    snippet_type: str | None
    content: bytes | None = None


@dataclass
class _StoredFile:
    obj: JSON
    content: bytes


@dataclass
class _ResponseUrlContext:
    kind: str  # "actions" | "commands"
    channel: str | None
    user: str | None
    message_ts: str | None
    uses: int = 0


class _SlackError(Exception):
    """Raised by method handlers; becomes ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, *, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra

    def body(self) -> JSON:
        return {"ok": False, "error": self.error, **self.extra}


# --------------------------------------------------------------------------------------
# Block Kit validation


def validate_blocks(blocks: Any, *, max_blocks: int = MAX_BLOCKS_IN_MESSAGE, pointer: str = "/blocks") -> list[str]:
    """Check ``blocks`` against Block Kit limits; return Slack-style error strings (empty if valid).

    Covers the limits a help desk bot can realistically hit; it is not a full schema.
    """
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        path = f"{pointer}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            errors.append(f"must provide an object with a type [json-pointer:{path}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not 1 <= len(block_id) <= MAX_BLOCK_ID:
                errors.append(f"must be 1..{MAX_BLOCK_ID} characters [json-pointer:{path}/block_id]")
            elif block_id in seen_block_ids:
                errors.append(f"duplicate block_id '{block_id}' [json-pointer:{path}/block_id]")
            else:
                seen_block_ids.add(block_id)
        validator = _BLOCK_VALIDATORS.get(block["type"])
        if validator is None:
            errors.append(f"unsupported type: {block['type']} [json-pointer:{path}/type]")
        else:
            errors.extend(validator(block, path))
    return errors


def _length_errors(value: Any, path: str, max_len: int, *, min_len: int = 1) -> list[str]:
    if not isinstance(value, str):
        return [f"must be a string [json-pointer:{path}]"]
    if len(value) < min_len:
        return [f"must be more than {min_len - 1} characters [json-pointer:{path}]"]
    if len(value) > max_len:
        return [f"must be less than {max_len + 1} characters [json-pointer:{path}]"]
    return []


def _text_object_errors(obj: Any, path: str, max_len: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [f"must be a text object [json-pointer:{path}]"]
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in allowed:
        return [f"must be one of {list(allowed)} [json-pointer:{path}/type]"]
    return _length_errors(obj.get("text"), f"{path}/text", max_len)


def _option_errors(option: Any, path: str, *, plain_only: bool = True) -> list[str]:
    if not isinstance(option, dict):
        return [f"must be an option object [json-pointer:{path}]"]
    errors = _text_object_errors(option.get("text"), f"{path}/text", MAX_OPTION_TEXT, plain_only=plain_only)
    errors += _length_errors(option.get("value"), f"{path}/value", MAX_OPTION_VALUE)
    return errors


def _options_errors(options: Any, path: str, *, min_items: int, max_items: int, plain_only: bool = True) -> list[str]:
    if not isinstance(options, list):
        return [f"must be an array [json-pointer:{path}]"]
    if not min_items <= len(options) <= max_items:
        return [f"must have {min_items}..{max_items} items [json-pointer:{path}]"]
    errors: list[str] = []
    for i, option in enumerate(options):
        errors += _option_errors(option, f"{path}/{i}", plain_only=plain_only)
    return errors


_PLACEHOLDER_ELEMENTS: Final = frozenset(
    {
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "external_select",
        "multi_external_select",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
        "workflow_button",
    }
)


def _element_errors(element: Any, path: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"must provide an object with a type [json-pointer:{path}]"]
    kind = element["type"]
    errors: list[str] = []
    if "action_id" in element:
        errors += _length_errors(element["action_id"], f"{path}/action_id", MAX_ACTION_ID)
    if kind == "button":
        errors += _text_object_errors(element.get("text"), f"{path}/text", MAX_BUTTON_TEXT, plain_only=True)
        if "value" in element:
            errors += _length_errors(element["value"], f"{path}/value", MAX_BUTTON_VALUE)
        if "url" in element:
            errors += _length_errors(element["url"], f"{path}/url", MAX_URL)
        if "style" in element and element["style"] not in ("primary", "danger"):
            errors.append(f"must be one of ['primary', 'danger'] [json-pointer:{path}/style]")
    elif kind in ("static_select", "multi_static_select"):
        if "placeholder" in element:
            errors += _placeholder_errors(element["placeholder"], path)
        if "option_groups" in element:
            for g, group in enumerate(element["option_groups"] or []):
                group_options = (group or {}).get("options")
                group_path = f"{path}/option_groups/{g}/options"
                errors += _options_errors(group_options, group_path, min_items=1, max_items=MAX_SELECT_OPTIONS)
        else:
            options_path = f"{path}/options"
            errors += _options_errors(element.get("options"), options_path, min_items=1, max_items=MAX_SELECT_OPTIONS)
    elif kind == "overflow":
        errors += _options_errors(element.get("options"), f"{path}/options", min_items=1, max_items=5)
    elif kind in ("checkboxes", "radio_buttons"):
        errors += _options_errors(
            element.get("options"), f"{path}/options", min_items=1, max_items=10, plain_only=False
        )
    elif kind == "image":
        errors += _image_errors(element, path)
    elif kind in _PLACEHOLDER_ELEMENTS:
        if "placeholder" in element:
            errors += _placeholder_errors(element["placeholder"], path)
    else:
        errors.append(f"unsupported type: {kind} [json-pointer:{path}/type]")
    return errors


def _placeholder_errors(placeholder: Any, path: str) -> list[str]:
    return _text_object_errors(placeholder, f"{path}/placeholder", MAX_PLACEHOLDER, plain_only=True)


def _image_errors(obj: JSON, path: str) -> list[str]:
    errors: list[str] = []
    if "image_url" in obj:
        errors += _length_errors(obj["image_url"], f"{path}/image_url", MAX_URL)
    elif "slack_file" not in obj:
        errors.append(f"must provide image_url or slack_file [json-pointer:{path}]")
    errors += _length_errors(obj.get("alt_text"), f"{path}/alt_text", MAX_ALT_TEXT)
    return errors


def _section_errors(block: JSON, path: str) -> list[str]:
    errors: list[str] = []
    if "text" not in block and "fields" not in block:
        errors.append(f"must provide text or fields [json-pointer:{path}]")
    if "text" in block:
        errors += _text_object_errors(block["text"], f"{path}/text", MAX_SECTION_TEXT)
    if "fields" in block:
        fields = block["fields"]
        if not isinstance(fields, list) or not 1 <= len(fields) <= MAX_SECTION_FIELDS:
            errors.append(f"must have 1..{MAX_SECTION_FIELDS} items [json-pointer:{path}/fields]")
        else:
            for i, item in enumerate(fields):
                errors += _text_object_errors(item, f"{path}/fields/{i}", MAX_SECTION_FIELD_TEXT)
    if "accessory" in block:
        errors += _element_errors(block["accessory"], f"{path}/accessory")
    return errors


def _header_errors(block: JSON, path: str) -> list[str]:
    return _text_object_errors(block.get("text"), f"{path}/text", MAX_HEADER_TEXT, plain_only=True)


def _actions_errors(block: JSON, path: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_ACTIONS_ELEMENTS:
        return [f"must have 1..{MAX_ACTIONS_ELEMENTS} items [json-pointer:{path}/elements]"]
    errors: list[str] = []
    seen: set[str] = set()
    for i, element in enumerate(elements):
        errors += _element_errors(element, f"{path}/elements/{i}")
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                errors.append(f"duplicate action_id '{action_id}' [json-pointer:{path}/elements/{i}/action_id]")
            seen.add(action_id)
    return errors


def _context_errors(block: JSON, path: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
        return [f"must have 1..{MAX_CONTEXT_ELEMENTS} items [json-pointer:{path}/elements]"]
    errors: list[str] = []
    for i, element in enumerate(elements):
        if isinstance(element, dict) and element.get("type") == "image":
            errors += _image_errors(element, f"{path}/elements/{i}")
        else:
            errors += _text_object_errors(element, f"{path}/elements/{i}", MAX_CONTEXT_TEXT)
    return errors


def _image_block_errors(block: JSON, path: str) -> list[str]:
    errors = _image_errors(block, path)
    if "title" in block:
        errors += _text_object_errors(block["title"], f"{path}/title", MAX_ALT_TEXT, plain_only=True)
    return errors


def _input_errors(block: JSON, path: str) -> list[str]:
    errors = _text_object_errors(block.get("label"), f"{path}/label", MAX_INPUT_LABEL, plain_only=True)
    if "hint" in block:
        errors += _text_object_errors(block["hint"], f"{path}/hint", MAX_INPUT_LABEL, plain_only=True)
    errors += _element_errors(block.get("element"), f"{path}/element")
    return errors


def _markdown_errors(block: JSON, path: str) -> list[str]:
    return _length_errors(block.get("text"), f"{path}/text", MAX_MARKDOWN_BLOCK)


def _no_errors(block: JSON, path: str) -> list[str]:
    return []


_BLOCK_VALIDATORS: Final[dict[str, Callable[[JSON, str], list[str]]]] = {
    "section": _section_errors,
    "header": _header_errors,
    "actions": _actions_errors,
    "context": _context_errors,
    "divider": _no_errors,
    "image": _image_block_errors,
    "input": _input_errors,
    "markdown": _markdown_errors,
    "rich_text": _no_errors,
    "file": _no_errors,
    "video": _no_errors,
    "table": _no_errors,
}


# --------------------------------------------------------------------------------------
# Small helpers


def _tz_offset(tz: str) -> int:
    try:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds()) if offset is not None else 0


def _format_ts(micros: int) -> str:
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _parse_ts(ts: str) -> int:
    seconds, _, fraction = ts.partition(".")
    return int(seconds) * 1_000_000 + int((fraction or "0").ljust(6, "0")[:6])


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def _str_param(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    return str(value)


def _int_param(params: Mapping[str, Any], name: str, default: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _SlackError("invalid_arguments") from None


def _csv(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        kind, _, offset = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        if kind != "offset":
            raise ValueError(kind)
        return int(offset)
    except (ValueError, UnicodeDecodeError):
        raise _SlackError("invalid_cursor") from None


def _paginate(
    items: list[T], params: Mapping[str, Any], *, default_limit: int, max_limit: int = 1000
) -> tuple[list[T], str]:
    limit = _int_param(params, "limit", default_limit) or default_limit
    limit = max(1, min(limit, max_limit))
    start = _decode_cursor(_str_param(params, "cursor"))
    page = items[start : start + limit]
    next_cursor = _encode_cursor(start + limit) if start + limit < len(items) else ""
    return page, next_cursor


def _rich_text_blocks(text: str) -> list[JSON]:
    """The ``rich_text`` block Slack attaches to messages typed in the client."""
    return [
        {
            "type": "rich_text",
            "block_id": uuid.uuid4().hex[:5],
            "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
        }
    ]


# --------------------------------------------------------------------------------------
# The fake Web API


MethodHandler = Callable[[JSON], JSON]


class FakeSlackAPI:
    """A fake ``https://slack.com/api/`` (plus files/hooks hosts) served on 127.0.0.1.

    Pass ``base_url`` to ``AsyncWebClient(token, base_url=...)``.  Web API
    requests are accepted in every encoding slack_sdk uses: JSON body,
    form-encoded body, multipart, or parameters in the query string (which is
    what slack_sdk does for methods it sends with ``params=``, even as POST).
    The token is taken from ``Authorization: Bearer`` or a ``token`` parameter.
    """

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        *,
        team_id: str = "TFAKE0001",
        team_name: str = "Fake Help Desk",
        team_domain: str = "fake-helpdesk",
        bot_user_id: str = "UBOT00001",
        bot_id: str = "BBOT00001",
        bot_name: str = "helpdesk",
        app_id: str = "AFAKE0001",
        scopes: str = "chat:write,im:write,users:read,usergroups:read,channels:read,groups:read,"
        "im:read,channels:join,channels:history,groups:history,im:history,files:read,files:write,commands",
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.scopes = scopes

        self.users: dict[str, FakeUser] = {}
        self.channels: dict[str, FakeChannel] = {}
        self.usergroups: dict[str, FakeUsergroup] = {}
        self.calls: list[RecordedCall] = []
        #: Ephemeral messages from chat.postEphemeral and ephemeral response_url replies.
        self.ephemerals: list[JSON] = []
        #: Every JSON body POSTed to a response_url, with ``"url"`` added.
        self.responses: list[JSON] = []
        #: Views from views.open/push/update/publish, in order.
        self.views: list[JSON] = []
        #: ``(channel, thread_ts, ts)`` of posts whose thread_ts matched no message.
        self.unknown_thread_posts: list[tuple[str, str, str]] = []

        self._dms: dict[str, str] = {}
        self._messages: dict[str, list[JSON]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._pending_uploads: dict[str, _PendingUpload] = {}
        self._response_urls: dict[str, _ResponseUrlContext] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._last_ts_micros = _FIRST_TS_MICROS
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

        self.add_user(bot_user_id, bot_name, real_name=bot_name, is_bot=True, bot_id=bot_id)
        self._methods: dict[str, MethodHandler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.open": self._conversations_open,
            "conversations.members": self._conversations_members,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.replies": self._conversations_replies,
            "conversations.history": self._conversations_history,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.info": self._files_info,
        }

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{key}", self._handle_upload)
        app.router.add_get("/files-pri/{team_file}/{tail:.*}", self._handle_download)
        app.router.add_post("/hooks/{kind}/{key}", self._handle_response_url)
        app.router.add_get("/signin", self._handle_signin)
        # A short shutdown timeout: a test that left a delayed call in flight must not hang teardown.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlackAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def root_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeSlackAPI is not started")
        return f"http://127.0.0.1:{self._port}/"

    @property
    def base_url(self) -> str:
        """Web API base URL, for ``AsyncWebClient(base_url=...)``."""
        return f"{self.root_url}api/"

    # -- workspace setup ----------------------------------------------------------------

    def add_user(
        self,
        id: str,
        name: str,
        *,
        real_name: str | None = None,
        locale: str = "en-US",
        is_bot: bool = False,
        tz: str = "UTC",
        email: str | None = None,
        display_name: str = "",
        deleted: bool = False,
        bot_id: str | None = None,
    ) -> FakeUser:
        user = FakeUser(
            id=id,
            name=name,
            real_name=real_name if real_name is not None else name.title(),
            locale=locale,
            is_bot=is_bot,
            tz=tz,
            deleted=deleted,
            email=email,
            display_name=display_name,
            bot_id=bot_id,
        )
        self.users[id] = user
        return user

    def add_channel(
        self,
        id: str,
        name: str,
        *,
        members: Iterable[str] = (),
        is_private: bool = False,
        bot_is_member: bool = True,
        is_archived: bool = False,
    ) -> FakeChannel:
        """Add a channel; the bot user is added to ``members`` unless ``bot_is_member=False``."""
        member_list = list(members)
        if bot_is_member and self.bot_user_id not in member_list:
            member_list.append(self.bot_user_id)
        channel = FakeChannel(id=id, name=name, members=member_list, is_private=is_private, is_archived=is_archived)
        self.channels[id] = channel
        self._messages.setdefault(id, [])
        return channel

    def add_usergroup(self, id: str, handle: str, users: Iterable[str] = (), *, name: str = "") -> FakeUsergroup:
        group = FakeUsergroup(id=id, handle=handle, users=list(users), name=name or handle)
        self.usergroups[id] = group
        return group

    def open_dm(self, user_id: str) -> str:
        """The bot's DM channel id with ``user_id`` (what conversations.open returns), created on demand."""
        if user_id not in self._dms:
            channel_id = self._new_id("D")
            self.channels[channel_id] = FakeChannel(
                id=channel_id, name=channel_id, members=[user_id, self.bot_user_id], is_im=True, im_user=user_id
            )
            self._messages[channel_id] = []
            self._dms[user_id] = channel_id
        return self._dms[user_id]

    def add_message(
        self,
        channel: str,
        text: str = "",
        *,
        user: str,
        ts: str | None = None,
        thread_ts: str | None = None,
        files: list[JSON] | None = None,
        blocks: list[JSON] | None = None,
    ) -> JSON:
        """Store a message as if ``user`` had typed it in Slack; returns it (with its ``ts``)."""
        if channel not in self.channels:
            raise KeyError(f"unknown channel {channel}")
        message: JSON = {"type": "message", "user": user, "text": text, "team": self.team_id}
        message["blocks"] = blocks if blocks is not None else _rich_text_blocks(text)
        if files:
            message["files"] = files
            message["upload"] = False
        self._store_message(channel, message, ts=ts, thread_ts=thread_ts)
        return copy.deepcopy(message)

    def add_file(
        self,
        name: str,
        content: bytes,
        *,
        user: str,
        title: str | None = None,
        mimetype: str | None = None,
    ) -> JSON:
        """Store a user-uploaded file; returns its Slack file object (``url_private_download`` points here)."""
        file_id = self._new_id("F")
        obj = self._file_object(file_id, name, title or name, len(content), user=user, mimetype=mimetype)
        self._files[file_id] = _StoredFile(obj=obj, content=content)
        return copy.deepcopy(obj)

    def next_ts(self) -> str:
        """A fresh message ts, later than every ts seen so far."""
        self._last_ts_micros += _TS_STEP_MICROS
        return _format_ts(self._last_ts_micros)

    def response_url(
        self,
        kind: str = "actions",
        *,
        channel: str | None = None,
        user: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """Issue a response_url; POSTs to it are recorded and applied to ``message_ts`` in ``channel``."""
        key = uuid.uuid4().hex
        self._response_urls[key] = _ResponseUrlContext(kind=kind, channel=channel, user=user, message_ts=message_ts)
        return f"{self.root_url}hooks/{kind}/{key}"

    # -- faults -------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error: str | None = None,
        *,
        retry_after: int | None = 3,
        count: int = 1,
        status: int | None = None,
    ) -> None:
        """Make the next ``count`` calls to ``method`` fail.

        Defaults to a rate limit (429, ``Retry-After: 3``, ``ratelimited``).
        ``status=500`` gives a server error; ``error="x"`` without a status gives
        Slack's usual HTTP 200 ``{"ok": false, "error": "x"}``.
        """
        if status is None:
            status = 429 if error in (None, "ratelimited") else 200
        if error is None:
            if status == 429:
                error = "ratelimited"
            elif status >= 500:
                error = "internal_error"
            else:
                raise ValueError("fail_next needs an error code for a non-429, non-5xx status")
        queue = self._failures.setdefault(method, deque())
        for _ in range(count):
            queue.append(_Failure(status=status, error=error, retry_after=retry_after if status == 429 else None))

    def delay_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        """Make the next ``count`` calls to ``method`` wait ``seconds`` before answering."""
        queue = self._delays.setdefault(method, deque())
        queue.extend([seconds] * count)

    # -- inspection ---------------------------------------------------------------------

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    def messages_in(self, channel: str, thread_ts: str | None = None) -> list[JSON]:
        """Current messages (edits applied, deletions gone), oldest first.

        Without ``thread_ts``: every message in the channel, thread replies included.
        With it: that thread, parent first (like conversations.replies).
        """
        messages = self._messages.get(channel, [])
        if thread_ts is not None:
            messages = [m for m in messages if m["ts"] == thread_ts or m.get("thread_ts") == thread_ts]
        return copy.deepcopy(messages)

    def get_message(self, channel: str, ts: str) -> JSON | None:
        """The current state of one message, or None if it does not exist (any more)."""
        message = self._find_message(channel, ts)
        return copy.deepcopy(message) if message is not None else None

    def file_content(self, file_id: str) -> bytes:
        return self._files[file_id].content

    def file_info(self, file_id: str) -> JSON:
        return copy.deepcopy(self._files[file_id].obj)

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy (re-checked whenever the fake's state changes); return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [f"{c.method} -> {c.status}" for c in self.calls[-10:]]
                raise TimeoutError(f"condition not met within {timeout}s; last calls: {recent}")
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                pass

    async def wait_for_call(
        self, method: str, predicate: Callable[[RecordedCall], bool] | None = None, timeout: float = 5.0
    ) -> RecordedCall:
        """Wait for an answered call to ``method`` (matching ``predicate``) and return it."""

        def find() -> RecordedCall | None:
            for call in self.calls:
                if call.method == method and call.status is not None and (predicate is None or predicate(call)):
                    return call
            return None

        found = await self.wait_for(find, timeout)
        assert found is not None
        return found

    # -- HTTP plumbing ------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def _record(self, method: str, params: JSON, request: web.Request, token: str | None) -> RecordedCall:
        call = RecordedCall(
            method=method, params=params, received_at=time.monotonic(), http_method=request.method, token=token
        )
        self.calls.append(call)
        self._notify()
        return call

    def _finish(self, call: RecordedCall, status: int, body: JSON) -> None:
        call.status = status
        call.response = body
        self._notify()

    async def _apply_faults(self, method: str) -> _Failure | None:
        delays = self._delays.get(method)
        if delays:
            await asyncio.sleep(delays.popleft())
        failures = self._failures.get(method)
        return failures.popleft() if failures else None

    @staticmethod
    def _failure_response(failure: _Failure) -> tuple[int, JSON, dict[str, str]]:
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        return failure.status, {"ok": False, "error": failure.error}, headers

    @staticmethod
    def _bearer(request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip() or None
        return None

    @staticmethod
    async def _read_params(request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                raw = await request.read()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise _SlackError("invalid_json") from None
                    if not isinstance(body, dict):
                        raise _SlackError("invalid_json")
                    params.update(body)
            elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                for key, value in form.items():
                    params[key] = value.file.read() if isinstance(value, web.FileField) else value
        for key in _JSON_PARAMS:
            # Form/query encodings carry structured params as JSON strings.
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass  # left as a string; the method handler reports the format error
        return params

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await self._read_params(request)
        except _SlackError as e:
            params, parse_error = {}, e
        else:
            parse_error = None
        token = self._bearer(request) or _str_param(params, "token")
        params.pop("token", None)
        call = self._record(method, params, request, token)

        headers: dict[str, str] = {}
        failure = await self._apply_faults(method)
        if failure is not None:
            status, body, headers = self._failure_response(failure)
        elif method not in self._methods:
            status, body = 404, {"ok": False, "error": "unknown_method", "req_method": method}
        elif token is None:
            status, body = 200, {"ok": False, "error": "not_authed"}
        elif token != self.bot_token:
            status, body = 200, {"ok": False, "error": "invalid_auth"}
        elif parse_error is not None:
            status, body = parse_error.status, parse_error.body()
        else:
            try:
                status, body = 200, self._methods[method](params)
            except _SlackError as e:
                status, body = e.status, e.body()
            headers["X-OAuth-Scopes"] = self.scopes
        self._finish(call, status, body)
        return web.json_response(body, status=status, headers=headers)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        if request.content_type == "multipart/form-data":
            form = await request.post()
            field_value = form.get("file")
            content = field_value.file.read() if isinstance(field_value, web.FileField) else b""
        else:
            content = await request.read()
        call = self._record(UPLOAD, {"key": key, "size": len(content)}, request, self._bearer(request))
        failure = await self._apply_faults(UPLOAD)
        if failure is not None:
            status, body, headers = self._failure_response(failure)
            self._finish(call, status, body)
            return web.Response(status=status, text=failure.error, headers=headers)
        pending = self._pending_uploads.get(key)
        if pending is None:
            self._finish(call, 404, {"ok": False, "error": "upload_url_not_found"})
            return web.Response(status=404, text="Not Found")
        pending.content = content
        self._finish(call, 200, {"ok": True})
        # The real files.slack.com answers in text/plain, which slack_sdk reads as text.
        return web.Response(status=200, text=f"OK - {len(content)}")

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        _team, _, file_id = request.match_info["team_file"].partition("-")
        token = self._bearer(request)
        call = self._record(DOWNLOAD, {"file": file_id, "path": request.path}, request, token)
        failure = await self._apply_faults(DOWNLOAD)
        if failure is not None:
            status, body, headers = self._failure_response(failure)
            self._finish(call, status, body)
            return web.Response(status=status, text=failure.error, headers=headers)
        stored = self._files.get(file_id)
        if token != self.bot_token:
            # Like files.slack.com: no valid token means a redirect to an HTML sign-in page, not an error status.
            self._finish(call, 302, {"ok": False, "error": "not_authed"})
            raise web.HTTPFound(f"/signin?redir={urllib.parse.quote(request.path)}")
        if stored is None:
            self._finish(call, 404, {"ok": False, "error": "file_not_found"})
            return web.Response(status=404, text="Not Found")
        self._finish(call, 200, {"ok": True, "size": len(stored.content)})
        headers = {}
        if "/download/" in request.path:
            headers["Content-Disposition"] = f'attachment; filename="{stored.obj["name"]}"'
        return web.Response(body=stored.content, content_type=stored.obj["mimetype"], headers=headers)

    async def _handle_signin(self, request: web.Request) -> web.Response:
        return web.Response(text="<!DOCTYPE html><html><body>Sign in to Slack</body></html>", content_type="text/html")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        try:
            payload = await request.json()
        except ValueError:
            payload = None
        call = self._record(RESPONSE_URL, payload if isinstance(payload, dict) else {}, request, None)
        failure = await self._apply_faults(RESPONSE_URL)
        if failure is not None:
            status, body, headers = self._failure_response(failure)
            self._finish(call, status, body)
            return web.Response(status=status, text=failure.error, headers=headers)
        context = self._response_urls.get(key)
        status, text = self._apply_response_url(context, payload, url=str(request.url))
        self._finish(call, status, {"ok": status == 200, "error": None if status == 200 else text})
        return web.Response(status=status, text=text)

    def _apply_response_url(self, context: _ResponseUrlContext | None, payload: Any, *, url: str) -> tuple[int, str]:
        if context is None:
            return 404, "invalid_url"
        if not isinstance(payload, dict):
            return 400, "invalid_payload"
        # Slack allows five uses of a response_url.
        context.uses += 1
        if context.uses > 5:
            return 404, "used_url"
        if "blocks" in payload and validate_blocks(payload["blocks"]):
            return 400, "invalid_blocks"
        if len(str(payload.get("text") or "")) > MAX_MESSAGE_TEXT:
            return 400, "msg_too_long"
        self.responses.append({"url": url, **copy.deepcopy(payload)})
        original = (
            self._find_message(context.channel, context.message_ts) if context.channel and context.message_ts else None
        )
        if _truthy(payload.get("delete_original")):
            if original is not None:
                self._remove_message(context.channel or "", original)
        elif _truthy(payload.get("replace_original")) and original is not None:
            for key in ("text", "blocks", "attachments"):
                if key in payload:
                    original[key] = copy.deepcopy(payload[key])
        elif _truthy(payload.get("replace_original")) and (shown := self._ephemeral_at(context)) is not None:
            # An ephemeral message a button was pressed in is replaced whole (what is not given goes).
            shown.update(text=payload.get("text", ""), blocks=copy.deepcopy(payload.get("blocks")), replaced=True)
        elif payload.get("response_type") == "in_channel" and context.channel in self.channels:
            message = self._bot_message(payload)
            self._store_message(context.channel or "", message, thread_ts=_str_param(payload, "thread_ts"))
        else:
            self.ephemerals.append(
                {
                    "channel": context.channel,
                    "user": context.user,
                    "text": payload.get("text", ""),
                    "blocks": payload.get("blocks"),
                    "thread_ts": payload.get("thread_ts"),
                    "message_ts": self.next_ts(),
                    "via": RESPONSE_URL,
                }
            )
        self._notify()
        return 200, "ok"

    def _ephemeral_at(self, context: _ResponseUrlContext) -> JSON | None:
        """The ephemeral message (shown to the context's user) whose button gave the response_url."""
        return next((e for e in self.ephemerals if context.message_ts and e.get("message_ts") == context.message_ts
                     and e.get("user") == context.user and e.get("channel") == context.channel), None)

    # -- message store ------------------------------------------------------------------

    def _store_message(
        self, channel: str, message: JSON, *, ts: str | None = None, thread_ts: str | None = None
    ) -> None:
        if ts is None:
            ts = self.next_ts()
        else:
            self._last_ts_micros = max(self._last_ts_micros, _parse_ts(ts))
        message["ts"] = ts
        if thread_ts is not None:
            parent = self._find_message(channel, thread_ts)
            if parent is not None and parent.get("thread_ts") not in (None, parent["ts"]):
                # Replying to a reply lands in the parent's thread.
                parent = self._find_message(channel, parent["thread_ts"])
            if parent is None:
                # Slack posts such a message to the channel itself rather than rejecting it.
                self.unknown_thread_posts.append((channel, thread_ts, ts))
            else:
                message["thread_ts"] = parent["ts"]
                message["parent_user_id"] = parent.get("user")
                parent["thread_ts"] = parent["ts"]
                replies = [m for m in self._messages[channel] if m.get("thread_ts") == parent["ts"] and m is not parent]
                reply_users = list(dict.fromkeys([*(m.get("user") for m in replies), message.get("user")]))
                parent["reply_count"] = len(replies) + 1
                parent["reply_users"] = reply_users
                parent["reply_users_count"] = len(reply_users)
                parent["latest_reply"] = ts
        messages = self._messages.setdefault(channel, [])
        messages.append(message)
        messages.sort(key=lambda m: _parse_ts(m["ts"]))
        self._notify()

    def _find_message(self, channel: str | None, ts: str | None) -> JSON | None:
        for message in self._messages.get(channel or "", []):
            if message["ts"] == ts:
                return message
        return None

    def _remove_message(self, channel: str, message: JSON) -> None:
        self._messages[channel].remove(message)
        parent_ts = message.get("thread_ts")
        if parent_ts and parent_ts != message["ts"]:
            parent = self._find_message(channel, parent_ts)
            if parent is not None:
                parent["reply_count"] = max(0, int(parent.get("reply_count", 1)) - 1)
        self._notify()

    def _bot_message(self, params: Mapping[str, Any]) -> JSON:
        message: JSON = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": str(params.get("text") or ""),
            "bot_profile": {"id": self.bot_id, "app_id": self.app_id, "name": self.bot_name, "team_id": self.team_id},
        }
        for key in ("blocks", "attachments", "metadata"):
            if params.get(key) is not None:
                message[key] = copy.deepcopy(params[key])
        return message

    # -- validation helpers -------------------------------------------------------------

    def _channel(self, channel_id: str | None) -> FakeChannel:
        if channel_id is None:
            raise _SlackError("channel_not_found")
        channel = self.channels.get(channel_id)
        if channel is None:
            name = channel_id.lstrip("#")
            channel = next((c for c in self.channels.values() if c.name == name and not c.is_im), None)
        if channel is None:
            raise _SlackError("channel_not_found")
        return channel

    def _channel_for_post(self, target: str | None) -> FakeChannel:
        # Posting to a user id delivers into the bot's DM with that user.
        if target is not None and target in self.users and target != self.bot_user_id:
            return self.channels[self.open_dm(target)]
        channel = self._channel(target)
        if channel.is_archived:
            raise _SlackError("is_archived")
        if self.bot_user_id not in channel.members:
            raise _SlackError("not_in_channel")
        return channel

    def _user(self, user_id: str | None) -> FakeUser:
        user = self.users.get(user_id or "")
        if user is None:
            raise _SlackError("user_not_found")
        return user

    @staticmethod
    def _check_content(params: Mapping[str, Any], *, max_blocks: int = MAX_BLOCKS_IN_MESSAGE) -> None:
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_MESSAGE_TEXT:
            raise _SlackError("msg_too_long")
        blocks = params.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise _SlackError("invalid_blocks_format")
            errors = validate_blocks(blocks, max_blocks=max_blocks)
            if errors:
                raise _SlackError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )

    @staticmethod
    def _require_content(params: Mapping[str, Any]) -> None:
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            raise _SlackError("no_text")

    # -- auth / chat --------------------------------------------------------------------

    def _auth_test(self, params: JSON) -> JSON:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: JSON) -> JSON:
        channel = self._channel_for_post(_str_param(params, "channel"))
        self._require_content(params)
        self._check_content(params)
        message = self._bot_message(params)
        self._store_message(channel.id, message, thread_ts=_str_param(params, "thread_ts"))
        return {"ok": True, "channel": channel.id, "ts": message["ts"], "message": copy.deepcopy(message)}

    def _chat_update(self, params: JSON) -> JSON:
        channel = self._channel(_str_param(params, "channel"))
        message = self._find_message(channel.id, _str_param(params, "ts"))
        if message is None:
            raise _SlackError("message_not_found")
        if message.get("user") != self.bot_user_id:
            raise _SlackError("cant_update_message")
        self._require_content(params)
        self._check_content(params)
        # Omitted blocks/attachments keep their old value; an empty list removes them.
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params and params[key] is not None:
                message[key] = copy.deepcopy(params[key])
        message["edited"] = {"user": self.bot_user_id, "ts": self.next_ts()}
        self._notify()
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": copy.deepcopy(message),
        }

    def _chat_post_ephemeral(self, params: JSON) -> JSON:
        channel = self._channel(_str_param(params, "channel"))
        user = self._user(_str_param(params, "user"))
        if user.id not in channel.members:
            raise _SlackError("user_not_in_channel")
        self._require_content(params)
        self._check_content(params)
        message_ts = self.next_ts()
        self.ephemerals.append(
            {
                "channel": channel.id,
                "user": user.id,
                "text": params.get("text", ""),
                "blocks": copy.deepcopy(params.get("blocks")),
                "attachments": copy.deepcopy(params.get("attachments")),
                "thread_ts": _str_param(params, "thread_ts"),
                "message_ts": message_ts,
                "via": "chat.postEphemeral",
            }
        )
        self._notify()
        return {"ok": True, "message_ts": message_ts}

    def _chat_delete(self, params: JSON) -> JSON:
        channel = self._channel(_str_param(params, "channel"))
        message = self._find_message(channel.id, _str_param(params, "ts"))
        if message is None:
            raise _SlackError("message_not_found")
        if message.get("user") != self.bot_user_id:
            raise _SlackError("cant_delete_message")
        self._remove_message(channel.id, message)
        return {"ok": True, "channel": channel.id, "ts": message["ts"]}

    def _chat_get_permalink(self, params: JSON) -> JSON:
        channel = self._channel(_str_param(params, "channel"))
        message = self._find_message(channel.id, _str_param(params, "message_ts"))
        if message is None:
            raise _SlackError("message_not_found")
        permalink = f"https://{self.team_domain}.slack.com/archives/{channel.id}/p{message['ts'].replace('.', '')}"
        parent_ts = message.get("thread_ts")
        if parent_ts and parent_ts != message["ts"]:
            permalink += f"?thread_ts={parent_ts}&cid={channel.id}"
        return {"ok": True, "channel": channel.id, "permalink": permalink}

    # -- users / groups -----------------------------------------------------------------

    def _users_info(self, params: JSON) -> JSON:
        user = self._user(_str_param(params, "user"))
        return {"ok": True, "user": user.to_api(self.team_id, include_locale=_truthy(params.get("include_locale")))}

    def _users_list(self, params: JSON) -> JSON:
        include_locale = _truthy(params.get("include_locale"))
        users = [u.to_api(self.team_id, include_locale=include_locale) for u in self.users.values()]
        page, next_cursor = _paginate(users, params, default_limit=1000)
        return {
            "ok": True,
            "members": page,
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _usergroups_users_list(self, params: JSON) -> JSON:
        group = self.usergroups.get(_str_param(params, "usergroup") or "")
        if group is None:
            raise _SlackError("no_such_subteam")
        return {"ok": True, "users": list(group.users)}

    # -- conversations ------------------------------------------------------------------

    def _conversations_open(self, params: JSON) -> JSON:
        if _str_param(params, "channel") is not None:
            channel = self._channel(_str_param(params, "channel"))
            return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": channel.id}}
        user_ids = _csv(params.get("users"))
        if not user_ids:
            raise _SlackError("users_list_not_supplied")
        for user_id in user_ids:
            user = self._user(user_id)
            if user.is_bot:
                raise _SlackError("cannot_dm_bot")
        if len(user_ids) == 1:
            already_open = user_ids[0] in self._dms
            channel = self.channels[self.open_dm(user_ids[0])]
        else:
            members = sorted({*user_ids, self.bot_user_id})
            existing = next((c for c in self.channels.values() if c.is_mpim and sorted(c.members) == members), None)
            already_open = existing is not None
            if existing is None:
                existing = FakeChannel(
                    id=self._new_id("G"), name="mpdm-" + "--".join(members), members=members, is_mpim=True
                )
                self.channels[existing.id] = existing
                self._messages[existing.id] = []
            channel = existing
        body: JSON = {"ok": True}
        if already_open:
            body.update(no_op=True, already_open=True)
        body["channel"] = channel.to_api(self.bot_user_id) if _truthy(params.get("return_im")) else {"id": channel.id}
        return body

    def _readable_channel(self, params: JSON) -> FakeChannel:
        channel = self._channel(_str_param(params, "channel"))
        # Private conversations the bot is not in are invisible to it.
        if (channel.is_private or channel.is_im or channel.is_mpim) and self.bot_user_id not in channel.members:
            raise _SlackError("channel_not_found")
        return channel

    def _conversations_members(self, params: JSON) -> JSON:
        channel = self._readable_channel(params)
        page, next_cursor = _paginate(list(channel.members), params, default_limit=100)
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _conversations_info(self, params: JSON) -> JSON:
        channel = self._readable_channel(params)
        return {"ok": True, "channel": channel.to_api(self.bot_user_id)}

    def _conversations_join(self, params: JSON) -> JSON:
        channel = self._channel(_str_param(params, "channel"))
        if channel.is_im or channel.is_mpim or channel.is_private:
            raise _SlackError("method_not_supported_for_channel_type")
        if channel.is_archived:
            raise _SlackError("is_archived")
        body: JSON = {"ok": True}
        if self.bot_user_id in channel.members:
            body["warning"] = "already_in_channel"
            body["response_metadata"] = {"warnings": ["already_in_channel"]}
        else:
            channel.members.append(self.bot_user_id)
            self._notify()
        body["channel"] = channel.to_api(self.bot_user_id)
        return body

    def _conversations_replies(self, params: JSON) -> JSON:
        channel = self._readable_channel(params)
        ts = _str_param(params, "ts")
        message = self._find_message(channel.id, ts)
        if message is None:
            raise _SlackError("thread_not_found")
        thread_ts = message.get("thread_ts") or message["ts"]
        thread = self.messages_in(channel.id, thread_ts)
        page, next_cursor = _paginate(thread, params, default_limit=1000)
        return {
            "ok": True,
            "messages": page,
            "has_more": bool(next_cursor),
            "response_metadata": {"next_cursor": next_cursor},
        }

    def _conversations_history(self, params: JSON) -> JSON:
        channel = self._readable_channel(params)
        top_level = [
            m for m in reversed(self.messages_in(channel.id)) if m.get("thread_ts") in (None, m["ts"])
        ]  # newest first, as Slack returns them
        page, next_cursor = _paginate(top_level, params, default_limit=100)
        return {
            "ok": True,
            "messages": page,
            "has_more": bool(next_cursor),
            "response_metadata": {"next_cursor": next_cursor},
        }

    # -- views --------------------------------------------------------------------------

    def _checked_view(self, params: JSON, *, home: bool = False) -> JSON:
        view = params.get("view")
        if not isinstance(view, dict):
            raise _SlackError("invalid_arguments")
        expected = "home" if home else "modal"
        if view.get("type") != expected:
            raise _SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] type must be {expected}"]})
        if not home:
            errors = _text_object_errors(view.get("title"), "/view/title", MAX_VIEW_TITLE, plain_only=True)
            if errors:
                raise _SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})
        errors = validate_blocks(view.get("blocks", []), max_blocks=MAX_BLOCKS_IN_VIEW, pointer="/view/blocks")
        if errors:
            raise _SlackError("invalid_blocks", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})
        return view

    def _store_view(self, view: JSON, *, view_id: str | None = None, **extra: Any) -> JSON:
        stored = {
            **copy.deepcopy(view),
            "id": view_id or self._new_id("V"),
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "state": {"values": {}},
            "hash": uuid.uuid4().hex[:16],
            **extra,
        }
        self.views.append(stored)
        self._notify()
        return {"ok": True, "view": copy.deepcopy(stored)}

    def _views_open(self, params: JSON) -> JSON:
        if _str_param(params, "trigger_id") is None:
            raise _SlackError("invalid_arguments")
        return self._store_view(self._checked_view(params))

    def _views_push(self, params: JSON) -> JSON:
        return self._views_open(params)

    def _views_update(self, params: JSON) -> JSON:
        view_id = _str_param(params, "view_id")
        external_id = _str_param(params, "external_id")
        existing = next(
            (
                v
                for v in reversed(self.views)
                if (view_id and v["id"] == view_id) or (external_id and v.get("external_id") == external_id)
            ),
            None,
        )
        if existing is None:
            raise _SlackError("not_found")
        return self._store_view(self._checked_view(params), view_id=existing["id"])

    def _views_publish(self, params: JSON) -> JSON:
        user = self._user(_str_param(params, "user_id"))
        return self._store_view(self._checked_view(params, home=True), user_id=user.id)

    # -- files --------------------------------------------------------------------------

    def _file_object(
        self, file_id: str, name: str, title: str, size: int, *, user: str, mimetype: str | None = None
    ) -> JSON:
        mimetype = mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        filetype = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
        quoted = urllib.parse.quote(name)
        now = int(time.time())
        return {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": name,
            "title": title,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": user,
            "user_team": self.team_id,
            "editable": False,
            "size": size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{self.root_url}files-pri/{self.team_id}-{file_id}/{quoted}",
            "url_private_download": f"{self.root_url}files-pri/{self.team_id}-{file_id}/download/{quoted}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{user}/{file_id}/{quoted}",
            "permalink_public": f"https://slack-files.com/{self.team_id}-{file_id}-0000000000",
            "channels": [],
            "groups": [],
            "ims": [],
            "shares": {},
            "has_rich_preview": False,
            "file_access": "visible",
        }

    def _files_get_upload_url_external(self, params: JSON) -> JSON:
        filename = _str_param(params, "filename")
        length = _int_param(params, "length", 0)
        if filename is None or length <= 0:
            raise _SlackError("invalid_arguments")
        key = uuid.uuid4().hex
        file_id = self._new_id("F")
        self._pending_uploads[key] = _PendingUpload(
            file_id=file_id,
            filename=filename,
            length=length,
            alt_txt=_str_param(params, "alt_txt"),
            snippet_type=_str_param(params, "snippet_type"),
        )
        return {"ok": True, "upload_url": f"{self.root_url}upload/v1/{key}", "file_id": file_id}

    def _files_complete_upload_external(self, params: JSON) -> JSON:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise _SlackError("invalid_arguments")
        targets = [self._channel_for_post(c) for c in _csv(params.get("channel_id")) + _csv(params.get("channels"))]
        thread_ts = _str_param(params, "thread_ts")
        if thread_ts is not None and not targets:
            raise _SlackError("invalid_arguments")
        uploads: list[tuple[str, _PendingUpload, str]] = []
        for entry in entries:
            file_id = entry.get("id") if isinstance(entry, dict) else None
            key, pending = next(((k, p) for k, p in self._pending_uploads.items() if p.file_id == file_id), ("", None))
            if pending is None or pending.content is None:
                raise _SlackError("file_not_found")
            uploads.append((key, pending, str(entry.get("title") or pending.filename)))

        objs: list[JSON] = []
        for key, pending, title in uploads:
            content = pending.content or b""
            obj = self._file_object(pending.file_id, pending.filename, title, len(content), user=self.bot_user_id)
            if pending.alt_txt:
                obj["alt_txt"] = pending.alt_txt
            self._files[pending.file_id] = _StoredFile(obj=obj, content=content)
            objs.append(obj)
            del self._pending_uploads[key]

        # Real Slack shares asynchronously (the message appears a moment later); the fake shares at once.
        for channel in targets:
            message = self._bot_message({"text": params.get("initial_comment") or ""})
            message["files"] = copy.deepcopy(objs)
            message["upload"] = True
            self._store_message(channel.id, message, thread_ts=thread_ts)
            share: JSON = {"ts": message["ts"], "channel_name": channel.name, "team_id": self.team_id, "reply_count": 0}
            if "thread_ts" in message:
                share["thread_ts"] = message["thread_ts"]
            visibility = "public" if not (channel.is_private or channel.is_im or channel.is_mpim) else "private"
            for obj in objs:
                obj["shares"].setdefault(visibility, {}).setdefault(channel.id, []).append(share)
                bucket = "ims" if channel.is_im else "groups" if visibility == "private" else "channels"
                obj[bucket].append(channel.id)
                obj["is_public"] = obj["is_public"] or visibility == "public"
        return {"ok": True, "files": [{"id": o["id"], "title": o["title"]} for o in objs]}

    def _files_info(self, params: JSON) -> JSON:
        stored = self._files.get(_str_param(params, "file") or "")
        if stored is None:
            raise _SlackError("file_not_found")
        return {"ok": True, "file": copy.deepcopy(stored.obj), "comments": [], "response_metadata": {"next_cursor": ""}}


# --------------------------------------------------------------------------------------
# Driving a Bolt app as Slack would


class DeliveryOptions(TypedDict, total=False):
    """How ``SlackEventSender`` delivers a payload (all optional)."""

    forge_signature: bool  # sign with a wrong secret
    omit_signature: bool  # send no X-Slack-Signature header
    omit_timestamp: bool  # send no X-Slack-Request-Timestamp header
    timestamp_shift: float  # seconds added to "now" for the timestamp; -360 is 6 minutes old
    retry_num: int  # X-Slack-Retry-Num
    retry_reason: str  # X-Slack-Retry-Reason (default "http_timeout" when retry_num is set)
    extra_headers: Mapping[str, str]


@dataclass(frozen=True)
class SentResponse:
    """What the Bolt app answered, plus the payload that was sent."""

    status: int
    body: str
    headers: Mapping[str, str]
    payload: JSON

    def json(self) -> Any:
        return json.loads(self.body)


class SlackEventSender:
    """POSTs signed, real-shaped Slack requests to a Bolt app's HTTP endpoint.

    Give it the ``FakeSlackAPI`` (``fake=``) so that response_urls point at the
    fake, user/channel names are filled in, and messages it sends are also stored
    in the fake (so the bot can reply in their threads, fetch permalinks, ...).
    """

    def __init__(
        self,
        signing_secret: str,
        app_url: str,
        *,
        fake: FakeSlackAPI | None = None,
        team_id: str | None = None,
        team_domain: str | None = None,
        api_app_id: str | None = None,
        verification_token: str = "fake-verification-token",
        timeout: float = 10.0,
    ) -> None:
        self.signing_secret = signing_secret
        self.app_url = app_url
        self.fake = fake
        self.team_id = team_id or (fake.team_id if fake else "TFAKE0001")
        self.team_domain = team_domain or (fake.team_domain if fake else "fake-helpdesk")
        self.api_app_id = api_app_id or (fake.app_id if fake else "AFAKE0001")
        self.verification_token = verification_token
        self._timeout = timeout
        self._session: ClientSession | None = None
        self._event_ids = itertools.count(1)
        self._trigger_counter = itertools.count(1_000_000_000)

    async def __aenter__(self) -> SlackEventSender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- signing & transport ------------------------------------------------------------

    def signature_for(self, body: str, timestamp: str, *, secret: str | None = None) -> str:
        signature = SignatureVerifier(secret or self.signing_secret).generate_signature(timestamp=timestamp, body=body)
        assert signature is not None
        return signature

    async def post(
        self, body: str, content_type: str, payload: JSON, **delivery: Unpack[DeliveryOptions]
    ) -> SentResponse:
        """POST a raw body with Slack's headers; ``payload`` is only echoed back in the result."""
        timestamp = str(int(time.time() + delivery.get("timestamp_shift", 0.0)))
        secret = "forged-" + self.signing_secret if delivery.get("forge_signature") else self.signing_secret
        headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        if not delivery.get("omit_timestamp"):
            headers["X-Slack-Request-Timestamp"] = timestamp
        if not delivery.get("omit_signature"):
            headers["X-Slack-Signature"] = self.signature_for(body, timestamp, secret=secret)
        if delivery.get("retry_num") is not None:
            headers["X-Slack-Retry-Num"] = str(delivery["retry_num"])
            headers["X-Slack-Retry-Reason"] = delivery.get("retry_reason", "http_timeout")
        headers.update(delivery.get("extra_headers", {}))
        if self._session is None or self._session.closed:
            self._session = ClientSession(timeout=ClientTimeout(total=self._timeout))
        async with self._session.post(self.app_url, data=body.encode(), headers=headers) as resp:
            return SentResponse(status=resp.status, body=await resp.text(), headers=dict(resp.headers), payload=payload)

    async def post_json(self, payload: JSON, **delivery: Unpack[DeliveryOptions]) -> SentResponse:
        return await self.post(json.dumps(payload), "application/json", payload, **delivery)

    async def post_form(
        self, fields: Mapping[str, str], payload: JSON, **delivery: Unpack[DeliveryOptions]
    ) -> SentResponse:
        return await self.post(urllib.parse.urlencode(fields), "application/x-www-form-urlencoded", payload, **delivery)

    # -- Events API ---------------------------------------------------------------------

    async def url_verification(self, challenge: str, **delivery: Unpack[DeliveryOptions]) -> SentResponse:
        payload = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        return await self.post_json(payload, **delivery)

    def event_envelope(self, event: JSON, *, event_id: str | None = None, event_time: int | None = None) -> JSON:
        bot_user_id = self.fake.bot_user_id if self.fake else "UBOT00001"
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._event_ids):010d}",
            "event_time": event_time or int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{uuid.uuid4().hex}",
        }

    async def event_callback(
        self,
        event: JSON,
        *,
        event_id: str | None = None,
        event_time: int | None = None,
        **delivery: Unpack[DeliveryOptions],
    ) -> SentResponse:
        return await self.post_json(self.event_envelope(event, event_id=event_id, event_time=event_time), **delivery)

    def message_event(
        self,
        *,
        user: str,
        text: str,
        channel: str,
        channel_type: str = "channel",
        ts: str | None = None,
        thread_ts: str | None = None,
        files: list[JSON] | None = None,
    ) -> JSON:
        """A ``message`` event as Slack sends it for a human's message (also stored in the fake, if any)."""
        if self.fake is not None:
            stored = self.fake.add_message(channel, text, user=user, ts=ts, thread_ts=thread_ts, files=files)
            ts = stored["ts"]
            # Use the thread the fake resolved (a reply-to-a-reply lands in the parent's thread).
            thread_ts = stored.get("thread_ts") if thread_ts is not None else None
        elif ts is None:
            ts = f"{time.time():.6f}"
        event: JSON = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel": channel,
            "channel_type": channel_type,
            "team": self.team_id,
            "client_msg_id": str(uuid.uuid4()),
            "blocks": _rich_text_blocks(text),
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
            if self.fake is not None:
                parent = self.fake.get_message(channel, thread_ts)
                if parent is not None:
                    event["parent_user_id"] = parent.get("user")
        if files:
            event["subtype"] = "file_share"
            event["files"] = files
            event["upload"] = False
            event["display_as_bot"] = False
        return event

    async def channel_message(
        self,
        user: str,
        text: str,
        *,
        channel: str,
        ts: str | None = None,
        thread_ts: str | None = None,
        files: list[JSON] | None = None,
        event_id: str | None = None,
        **delivery: Unpack[DeliveryOptions],
    ) -> SentResponse:
        """A human's message in a channel (``thread_ts`` for a thread reply)."""
        event = self.message_event(user=user, text=text, channel=channel, ts=ts, thread_ts=thread_ts, files=files)
        return await self.event_callback(event, event_id=event_id, **delivery)

    async def dm_message(
        self,
        user: str,
        text: str,
        *,
        channel: str | None = None,
        ts: str | None = None,
        thread_ts: str | None = None,
        files: list[JSON] | None = None,
        event_id: str | None = None,
        **delivery: Unpack[DeliveryOptions],
    ) -> SentResponse:
        """A human's message in their DM with the bot (``channel`` defaults to the fake's DM id)."""
        if channel is None:
            if self.fake is None:
                raise ValueError("dm_message needs channel= when no fake is attached")
            channel = self.fake.open_dm(user)
        event = self.message_event(
            user=user, text=text, channel=channel, channel_type="im", ts=ts, thread_ts=thread_ts, files=files
        )
        return await self.event_callback(event, event_id=event_id, **delivery)

    # -- interactivity ------------------------------------------------------------------

    def _user_obj(self, user_id: str) -> JSON:
        user = self.fake.users.get(user_id) if self.fake else None
        name = user.name if user else user_id.lower()
        return {"id": user_id, "username": name, "name": name, "team_id": self.team_id}

    def _response_url(self, kind: str, *, channel: str | None, user: str, message_ts: str | None = None) -> str:
        if self.fake is not None:
            return self.fake.response_url(kind, channel=channel, user=user, message_ts=message_ts)
        return f"https://hooks.slack.com/{kind}/{self.team_id}/{next(self._event_ids)}/{uuid.uuid4().hex[:24]}"

    def new_trigger_id(self) -> str:
        return f"{int(time.time() * 1000)}.{next(self._trigger_counter)}.{uuid.uuid4().hex}"

    def block_actions_payload(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        *,
        selected_option: JSON | str | None = None,
        selected_user: str | None = None,
        action_type: str | None = None,
        block_id: str | None = None,
        text: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
        message: JSON | None = None,
        container: JSON | None = None,
        view: JSON | None = None,
        trigger_id: str | None = None,
        state_values: JSON | None = None,
    ) -> JSON:
        if action_type is None:
            action_type = "static_select" if selected_option else "users_select" if selected_user else "button"
        action_ts = f"{time.time():.6f}"
        action: JSON = {
            "action_id": action_id,
            "block_id": block_id or uuid.uuid4().hex[:5],
            "type": action_type,
            "action_ts": action_ts,
        }
        if action_type == "button":
            action["text"] = {"type": "plain_text", "text": text or action_id, "emoji": True}
        if value is not None:
            action["value"] = value
        if selected_option is not None:
            if isinstance(selected_option, str):
                label = {"type": "plain_text", "text": selected_option, "emoji": True}
                selected_option = {"text": label, "value": selected_option}
            action["selected_option"] = selected_option
        if selected_user is not None:
            action["selected_user"] = selected_user
        payload: JSON = {
            "type": "block_actions",
            "user": self._user_obj(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": trigger_id or self.new_trigger_id(),
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": state_values or {}},
            "actions": [action],
        }
        if view is not None:
            # Actions inside a modal/App Home carry the view and no channel, message or response_url.
            payload["container"] = container or {"type": "view", "view_id": view.get("id")}
            payload["view"] = view
            return payload
        if channel is None:
            raise ValueError("block_action needs channel= (and usually message_ts=) or view=")
        if message is None and self.fake is not None and message_ts is not None:
            message = self.fake.get_message(channel, message_ts)
        if message is None:
            message = {"type": "message", "ts": message_ts, "text": "", "team": self.team_id}
        channel_obj = self.fake.channels.get(channel) if self.fake else None
        payload["container"] = container or {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        }
        payload["channel"] = {"id": channel, "name": channel_obj.name if channel_obj else channel}
        payload["message"] = message
        payload["response_url"] = self._response_url("actions", channel=channel, user=user_id, message_ts=message_ts)
        return payload

    async def block_action(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        *,
        selected_option: JSON | str | None = None,
        selected_user: str | None = None,
        action_type: str | None = None,
        block_id: str | None = None,
        text: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
        message: JSON | None = None,
        container: JSON | None = None,
        view: JSON | None = None,
        trigger_id: str | None = None,
        state_values: JSON | None = None,
        **delivery: Unpack[DeliveryOptions],
    ) -> SentResponse:
        """A ``block_actions`` interaction, sent form-encoded as ``payload=<json>`` like Slack does."""
        payload = self.block_actions_payload(
            user_id,
            action_id,
            value,
            selected_option=selected_option,
            selected_user=selected_user,
            action_type=action_type,
            block_id=block_id,
            text=text,
            channel=channel,
            message_ts=message_ts,
            message=message,
            container=container,
            view=view,
            trigger_id=trigger_id,
            state_values=state_values,
        )
        return await self.post_form({"payload": json.dumps(payload)}, payload, **delivery)

    def view_submission_payload(self, user_id: str, view: JSON, values: Mapping[str, str | None]) -> JSON:
        """A modal's submission as Slack sends it: the view as stored (views.open/update) with its
        input blocks' state; `values` by block id, for the plain_text_input of each (None: left
        empty, which Slack sends as a null value)."""
        state: JSON = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input" or block.get("block_id") not in values:
                continue
            element = block["element"]
            state[block["block_id"]] = {element["action_id"]: {"type": element["type"],
                                                               "value": values[block["block_id"]]}}
        submitted = {**copy.deepcopy(view), "state": {"values": state}}
        submitted.setdefault("root_view_id", submitted.get("id"))
        submitted.setdefault("previous_view_id", None)
        return {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": self._user_obj(user_id),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": self.new_trigger_id(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    async def view_submission(
        self, user_id: str, view: JSON, values: Mapping[str, str | None], **delivery: Unpack[DeliveryOptions]
    ) -> SentResponse:
        """Submit a modal (form-encoded ``payload=<json>``); the app's answer is in the response
        body: empty to close it, ``{"response_action": "errors", ...}`` to keep it open."""
        payload = self.view_submission_payload(user_id, view, values)
        return await self.post_form({"payload": json.dumps(payload)}, payload, **delivery)

    def slash_command_fields(
        self,
        user_id: str,
        command: str = "/helpdesk",
        text: str = "",
        *,
        channel_id: str,
        channel_name: str | None = None,
        trigger_id: str | None = None,
    ) -> dict[str, str]:
        user = self.fake.users.get(user_id) if self.fake else None
        channel_obj = self.fake.channels.get(channel_id) if self.fake else None
        if channel_name is None:
            if channel_obj is None:
                channel_name = channel_id
            else:
                channel_name = "directmessage" if channel_obj.is_im else channel_obj.name
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user.name if user else user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url("commands", channel=channel_id, user=user_id),
            "trigger_id": trigger_id or self.new_trigger_id(),
        }

    async def slash_command(
        self,
        user_id: str,
        command: str = "/helpdesk",
        text: str = "",
        *,
        channel_id: str,
        channel_name: str | None = None,
        trigger_id: str | None = None,
        **delivery: Unpack[DeliveryOptions],
    ) -> SentResponse:
        """A slash command, form-encoded like Slack sends it."""
        fields = self.slash_command_fields(
            user_id, command, text, channel_id=channel_id, channel_name=channel_name, trigger_id=trigger_id
        )
        return await self.post_form(fields, dict(fields), **delivery)


# --------------------------------------------------------------------------------------
# Serving a Bolt app


@asynccontextmanager
async def serve_bolt_app(app: AsyncApp, path: str = "/slack/events") -> AsyncIterator[str]:
    """Serve ``app`` on a free 127.0.0.1 port; yields the URL Slack would POST to.

    Wired like slack_bolt's ``AsyncSlackAppServer``: aiohttp request ->
    ``to_bolt_request`` -> ``app.async_dispatch`` -> ``to_aiohttp_response``.
    """

    async def handle(request: web.Request) -> web.Response:
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    web_app = web.Application()
    web_app.router.add_post(path, handle)
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
    finally:
        await runner.cleanup()
