"""A configuration section's keys that belong to a channel, spelled `<channel>_<key>`: core
gathers them by channel, for the channel to read, and names none."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any


def desk_key(key: str) -> tuple[str, str] | None:
    found = re.fullmatch(r"(.+?)_(?:desk_chat|channel)", key)
    return (found.group(1), "") if found else None


def address_key(key: str) -> tuple[str, str] | None:
    found = re.fullmatch(r"(.+?)_addresses", key)
    return (found.group(1), "") if found else None


def gather(data: Any, fields: Iterable[str], into: str, split: Callable[[str], tuple[str, str] | None]) -> Any:
    """Move a section's keys that are not its own fields and that `split` reads as (channel,
    key) into the mapping `into`, by channel: core keeps them for the channel, naming none."""
    if not isinstance(data, dict):
        return data
    known = set(fields)
    data = dict(data)
    gathered: dict[str, Any] = {}
    for name in [k for k in data if isinstance(k, str) and k not in known]:
        parts = split(name)
        if parts is not None:
            channel, key = parts
            value = data.pop(name)
            if key:
                gathered.setdefault(channel, {})[key] = value
            else:
                gathered[channel] = value
    if gathered:
        mine = data.get(into)
        data[into] = {**gathered, **mine} if isinstance(mine, dict) else gathered
    return data
