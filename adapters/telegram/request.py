"""An aiohttp transport for python-telegram-bot (it accepts any BaseRequest).

Profiled against the fake Bot API, httpx's per-request cost was the largest item in the bot's
own CPU time; aiohttp, already the HTTP server here, does the same work in less.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL


class AiohttpRequest(BaseRequest):
    """`unread`: methods whose result the caller never reads (the message a sendMessage made, say).
    Their successful answers reach python-telegram-bot as `true`, which it hands back as True,
    instead of being built into objects nobody looks at (profiled: a tenth of the bot's CPU
    time). Failures are untouched, so errors raise as usual."""

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
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        write = self._write_timeout if not files else self._media_write_timeout
        if not isinstance(write_timeout, DefaultValue) and write_timeout is not None:
            write = write_timeout
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
                if response.status == 200 and self._unread and url.rpartition("/")[2] in self._unread:
                    return 200, _TRUE
                return response.status, body
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


class UpdatesRequest(AiohttpRequest):
    """The getUpdates transport, keeping each update of the last answer as Telegram sent it
    (JSON text by update id): the poller records them so before confirming them."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(pool_size=1, **kw)
        self.raw: dict[int, str] = {}

    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        answer = super().parse_json_payload(payload)
        updates = answer.get("result")
        # Written out before python-telegram-bot reads the objects.
        self.raw = {u["update_id"]: json.dumps(u, ensure_ascii=False) for u in updates
                    if isinstance(u, dict) and isinstance(u.get("update_id"), int)} \
            if answer.get("ok") and isinstance(updates, list) else {}
        return answer


@functools.lru_cache(maxsize=64)
def _timeout(connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect, sock_read=read)


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
_TRUE = b'{"ok":true,"result":true}'
