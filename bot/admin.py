"""Operators' commands: `helpdesk-bot db ...` (the Alembic migrations), `customer forget` and `org ...`."""

from __future__ import annotations

import asyncio
import sys

from alembic.util import CommandError

from bot.bootstrap import migrated, reachable
from bot.settings import Settings
from core.storage.db import Database

EXIT_FAILED = 1
EXIT_REFUSED = 2


async def db_command(settings: Settings, action: str, revision: str | None) -> int:
    from core.storage import migrate

    if action == "history":  # the migrations shipped: no database needed, but its place shown if it answers
        print("\n".join(migrate.history(await _current_or_none(settings))))
        return 0
    db = Database(settings.database_url)
    try:
        await reachable(db)  # a database that cannot be used: one line naming DATABASE_URL
        if action == "upgrade":
            await migrate.upgrade(db, revision or "head")
        elif action == "downgrade":
            await migrate.downgrade(db, revision or "")
        current, head = await migrate.current_revision(db), migrate.head_revision()
    except CommandError as exc:
        print(f"helpdesk-bot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await db.dispose()
    if current is None:
        print(f"database has no schema (head is {head}): run `helpdesk-bot db upgrade`")
    elif current == head:
        print(f"database is at revision {current} (head)")
    else:
        print(f"database is at revision {current} (head is {head})")
    return 0


async def _current_or_none(settings: Settings) -> str | None:
    from core.storage.migrate import current_revision

    db = Database(settings.database_url)
    try:
        return await current_revision(db)
    except Exception:
        return None
    finally:
        await db.dispose()


async def forget_command(settings: Settings, platform: str, user_id: str, yes: bool) -> int:
    from core.services.forget import find_customer, forget_customer

    who = f"{platform}:{user_id}"
    db = Database(settings.database_url)
    try:
        await reachable(db)
        found = await find_customer(db, platform, user_id)
        if found is None:
            print(f"helpdesk-bot: no customer {who}", file=sys.stderr)
            return EXIT_FAILED
        customer, tickets = found
        if not yes:
            if not sys.stdin.isatty():
                print("helpdesk-bot: refusing to forget a customer without --yes when standard input "
                      "is not a terminal", file=sys.stderr)
                return EXIT_REFUSED
            print(f"Forget customer {who} (#{customer.id}, {tickets} ticket(s))? Their names, ids, "
                  f"messages' text, files and pending notifications are deleted for good; the tickets "
                  f"stay, anonymous.")
            if (await asyncio.to_thread(input, "Type 'yes' to go on: ")).strip().lower() != "yes":
                print("nothing changed")
                return EXIT_REFUSED
        done = await forget_customer(db, platform, user_id)
    finally:
        await db.dispose()
    if done is None:  # forgotten by someone else meanwhile
        print(f"helpdesk-bot: no customer {who}", file=sys.stderr)
        return EXIT_FAILED
    print(f"forgot customer {who} (#{done.customer_id}; now forgotten-{done.customer_id})")
    for label, count in (
        ("tickets anonymised", done.tickets),
        ("messages' text erased", done.messages),
        ("attachments deleted", done.attachments),
        ("files deleted", done.files),
        ("rating comments erased", done.ratings),
        ("drafts deleted", done.drafts),
        ("notifications to them deleted", done.notifications_deleted),
        ("agents' notifications stripped of text", done.notifications_cleared),
        ("sent replies cleared", done.inbound_replies_cleared),
    ):
        print(f"  {label:<40} {count:>6}")
    return 0


async def org_command(settings: Settings, words: list[str]) -> int:
    """`helpdesk-bot org ...`: the agents' org command, answered in English; a refusal goes to
    standard error with exit code 1."""
    from core.agents.actions import Incomplete, Org, parse
    from core.agents.organisations import org_incomplete, run_org
    from core.agents.results import Refused, Result, as_text
    from core.agents.wording import explain
    from core.domain.errors import DomainError
    from core.i18n import translator
    from core.services.organisations import OrganisationService

    t = translator("en")
    # Each argument is one word: one the shell kept whole with spaces is a quoted name.
    action = parse(" ".join(["org", *(f'"{w}"' if not w.split() or len(w.split()) > 1 else w for w in words)]))
    result: Result
    if isinstance(action, Incomplete):
        result = org_incomplete(t, "helpdesk-bot ", action)
    else:
        assert isinstance(action, Org)
        try:
            async with migrated(settings) as db:
                result = await run_org(t, OrganisationService(db), action, "helpdesk-bot ")
        except DomainError as exc:
            result = Refused(explain(t, exc))
    if isinstance(result, Refused):
        print(f"helpdesk-bot: {result.text}", file=sys.stderr)
        return EXIT_FAILED
    print(as_text(result))
    return 0
