"""Telegram: python-telegram-bot 22 feeding the conversation core and rendering its replies."""
