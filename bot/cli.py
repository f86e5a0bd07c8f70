"""`helpdesk-bot`: run the bot, migrate the database, check the configuration, forget a customer."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pydantic import ValidationError

from bot import __version__, admin, bootstrap
from bot.bootstrap import migrated
from bot.logs import setup_logging
from bot.settings import Settings
from core.domain.config import LANGUAGES, ConfigError, load_config
from core.startup import StartupError

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="helpdesk-bot",
        description="A help desk in Telegram, Slack and e-mail. Settings come from the environment or .env.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (the console chat when no platform is configured)",
                   description="Run the bot: Telegram, Bale and Slack when their tokens are set.")
    console = sub.add_parser("console", help="the console chat: a customer in the terminal",
                             description="Chat as a customer in the terminal; /agent commands act "
                                         "as an agent. Reads stdin, writes stdout.")
    console.add_argument("--lang", choices=LANGUAGES, help="the customer's language (skips the choice)")
    console.add_argument("--user", default="console-user", help="customer id (default: console-user)")
    db = sub.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("current", help="the revision the database is at",
                      description="Show the Alembic revision of the database in DATABASE_URL.")
    db_up = db_sub.add_parser("upgrade", help="apply the migrations to DATABASE_URL",
                              description="Apply the Alembic migrations up to REVISION (default: all).")
    db_up.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    db_down = db_sub.add_parser("downgrade", help="step the schema back to a revision",
                                description="Undo the migrations after REVISION ('base': all of them; "
                                            "'-1': the last one). Data in what is undone is lost.")
    db_down.add_argument("revision", help="target revision, e.g. 0009, -1 or base")
    db_sub.add_parser("history", help="the migrations, newest first",
                      description="List the migrations shipped with the bot, marking the database's.")
    customer = sub.add_parser("customer", help="a customer's data", description="A customer's data.")
    customer_sub = customer.add_subparsers(dest="customer_command", metavar="ACTION", required=True)
    forget = customer_sub.add_parser(
        "forget", help="delete what identifies a customer (an erasure request)",
        description="Delete what identifies the customer: names and ids, their messages' text, their "
                    "files, drafts and notifications. Their tickets stay, anonymous, for the statistics.")
    forget.add_argument("platform", help="the customer's platform, e.g. telegram, bale, slack, console")
    forget.add_argument("user_id", help="the customer's user id on that platform")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    outbox = sub.add_parser("outbox", help="notifications waiting, sent and dead-lettered",
                            description="Count the outbox by platform and status; optionally put dead "
                                        "letters back in line.")
    outbox.add_argument("--retry-dead", action="store_true", help="retry every dead letter")
    report = sub.add_parser("report", help="tickets, response times, SLA breaches, satisfaction",
                            description="A report for a period (default: the last 30 days).")
    report.add_argument("--from", dest="start", type=_date, help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="end", type=_date, help="last day, YYYY-MM-DD (included)")
    report.add_argument("--csv", metavar="FILE", help="write CSV to FILE ('-' for standard output)")
    report.add_argument("--organisation", metavar="NAME",
                        help="only the tickets of this organisation's people")
    report.add_argument("--png", metavar="FILE", help="draw the report as a picture (PNG) into FILE; "
                                                      "its period defaults to the last 7 days")
    report.add_argument("--lang", choices=LANGUAGES,
                        help="the picture's language (default: the configuration's first language)")
    export = sub.add_parser("time-export", help="time logged on tickets, as CSV for a time tracker",
                            description="The time agents logged in a period (default: the last 30 days), one "
                                        "row per entry: date, agent, ticket, activity, minutes, note.")
    export.add_argument("--from", dest="start", type=_date, help="first day, YYYY-MM-DD")
    export.add_argument("--to", dest="end", type=_date, help="last day, YYYY-MM-DD (included)")
    export.add_argument("--csv", metavar="FILE", default="-", help="write to FILE ('-', the default: standard output)")
    org = sub.add_parser(
        "org", help="organisations: list, create, sharing, domains, members",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Organisations, as agents manage them with their org command:\n"
                    "  org                                      list them\n"
                    "  org new NAME [none|primary|everybody]    create one\n"
                    "  org NAME                                 show one\n"
                    "  org NAME sharing MODE [replies|noreplies]\n"
                    "  org NAME domain add|remove DOMAIN\n"
                    "  org NAME member add ADDRESS|#1042 [primary]\n"
                    "  org NAME member remove ADDRESS\n"
                    "  org NAME delete\n"
                    "Quote a name with spaces: helpdesk-bot org \"Acme Corp\" domain add acme.com")
    org.add_argument("words", nargs=argparse.REMAINDER, help="the command, as above")
    check = sub.add_parser("check-config", help="validate the help-desk configuration file",
                           description="Validate HELPDESK_CONFIG (or the file given) and exit.")
    check.add_argument("file", nargs="?", help="TOML file (default: HELPDESK_CONFIG or the bundled one)")
    kb = sub.add_parser("kb", help="the knowledge base's articles", description="The knowledge base's articles.")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    kb_check = kb_sub.add_parser("check", help="validate every article",
                                 description="Check every article of the configuration's [knowledge] folder "
                                             "and print each problem with its file (exit code 1 if any).")
    kb_check.add_argument("--config", metavar="FILE", help="TOML file (default: HELPDESK_CONFIG or the bundled one)")
    return parser


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD)") from None


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = ["invalid settings:"]
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "?"
            lines.append(f"  {name.upper()}: {str(err['msg']).removeprefix('Value error, ')}")
        raise StartupError("\n".join(lines)) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        if command == "check-config":
            return _check_config(args.file)
        if command == "kb":
            return _kb_check(args.config)
        settings = _settings()
        if command == "console" or (command == "run" and not bootstrap.enabled(settings)):
            if "log_level" not in settings.model_fields_set:
                # The console chat is a conversation in the terminal: only problems interrupt it.
                settings = settings.model_copy(update={"log_level": "WARNING"})
        setup_logging(settings)
        if command == "db":
            return asyncio.run(admin.db_command(settings, args.db_command, getattr(args, "revision", None)))
        if command == "customer":
            return asyncio.run(admin.forget_command(settings, args.platform, args.user_id, args.yes))
        if command == "report":
            if args.png:
                return asyncio.run(_report_png(settings, args.start, args.end, args.png, args.organisation, args.lang))
            return asyncio.run(_report(settings, args.start, args.end, args.csv, args.organisation))
        if command == "time-export":
            return asyncio.run(_time_export(settings, args.start, args.end, args.csv))
        if command == "org":
            return asyncio.run(admin.org_command(settings, args.words))
        if command == "outbox":
            return asyncio.run(_outbox(settings, args.retry_dead))
        if command == "console":
            return asyncio.run(_console(settings, args.lang, args.user))
        return asyncio.run(_run(settings))
    except ConfigError as exc:
        print(f"helpdesk-bot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StartupError as exc:  # its message names the setting and the fix; a traceback would not help
        print(f"helpdesk-bot: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def _check_config(file: str | None) -> int:
    from bot.bootstrap import check_channel_keys

    path = file or _settings().helpdesk_config
    config = load_config(path)
    check_channel_keys(config)
    print(
        f"{path or 'bundled default configuration'}: OK "
        f"({len(config.departments)} departments, {len(config.request_types)} request types, "
        f"{len(config.priorities)} priorities, {len(config.calendars)} calendars)"
    )
    return 0


def _kb_check(file: str | None) -> int:
    from core.knowledge.files import problems

    config = load_config(file or _settings().helpdesk_config)
    folder = config.knowledge.folder
    if folder is None:
        print("no knowledge base: the configuration has no [knowledge] folder")
        return 0
    articles, found = problems(folder, [d.code for d in config.departments], config.languages[0])
    for problem in found:
        print(f"{problem.path}: {'' if problem.fatal else 'warning: '}{problem.problem}")
    if found:
        print(f"{len(found)} problem(s) in {folder}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{lang} {sum(a.locale == lang for a in articles)}" for lang in LANGUAGES
                       if any(a.locale == lang for a in articles))
    print(f"{folder}: OK, {len(articles)} articles ({counts or 'none'})")
    return 0


async def _report(settings: Settings, start: date | None, end: date | None, csv_file: str | None,
                  organisation: str | None) -> int:
    from core.agents.report import render_csv, render_text
    from core.agents.wording import explain
    from core.i18n import translator
    from core.services.organisations import OrganisationError
    from core.services.reports import build_report

    config = load_config(settings.helpdesk_config, settings.default_locale)
    found = _period(start, end)
    if found is None:
        return EXIT_CONFIG
    try:
        async with migrated(settings) as db:
            report = await build_report(db, config, *found, organisation=organisation)
    except OrganisationError as exc:
        print(f"helpdesk-bot: {explain(translator('en'), exc)}", file=sys.stderr)
        return 1
    if csv_file == "-":
        sys.stdout.write(render_csv(config, report))
    elif csv_file:
        await asyncio.to_thread(Path(csv_file).write_text, render_csv(config, report),
                                encoding="utf-8", newline="")
        print(f"report written to {csv_file}")
    else:
        print(render_text(translator(config.languages[0]), config, report, bootstrap.knowledge(config)))
    return 0


def _period(start: date | None, end: date | None, days: int = 30) -> tuple[datetime, datetime] | None:
    """`--from`/`--to` as a half-open UTC range, whole days (default: the last `days` days);
    None, said on stderr, when --from is after --to."""
    last = end or datetime.now(UTC).date()
    first = start or last - timedelta(days=days - 1)
    if first > last:
        print("helpdesk-bot: --from is after --to", file=sys.stderr)
        return None
    return datetime.combine(first, time.min, UTC), datetime.combine(last + timedelta(days=1), time.min, UTC)


async def _report_png(settings: Settings, start: date | None, end: date | None, file: str,
                      organisation: str | None, language: str | None) -> int:
    """The report as a picture, its days UTC days as the text report's are."""
    from zoneinfo import ZoneInfo

    from core.agents.wording import explain
    from core.i18n import translator
    from core.reports.daily import MAX_DAYS
    from core.reports.weekly import report_picture
    from core.services.organisations import OrganisationError

    config = load_config(settings.helpdesk_config, settings.default_locale)
    found = _period(start, end, days=7)
    if found is None:
        return EXIT_CONFIG
    if (found[1] - found[0]).days > MAX_DAYS:
        print(f"helpdesk-bot: a picture shows at most {MAX_DAYS} days; choose a shorter --from/--to", file=sys.stderr)
        return EXIT_CONFIG
    try:
        async with migrated(settings) as db:
            png = await report_picture(db, config, translator(language or config.languages[0]), *found,
                                       ZoneInfo("UTC"), organisation=organisation)
    except OrganisationError as exc:
        print(f"helpdesk-bot: {explain(translator('en'), exc)}", file=sys.stderr)
        return 1
    try:
        await asyncio.to_thread(Path(file).write_bytes, png)
    except OSError as exc:
        print(f"helpdesk-bot: cannot write {file}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"report picture written to {file}")
    return 0


async def _time_export(settings: Settings, start: date | None, end: date | None, csv_file: str) -> int:
    from core.agents.report import time_csv
    from core.services.timelog import export_rows

    found = _period(start, end)
    if found is None:
        return EXIT_CONFIG
    async with migrated(settings) as db:
        rows = await export_rows(db, *found)
    if csv_file == "-":
        sys.stdout.write(time_csv(rows))
    else:
        await asyncio.to_thread(Path(csv_file).write_text, time_csv(rows), encoding="utf-8", newline="")
        print(f"{len(rows)} time entries written to {csv_file}")
    return 0


async def _outbox(settings: Settings, retry: bool) -> int:
    from core.delivery.relay import outbox_stats, retry_dead

    async with migrated(settings) as db:
        if retry:
            print(f"{await retry_dead(db)} dead letter(s) put back in line")
        stats = await outbox_stats(db)
    statuses = ("pending", "sending", "sent", "dead")
    print(f"{'platform':<10} " + " ".join(f"{s:>8}" for s in statuses))
    for platform in sorted({p for p, _ in stats}) or ["-"]:
        print(f"{platform:<10} " + " ".join(f"{stats.get((platform, s), 0):>8}" for s in statuses))
    return 0


async def _run(settings: Settings) -> int:
    if not bootstrap.enabled(settings):
        # Said once the database answered: a failure to start stays the only thing printed.
        return await _console(settings, None, "console-user", banner=(
            "No TELEGRAM_BOT_TOKEN or SLACK_BOT_TOKEN set: starting the console chat. "
            "See .env.example to connect a messenger."))
    from bot.bootstrap import build
    from bot.server import serve

    app = await build(settings)
    try:
        return await serve(app, settings)
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise
        # Only the HTTP server binds: nothing else at start-up meets these.
        raise StartupError(f"cannot listen on {settings.http_host}:{settings.http_port} (HTTP_HOST, HTTP_PORT): "
                           f"{(exc.strerror or type(exc).__name__).lower()}",
                           "Set HTTP_PORT to a free port (HTTP_HOST to an address of this machine), or stop "
                           "what listens there.") from None
    finally:
        await app.close()


async def _console(settings: Settings, language: str | None, user: str, banner: str = "") -> int:
    from adapters.console.agent import AgentConsole
    from adapters.console.chat import ConsoleChat, ConsoleScreen
    from bot.bootstrap import build
    from bot.jobs import deliver, running_jobs, scheduler, stop_jobs

    app = await build(settings, console=True)
    if language is not None and language not in app.config.languages:
        await app.close()
        raise ConfigError(f"--lang {language}: this help desk offers {', '.join(app.config.languages)} "
                          f"(the `languages` key of its configuration)")
    if banner:
        print(banner, file=sys.stderr)
    screen = app.channels["console"]
    assert isinstance(screen, ConsoleScreen)
    chat = ConsoleChat(app.conversation, AgentConsole(app.services), screen, app.relay, language=language,
                       user_id=user)
    background = asyncio.create_task(deliver(app.relay))
    jobs = scheduler(app)
    running = running_jobs(jobs)
    jobs.start()
    try:
        await chat.run()
        await app.relay.flush()
    finally:
        await stop_jobs(jobs, running)
        background.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await background
        await app.close()
    return 0


