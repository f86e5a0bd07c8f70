"""A mail's body: its text (the plain part, or the HTML part as text) and its files.

Decoding never raises: a wrong or unknown charset decodes with replacement characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32

from inscriptis import get_text

# Deeper nesting than this is no mail a person sent; the rest is not read.
MAX_DEPTH = 32
# Parts of a delivery report that are for machines (automatic.py reads them), not for the text.
_REPORT_PARTS = {"message/delivery-status", "text/rfc822-headers", "message/disposition-notification"}


@dataclass(frozen=True, slots=True)
class MailFile:
    name: str  # as the mail names it (decoded RFC 2231/2047), "" if none
    data: bytes
    content_type: str  # as declared


def clean(value: str) -> str:
    """Undo the email package's surrogate escapes (raw 8-bit header bytes) as UTF-8."""
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return value.encode("utf-8", "replace").decode("utf-8", "replace")


def decode_bytes(data: bytes, charset: str | None) -> str:
    # A declared charset is often wrong (8-bit UTF-8 labelled us-ascii, or no label at all).
    declared = (charset or "").strip().lower()
    tries = [declared] if declared and declared not in ("us-ascii", "ascii") else []
    for name in (*tries, "utf-8"):
        try:
            return data.decode(name)
        except (LookupError, UnicodeError, ValueError, TypeError):
            continue
    for name in tries:
        try:
            return data.decode(name, "replace")
        except (LookupError, UnicodeError, ValueError, TypeError):
            continue
    return data.decode("utf-8", "replace")


def payload_bytes(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def part_text(part: Message) -> str:
    """A text/* part's content as text: charset decoded, lines normalised, flowed text joined."""
    text = decode_bytes(payload_bytes(part), part.get_content_charset()).replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_type() == "text/html":
        return html_text(text)
    if str(part.get_param("format", "")).lower() == "flowed":
        return unflow(text, delsp=str(part.get_param("delsp", "")).lower() == "yes")
    return text


def html_text(html: str) -> str:
    try:
        text = get_text(html)
    except Exception:  # an HTML converter failing on hostile markup must not lose the mail
        text = ""
    if not text.strip():  # nesting too deep for the HTML parser, say: the words without the tags
        text = re.sub(r"[ \t]+", " ", re.sub(r"<[^>]*>", " ", html))
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def unflow(text: str, *, delsp: bool) -> str:
    """RFC 3676: a line ending in a space continues on the next line of the same quote depth."""
    out: list[str] = []
    pending: tuple[int, str] | None = None
    for raw in text.split("\n"):
        depth = len(raw) - len(raw.lstrip(">"))
        line = raw[depth:]
        if line.startswith(" "):  # space-stuffing
            line = line[1:]
        flowed = line.endswith(" ") and line != "-- "
        if flowed and delsp:
            line = line[:-1]
        if pending is not None and pending[0] == depth:
            line = pending[1] + line
        elif pending is not None:
            out.append(_quoted(*pending))
        pending = (depth, line) if flowed else None
        if not flowed:
            out.append(_quoted(depth, line))
    if pending is not None:
        out.append(_quoted(*pending))
    return "\n".join(out)


def _quoted(depth: int, line: str) -> str:
    return (">" * depth + " " + line) if depth else line


def message_bytes(inner: Message) -> bytes:
    for pol in (None, compat32):
        try:
            return inner.as_bytes() if pol is None else inner.as_bytes(policy=pol)
        except Exception:  # a broken forwarded mail still arrives, maybe empty
            continue
    return b""


def _is_attachment(part: Message) -> bool:
    return str(part.get("Content-Disposition", "")).split(";")[0].strip().lower() == "attachment"


def filename(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name") or ""
    except Exception:  # a malformed parameter names nothing
        return ""
    return clean(name if isinstance(name, str) else "").strip()


@dataclass(frozen=True, slots=True)
class Body:
    text: str
    files: tuple[MailFile, ...]


def read_body(msg: Message) -> Body:
    """The text: the first body part (its plain rendering if it has one), then any other unnamed
    inline text parts (a mail program may split a body around an inline image). Every other leaf
    is a file."""
    leaves = _leaves(msg, (), 0)
    body = _choose_body(leaves)
    texts: list[str] = [part_text(body)] if body is not None else []
    files: list[MailFile] = []
    for part, alternatives in leaves:
        ctype = part.get_content_type()
        if part is body or ctype in _REPORT_PARTS:
            continue
        if ctype in ("message/rfc822", "message/global"):
            files.append(_forwarded(part))
        elif _is_text(part) or part.get_content_maintype() == "multipart":
            # (A multipart that is a leaf lost its boundary: its raw text beats losing the body.)
            if _preferred(part, alternatives) and not any(body is a for a in alternatives):
                texts.append(part_text(part))  # else another rendering of a text already taken
        else:
            files.append(MailFile(name=filename(part), data=payload_bytes(part), content_type=ctype))
    return Body(text="\n\n".join(t.strip("\n") for t in texts if t.strip()), files=tuple(files))


def _is_text(part: Message) -> bool:
    """An inline, unnamed text/plain or text/html part: a body, not a file."""
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and not _is_attachment(part)
        and not filename(part)
    )


def _preferred(part: Message, alternatives: tuple[Message, ...]) -> bool:
    """False for the HTML rendering of a text whose plain rendering is there too."""
    return part.get_content_type() != "text/html" or not any(
        a.get_content_type() == "text/plain" and _is_text(a) for a in alternatives
    )


def _choose_body(leaves: list[tuple[Message, tuple[Message, ...]]]) -> Message | None:
    # Not EmailMessage.get_body: it fails on a nested multipart whose boundary is missing.
    for part, alternatives in leaves:
        if _is_text(part):
            plain = [a for a in alternatives if a.get_content_type() == "text/plain" and _is_text(a)]
            return plain[0] if plain else part
    return None


def _leaves(part: Message, alternatives: tuple[Message, ...], depth: int) -> list[tuple[Message, tuple[Message, ...]]]:
    """Leaf parts, each with the leaves of the multipart/alternative it belongs to (if any).
    A message/rfc822 part is a leaf: a forwarded mail is one file, not part of this body."""
    if not part.is_multipart() or part.get_content_maintype() == "message":
        return [(part, alternatives)]
    if depth >= MAX_DEPTH:
        return []
    children = [p for p in part.get_payload() if isinstance(p, Message)]
    if part.get_content_type() == "multipart/alternative":
        alternatives = tuple(leaf for child in children for leaf, _ in _leaves(child, (), depth + 1))
    return [leaf for child in children for leaf in _leaves(child, alternatives, depth + 1)]


def _forwarded(part: Message) -> MailFile:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
    if inner is None:
        return MailFile(name=filename(part), data=payload_bytes(part), content_type=part.get_content_type())
    try:
        subject = clean(str(inner.get("Subject", "") or ""))
    except Exception:  # a broken subject names nothing
        subject = ""
    subject = " ".join(subject.split())
    name = filename(part) or ((subject or "message") + ".eml")
    return MailFile(name=name, data=message_bytes(inner), content_type=part.get_content_type())
