"""An aiohttp transport for python-telegram-bot (it accepts any BaseRequest).

Profiled against the fake Bot API, httpx's per-request cost was the largest item in the bot's
own CPU time; aiohttp, already the HTTP server here, does the same work in less.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL


class AiohttpRequest(BaseRequest):
    """`unread`: methods whose result the caller never reads (the message a sendMessage made, say).
    Their successful answers reach python-telegram-bot as `true`, which it hands back as True,
    instead of being built into objects nobody looks at (profiled: a large share of the bot's
    CPU time). Failures are untouched, so errors raise as usual. A call into a group is always
    read: the agents' desk there keeps the ids of the topics and cards it makes."""

    def __init__(self, *, pool_size: int = 128, read_timeout: float = 5.0, connect_timeout: float = 5.0,
                 write_timeout: float = 5.0, media_write_timeout: float = 20.0,
                 unread: frozenset[str] = frozenset()) -> None:
        self._unread = unread
        self._pool_size = pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._write_timeout = write_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, tuple[URL | None, aiohttp.BasicAuth | None]] = {}

    def _proxy(self, url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """The proxy (and its credentials) the environment names for this URL's host, if any."""
        host = URL(url).host or ""
        if host not in self._proxies:
            try:
                self._proxies[host] = get_env_proxy_for_url(URL(url))
            except LookupError:  # no proxy for this host
                self._proxies[host] = (None, None)
        return self._proxies[host]

    @property
    def read_timeout(self) -> float:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # HTTPS_PROXY / NO_PROXY are honoured, as httpx honours them; read once per host here,
            # where aiohttp's trust_env would read them (and ~/.netrc) in a thread on every request.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300),
                headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        write = _given(write_timeout, None) or (self._write_timeout if not files else self._media_write_timeout)
        timeout = _timeout(connect, read if read is None else read + (write or 0))
        body: Any = None
        headers = None
        if fields and not files:  # encoded here: aiohttp's FormData does the same in more steps (profiled)
            body, headers = urlencode(fields).encode(), _FORM
        elif files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            body = form
        proxy, proxy_auth = self._proxy(url)
        try:
            async with self._session.request(method, url, data=body, headers=headers, timeout=timeout,
                                             proxy=proxy, proxy_auth=proxy_auth) as response:
                body = await response.read()
                if (response.status == 200 and self._unread and url.rpartition("/")[2] in self._unread
                        and not str((fields or {}).get("chat_id", "")).startswith("-")):
                    return 200, _TRUE
                return response.status, body
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


class UpdatesRequest(AiohttpRequest):
    """The getUpdates transport, leaving out the updates the poller has in hand already.

    The poller confirms an update only once handled, so Telegram sends the ones in hand again
    with every call; python-telegram-bot would build all of them anew each time (profiled: under
    load, the larger part of the bot's CPU time). They are dropped from the answer before it is parsed.
    """

    def __init__(self, *, completed: Callable[[bytes], bytes] | None = None, **kw: Any) -> None:
        super().__init__(pool_size=1, **kw)
        self.seen: Callable[[int], bool] = lambda _update_id: False
        # Set after an answer python-telegram-bot could not read: the next one is read one update
        # at a time, and those it cannot read are left out and handed to `unreadable`.
        self.screen = False
        self.unreadable: Callable[[int, Exception], None] = lambda _update_id, _error: None
        self.left_out = 0  # how many the last answer held that were left out
        # Another messenger's answer made one python-telegram-bot can read (see BotApi.completed).
        self.completed = completed

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        status, body = await super().do_request(url, method, request_data, *args, **kwargs)
        self.left_out = 0
        if status != 200 or not url.endswith("/getUpdates"):
            return status, body
        body, self.left_out = leave_out(body, self.seen)
        body = self.completed(body) if self.completed is not None else body
        if self.screen:
            self.screen = False
            body = readable(body, self.unreadable)
        return status, body


def readable(body: bytes, unreadable: Callable[[int, Exception], None]) -> bytes:
    """A getUpdates answer without the updates python-telegram-bot cannot read (each handed to
    `unreadable` with its error). Each is read twice, here and by python-telegram-bot: done
    only when an answer failed, not on every call."""
    answer = json.loads(body)
    updates = answer.get("result")
    if not (answer.get("ok") and isinstance(updates, list)):
        return body
    kept = []
    for update in updates:
        try:
            Update.de_json(update, None)
        except Exception as exc:
            unreadable(update.get("update_id", 0) if isinstance(update, dict) else 0, exc)
        else:
            kept.append(update)
    if len(kept) == len(updates):
        return body
    answer["result"] = kept
    return json.dumps(answer).encode()


def leave_out(body: bytes, seen: Callable[[int], bool]) -> tuple[bytes, int]:
    """A getUpdates answer without the updates `seen`, and how many were left out."""
    # Seen from the ids alone, without parsing. (A key "update_id" is an update's own: inside
    # a string value its quotes would be escaped.) Most answers under load hold nothing new.
    found = [(int(m.group(1)), m.start()) for m in _UPDATE_IDS.finditer(body)]
    if found and _OK.match(body):
        fresh = [i for i, (update_id, _) in enumerate(found) if not seen(update_id)]
        if not fresh:
            return _NOTHING, len(found)
        # The new ones come last (ascending ids): cut the answer just before the first of them,
        # where its object opens right after the previous one's comma.
        first = fresh[0]
        if fresh == list(range(first, len(found))) and first:
            start = _object_start(body, found[first][1])
            if start is not None:
                return _PREFIX + body[start:], first
    answer = json.loads(body)
    updates = answer.get("result")
    if answer.get("ok") and isinstance(updates, list):
        kept = [u for u in updates if not seen(u.get("update_id", 0))]
        if len(kept) < len(updates):
            answer["result"] = kept
            return json.dumps(answer).encode(), len(updates) - len(kept)
    return body, 0


@functools.lru_cache(maxsize=64)
def _timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)


def _object_start(body: bytes, key_at: int) -> int | None:
    """Where the update whose "update_id" key is at `key_at` opens, if that key comes first in
    it and a comma separates it from the update before; None otherwise (then it is parsed)."""
    brace = key_at - 1
    while brace >= 0 and body[brace] in b" \t\r\n":
        brace -= 1
    if brace < 0 or body[brace] != ord("{"):
        return None
    comma = brace - 1
    while comma >= 0 and body[comma] in b" \t\r\n":
        comma -= 1
    return brace if comma >= 0 and body[comma] == ord(",") else None


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_OK = re.compile(rb'\s*\{\s*"ok"\s*:\s*true\b')
_UPDATE_IDS = re.compile(rb'"update_id"\s*:\s*(\d+)')
_NOTHING = b'{"ok":true,"result":[]}'
_TRUE = b'{"ok":true,"result":true}'
_PREFIX = b'{"ok":true,"result":['


def _given(value: object, default: float | None) -> float | None:
    """A timeout the caller set, else `default`. python-telegram-bot marks "not set" with
    default-value sentinels (BaseRequest.DEFAULT_NONE among them); testing for a number or
    None keeps its private types out of this module."""
    if value is None or isinstance(value, (int, float)):
        return value
    return default
