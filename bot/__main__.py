"""`python -m bot` is `helpdesk-bot`."""

from bot.cli import main

raise SystemExit(main())
