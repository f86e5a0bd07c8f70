"""Who counts as an agent, and in which language they read the desk."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.agents import AgentIdentity
from core.i18n import match_locale

CACHE_SECONDS = 300.0
# A user as Slack writes one in escaped text (<@U123|name>, <@U123>), or a bare id from a select.
_USER = re.compile(r"^(?:<@)?([UW][A-Z0-9]+)(?:\|[^>]*)?>?$")


class AgentDirectory:
    """SLACK_AGENT_USERS, else SLACK_AGENT_GROUP's members, else the agent channels' members."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        users: Iterable[str] = (),
        group: str | None = None,
        channels: Iterable[str] = (),
    ) -> None:
        self.client = client
        self.fixed = frozenset(u.strip() for u in users if u.strip())
        self.group = group
        self.channels = sorted(set(channels))
        self._members: frozenset[str] = frozenset()
        self._loaded_at = -CACHE_SECONDS
        self._profiles: dict[str, tuple[float, str, str, str | None]] = {}

    async def is_agent(self, user_id: str) -> bool:
        if self.fixed:
            return user_id in self.fixed
        if time.monotonic() - self._loaded_at > CACHE_SECONDS:
            self._members = await self._load()
            self._loaded_at = time.monotonic()
        return user_id in self._members

    async def _load(self) -> frozenset[str]:
        members: set[str] = set()
        if self.group:
            reply = await self.client.usergroups_users_list(usergroup=self.group)
            members.update(reply.get("users") or [])
            return frozenset(members)
        for channel in self.channels:
            cursor = None
            while True:
                reply = await self.client.conversations_members(channel=channel, cursor=cursor, limit=200)
                members.update(reply.get("members") or [])
                cursor = (reply.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
        return frozenset(members)

    async def profile(self, user_id: str) -> tuple[str, str]:
        """(display name, our locale) from users.info, cached."""
        cached = self._profiles.get(user_id)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1], cached[2]
        name, locale, given = user_id, "en", None
        try:
            reply = await self.client.users_info(user=user_id, include_locale=True)
            user = reply.get("user") or {}
            profile = user.get("profile") or {}
            name = profile.get("display_name") or user.get("real_name") or user.get("name") or user_id
            given = user.get("locale")
            locale = match_locale(given) or "en"
        except SlackApiError:
            pass
        self._profiles[user_id] = (time.monotonic(), name, locale, given)
        return name, locale

    async def language(self, user_id: str) -> str | None:
        """The user's language as Slack gives it ('pt-BR'), None when it does not: a customer's
        first greeting speaks it when the help desk offers it, its default language otherwise."""
        await self.profile(user_id)
        return self._profiles[user_id][3]

    async def lookup(self, ref: str) -> AgentIdentity | None:
        """The user a mention or an id names (whether they are an agent is asked apart)."""
        found = _USER.match(ref.strip())
        if found is None:
            return None
        name, locale = await self.profile(found.group(1))
        return AgentIdentity("slack", found.group(1), name, locale)
