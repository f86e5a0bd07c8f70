"""Replies and notifications for customers who use the bot in a Slack DM."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import reply_blocks
from adapters.slack.desk import slack_failure
from core.chat.messages import Reply


class SlackCustomerSender:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, chat_id: str, reply: Reply) -> None:
        text, blocks = reply_blocks(reply)
        try:
            await self.client.chat_postMessage(channel=chat_id, text=text, blocks=blocks,
                                               unfurl_links=False, unfurl_media=False)
            for path, name in reply.files:
                await self.client.files_upload_v2(channel=chat_id, file=path, filename=name, title=name)
        except SlackApiError as exc:
            raise slack_failure(exc) from None
