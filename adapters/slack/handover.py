"""The hand-over to L3 in Slack: a modal with the three fields (core.agents.handover), opened by
the card's Escalate button or `/helpdesk escalate 1042` at L2; its submission escalates.

Slack lets a modal's submission be answered within three seconds, with `response_action:
errors` to keep it open with a message under each field; anything else closes it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.commands import DeskCommands, render
from adapters.slack.mrkdwn import escape, plain
from core.agents import Escalate, Refused
from core.agents.handover import HandoverForm, problems
from core.agents.notices import button_inactive
from core.domain.handover import FIELD_MAX, FIELDS, Handover
from core.i18n import translator

log = logging.getLogger(__name__)
CALLBACK = "desk:handover"  # the modal's callback_id
VALUE = "value"  # each input's action_id; its block_id is the field's key
TITLE_LIMIT = 24  # a modal's title, submit and close texts


def handover_view(form: HandoverForm, channel: str) -> dict[str, Any]:
    """The modal; its private_metadata carries the ticket and where to say a refusal."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": escape(form.intro)}}]
    for field in form.fields:
        blocks.append({
            "type": "input", "block_id": field.key,
            "label": {"type": "plain_text", "text": plain(field.label, 2000)},
            "hint": {"type": "plain_text", "text": plain(field.hint, 2000)},
            "element": {"type": "plain_text_input", "action_id": VALUE, "multiline": True,
                        "max_length": FIELD_MAX},
        })
    return {
        "type": "modal", "callback_id": CALLBACK, "private_metadata": f"{form.number}:{channel}",
        "title": {"type": "plain_text", "text": plain(form.title, TITLE_LIMIT)},
        "submit": {"type": "plain_text", "text": plain(form.submit, TITLE_LIMIT)},
        "close": {"type": "plain_text", "text": plain(form.cancel, TITLE_LIMIT)},
        "blocks": blocks,
    }


def submitted(view: dict[str, Any]) -> dict[str, str]:
    """The fields as submitted (an input left empty comes as a null value)."""
    values = (view.get("state") or {}).get("values") or {}
    return {key: str(((values.get(key) or {}).get(VALUE) or {}).get("value") or "") for key in FIELDS}


class HandoverModal:
    def __init__(self, client: AsyncWebClient, commands: DeskCommands) -> None:
        self.client = client
        self.commands = commands

    async def open(self, trigger_id: str, form: HandoverForm, channel: str) -> bool:
        try:
            await self.client.views_open(trigger_id=trigger_id, view=handover_view(form, channel))
        except SlackApiError as exc:  # an expired trigger (over three seconds): said by the caller
            log.warning("slack: the hand-over modal could not be opened: %s", exc.response.get("error"))
            return False
        return True

    async def submit(self, ack: Callable[..., Awaitable[Any]], body: dict[str, Any],
                     tell: Callable[[str, str, str], Awaitable[None]]) -> None:
        """Escalate with the submitted hand-over: a missing field keeps the modal open with the
        reason under it; a refusal (say, escalated meanwhile) too, under the first field."""
        view, user = body["view"], body["user"]["id"]
        number, _, channel = str(view.get("private_metadata") or "").partition(":")
        who = await self.commands.who(user)
        values = submitted(view)
        wrong = problems(translator(who.locale), values)
        if not number.isdigit():  # not a modal of ours
            await ack(response_action="errors", errors={FIELDS[0]: button_inactive(translator(who.locale))})
            return
        if wrong:
            await ack(response_action="errors", errors=wrong)
            return
        result = await self.commands.act(who, Escalate(int(number), "", Handover(**values)))
        if isinstance(result, Refused):
            await ack(response_action="errors", errors={FIELDS[0]: plain(result.text, 2000)})
            return
        await ack()
        if isinstance(result, HandoverForm):  # pragma: no cover - a hand-over was given
            return
        if channel:
            await tell(channel, user, render(result))
