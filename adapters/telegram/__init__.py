"""Telegram: python-telegram-bot 22 feeding the conversation core and rendering its replies."""

import os

# Opt in to PTB's coming behaviour (RetryAfter.retry_after as a timedelta); the code reads both.
os.environ.setdefault("PTB_TIMEDELTA", "true")
