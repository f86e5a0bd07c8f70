"""Agents' words in the Telegram desk group: a command (`/queue@HelpDeskBot billing`), a note
(`note: …` or `/note …` in a ticket's topic), and the agents' core's results laid out as
Telegram HTML. Only shapes are turned into actions here; the agents' core decides."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace

from telegram import BotCommand

from adapters.telegram.render import split_text
from adapters.telegram.startup import NAME
from core.agents import Action, ArticleList, ArticleSearch, Incomplete, Offer, Post, ReportView, Result, as_text, parse
from core.agents.actions import SendArticle, encode
from core.agents.wording import usage
from core.chat.messages import Choice, Reply
from core.i18n import Translator

PREFIX = "/"  # how commands are typed in the group (help and examples show it)
NOTE_PREFIX = "note:"
# A bot command as Telegram marks one: a slash, a name, maybe the bot's @username, then a space or the end.
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{3,64}))?(?=\s|$)(.*)", re.S)


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # lower case, without the slash and the bot's name
    rest: str  # what follows, as typed
    mine: bool  # addressed to this bot, or to no bot in particular


def command_of(text: str, username: str | None) -> Command | None:
    """The command a message starts with; None for a message that is no command."""
    found = _COMMAND.fullmatch(text)
    if found is None:
        return None
    name, to, rest = found.groups()
    mine = to is None or (username is not None and to.lower() == username.lower())
    return Command(name.lower(), rest.strip(), mine)


def note_of(text: str) -> str | None:
    """The body of a message written as an internal note (`note: …`), else None."""
    stripped = text.lstrip()
    return stripped[len(NOTE_PREFIX):].strip() if stripped[:len(NOTE_PREFIX)].lower() == NOTE_PREFIX else None


def command_action(command: Command, number: int | None = None) -> Action:
    """The agents' core's action of a command; in a ticket's topic (`number`), a command that
    names no ticket is about the topic's own (`/claim`, `/status resolved`)."""
    action = parse(f"{command.name} {command.rest}")
    if number is not None and isinstance(action, Incomplete) and action.needs == "number":
        action = parse(f"{command.name} {number} {command.rest}")
    if number is not None and isinstance(action, ArticleSearch) and action.number is None:
        action = replace(action, number=number)  # `/kb words`: in this ticket's customer's language
    if number is not None and isinstance(action, Post) and action.number == number:
        action = replace(action, via=NAME)  # typed in the topic: the topic shows it already
    return action


def result_html(result: Result) -> list[str]:
    """A result as Telegram HTML messages, each within Telegram's 4,096 characters of text."""
    if isinstance(result, ReportView):  # a fixed-width table
        return [f"<pre>{html.escape(part, quote=False)}</pre>" for part in split_text(result.text)]
    return [html.escape(part, quote=False) for part in split_text(as_text(result))]


def result_replies(result: Result, locale: str, *, buttons: bool = False) -> list[Reply]:
    """A result as replies in the group: its HTML parts, and (`buttons`: in the ticket's topic,
    where they are pressed) under the articles found a button per article that sends it
    (`ag:kbsend:1042:slug`), under an offer its picks (Log time, the time spent on a ticket resolved)."""
    replies = [Reply(part, locale=locale) for part in result_html(result)]
    if buttons and isinstance(result, ArticleList) and result.number is not None and result.rows and replies:
        rows = tuple((Choice(encode(SendArticle(result.number, r.slug)), f"{result.send}: {r.title}"),)
                     for r in result.rows)
        replies[-1] = replace(replies[-1], choices=rows)
    if buttons and isinstance(result, Offer) and replies:
        replies[-1] = replace(replies[-1], choices=offer_choices(result))
    return replies


def offer_choices(offer: Offer) -> tuple[tuple[Choice, ...], ...]:
    """An offer's picks as buttons, row by row, each with the agents' core's key."""
    return tuple(tuple(Choice(encode(p.action), p.label) for p in row) for row in offer.picks)


def agent_commands(t: Translator) -> list[BotCommand]:
    """The agents' commands for the desk group's command menu, described in `t`'s language."""
    found: list[BotCommand] = []
    for typed, what in usage(t, ""):
        name = typed.split()[0]
        if any(c.command == name for c in found):  # one entry per command: its first form (`kb words`, `kb send …`)
            continue
        found.append(BotCommand(name, what[:256]))
        if name == "report":
            found.append(BotCommand("stats", what[:256]))
    return found
