"""What arrives from Slack, made neutral: agents' mrkdwn as plain text, shared files as IncomingFile."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from core.delivery.attachments import IncomingFile

_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]+))?>")
_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]+))?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(\w+)(?:\^[^|>]*)?(?:\|([^>]+))?>")


def to_plain(text: str) -> str:
    """Slack's message text as a person reads it: links spelled out, entities decoded."""
    text = _LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) else m.group(1), text)
    text = _USER.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _SPECIAL.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def as_typed(text: str) -> str:
    """A command's escaped text as the agent typed it: an address or a domain Slack made a link
    is its own text again, entities decoded (for commands whose words are names and addresses)."""
    text = _LINK.sub(lambda m: m.group(2) or m.group(1).removeprefix("mailto:"), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def incoming_files(event: dict[str, Any], token: str) -> list[IncomingFile]:
    """Files shared with a message; downloaded (with the bot token) only when asked."""
    found = []
    for f in event.get("files") or []:
        url = f.get("url_private_download") or f.get("url_private")
        if not url:
            continue

        async def fetch(url: str = url) -> bytes:
            async with aiohttp.ClientSession(trust_env=False) as http, http.get(
                url, headers={"Authorization": f"Bearer {token}"}, allow_redirects=False
            ) as resp:
                if resp.status != 200:
                    raise OSError(f"Slack file download answered {resp.status}")
                return await resp.read()

        found.append(IncomingFile(f.get("name") or "file", f.get("size"), fetch,
                                  declared_mime=f.get("mimetype"), platform_file_id=f.get("id")))
    return found
