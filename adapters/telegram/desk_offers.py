"""An offer's message on the desk (the time spent, asked under a card) edited in place as it is answered."""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from adapters.telegram.commands import offer_choices, result_html
from core.agents import Offer, Result

log = logging.getLogger(__name__)


async def replace_offer(bot: Bot, message: Message, result: Result) -> None:
    """An offer's message shows the next step, or what was done with its buttons gone."""
    choices = offer_choices(result) if isinstance(result, Offer) else ()
    keys = InlineKeyboardMarkup([[InlineKeyboardButton(c.label[:64], callback_data=c.key) for c in row]
                                 for row in choices]) if choices else None
    try:
        await bot.edit_message_text(result_html(result)[0], message.chat_id, message.message_id,
                                    parse_mode=ParseMode.HTML, reply_markup=keys)
    except BadRequest as exc:  # not modified (a double tap), or the message is gone
        log.debug("telegram: an offer was not replaced: %s", exc.message)
    except TelegramError as exc:
        log.warning("telegram: an offer was not replaced: %s", type(exc).__name__)
