"""The Slack channel's pace and identity rule, as it declares them to the relay."""

from __future__ import annotations

from core.delivery.contract import Pacing, pace_keys
from core.domain.config import Delivery

NAME = "slack"


def pacing(delivery: Delivery) -> Pacing:
    """Slack's pace (chat.postMessage about 1/s per channel or DM), or the configuration's
    `slack_channel_interval_seconds` in its [delivery] section."""
    interval = pace_keys(delivery, NAME, {"channel_interval_seconds": 1.0})["channel_interval_seconds"]
    return Pacing(chat_interval=interval, group_interval=interval)


def is_group(chat_id: str) -> bool:
    """A DM's id starts with D; public and private channels' with C or G."""
    return not chat_id.startswith("D")
