"""Platform adapters: Telegram, Slack and the console, each a thin layer over core."""
