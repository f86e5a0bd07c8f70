"""The baseline: a bare python-telegram-bot echo bot (defaults), against the same fake Bot API.

Usage: python -m tests.bench.echo_bot TOKEN API_URL
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "?")


def main() -> None:
    token, api = sys.argv[1], sys.argv[2].rstrip("/")
    app = ApplicationBuilder().token(token).base_url(f"{api}/bot").base_file_url(f"{api}/file/bot").build()
    app.add_handler(MessageHandler(filters.ALL, echo))
    app.run_polling(allowed_updates=["message"], poll_interval=0.0, timeout=25)


if __name__ == "__main__":
    main()
