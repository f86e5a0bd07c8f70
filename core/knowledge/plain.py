"""An article's Markdown as plain chat text, and cut to a chat message's size.

Plain text because a Reply is plain text (each channel escapes it for its own markup): headings
become lines of their own, list items start with «• », links read «text (url)», emphasis and
code markers go. The common Markdown of help articles is meant, not all of CommonMark: tables
and HTML stay as written.
"""

from __future__ import annotations

import re

from core.domain.model import MESSAGE_MAX

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)(\d{1,3})[.)]\s+(.*)$")
_QUOTE = re.compile(r"^\s{0,3}>\s?")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_CODE = re.compile(r"`([^`]+)`")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])")


def _link(match: re.Match[str]) -> str:
    text, url = match.group(1).strip(), match.group(2)
    shown = url.removeprefix("mailto:")
    return shown if not text or text == shown or text == url else f"{text} ({shown})"


def inline(text: str) -> str:
    """One line's Markdown as plain text."""
    text = _IMAGE.sub(_link, text)
    text = _LINK.sub(_link, text)
    text = _AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    text = _CODE.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _STRIKE.sub(r"\1", text)
    return _ESCAPE.sub(r"\1", text)


def plain(markdown: str) -> str:
    """The Markdown as plain text: paragraphs joined into lines, one blank line between blocks."""
    out: list[str] = []
    paragraph: list[str] = []
    fenced = False

    def flush() -> None:
        if paragraph:
            out.append(" ".join(paragraph))
            paragraph.clear()

    def blank() -> None:
        flush()
        if out and out[-1]:
            out.append("")

    for raw in markdown.splitlines():
        if _FENCE.match(raw):
            flush()
            fenced = not fenced
            continue
        if fenced:
            out.append(raw.rstrip())
            continue
        line = _QUOTE.sub("", raw).rstrip()
        if not line.strip() or _RULE.match(line):
            blank()
        elif heading := _HEADING.match(line):
            blank()
            out.append(inline(heading.group(1)))
        elif bullet := _BULLET.match(line):
            flush()
            out.append("  " * (len(bullet.group(1)) // 2) + "• " + inline(bullet.group(2)))
        elif numbered := _NUMBERED.match(line):
            flush()
            out.append("  " * (len(numbered.group(1)) // 2) + f"{numbered.group(2)}. " + inline(numbered.group(3)))
        elif out and out[-1] and not paragraph and _is_item(out[-1]) and raw[:1] in (" ", "\t"):
            out[-1] += " " + inline(line.strip())  # a list item's continuation line
        else:
            if out and out[-1] and not paragraph and _is_item(out[-1]):
                out.append("")
            paragraph.append(inline(line.strip()))
    flush()
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _is_item(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith("• ") or bool(_NUMBERED.match(stripped))


def pieces(text: str, limit: int = MESSAGE_MAX) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut between paragraphs where it can be,
    else between lines, else between words (a single word longer than `limit` is cut)."""
    if len(text) <= limit:
        return [text] if text else []
    out: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit + 1]
        cut = max(window.rfind("\n\n"), 0) or max(window.rfind("\n"), 0) or max(window.rfind(" "), 0) or limit
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        out.append(rest)
    return out
