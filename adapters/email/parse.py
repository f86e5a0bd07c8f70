"""One incoming mail's raw bytes (RFC 5322, as IMAP gives them) read into a typed `Mail`.

Pure and I/O-free. A header that does not parse falls back to its raw text; a mail that cannot be
read at all raises `Unreadable`, whose message goes into the quarantine report.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from adapters.email.automatic import Bounce, automatic_reason, find_bounce
from adapters.email.body import MailFile, clean, read_body
from adapters.email.language import detect_language
from adapters.email.reply import reply_text
from adapters.email.subject import ticket_tag, topic

__all__ = [
    "Bounce", "Mail", "MailFile", "Unreadable",
    "detect_language", "parse_mail", "ticket_tag", "topic",
]

# The inbound events table keys events by at most this many characters.
MAX_EVENT_ID = 128
_ID = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True, slots=True)
class Mail:
    event_id: str  # the Message-ID without <> (domain lowercased), else "sha256:" + hex of the raw bytes
    message_id: str | None  # as given, with <>
    sender: str  # From's address, lowercased ("" when missing or unparseable)
    sender_name: str  # From's display name, decoded
    reply_to: str | None
    recipients: tuple[str, ...]  # lowercased addresses from To, Cc, Delivered-To, X-Original-To
    subject: str  # decoded, whitespace collapsed
    text: str  # the whole text: the text/plain part, or the HTML part as text
    reply_text: str  # `text` without quoted history and signature
    in_reply_to: tuple[str, ...]  # message ids with <>
    references: tuple[str, ...]
    content_language: str | None  # first tag of Content-Language, lowercased
    language: str | None  # "en" | "fa" | "ru" | "cs" | "pt", see detect_language
    files: tuple[MailFile, ...]  # attachments, inline non-text parts, forwarded mails (.eml)
    automatic: str | None  # why this mail is automatic, None for a mail a person wrote
    bounce: Bounce | None
    size: int  # len(raw)


class Unreadable(Exception):
    """The bytes are no mail that can be read; str(exc) says why, in English."""


def parse_mail(raw: bytes) -> Mail:
    """Read one mail. Raises Unreadable (and nothing else) when it cannot be read."""
    if not isinstance(raw, bytes | bytearray) or not raw.strip():
        raise Unreadable("empty message")
    raw = bytes(raw)
    try:
        msg = message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
    except Exception as exc:  # the parser is lenient; whatever still escapes it means garbage
        raise Unreadable(f"the message could not be parsed ({type(exc).__name__})") from exc
    if not isinstance(msg, EmailMessage) or not msg.keys():
        raise Unreadable("no header block")
    headers = _Headers(msg)
    if headers.get("From") is None:
        raise Unreadable("no From header")
    try:
        body = read_body(msg)
    except Exception as exc:  # the email package failing on a broken structure: quarantine, not crash
        raise Unreadable(f"the body could not be read ({type(exc).__name__})") from exc

    sender_name, sender = headers.address("From")
    message_id = _first_id(headers.get("Message-ID") or "")
    in_reply_to, references = headers.ids("In-Reply-To"), headers.ids("References")
    content_language = _content_language(headers.get("Content-Language"))
    subject = " ".join((headers.get("Subject") or "").split())
    reply = reply_text(body.text)
    try:
        bounce = find_bounce(msg, sender, (*in_reply_to, *references), body.text)
    except Exception:  # a report too broken to name what bounced is still automatic (multipart/report)
        bounce = None
    reply_to = headers.address("Reply-To")[1]
    return Mail(
        event_id=_event_id(message_id, raw),
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        reply_to=reply_to or None,
        recipients=headers.addresses("To", "Cc", "Delivered-To", "X-Original-To"),
        subject=subject,
        text=body.text,
        reply_text=reply,
        in_reply_to=in_reply_to,
        references=references,
        content_language=content_language,
        language=detect_language(reply, content_language),
        files=body.files,
        automatic=automatic_reason(msg, headers.get, sender, bounce),
        bounce=bounce,
        size=len(raw),
    )


class _Headers:
    """Header access that never raises: a header the email package cannot parse (a broken
    encoded-word, an address list that does not parse) is read from its raw text instead."""

    def __init__(self, msg: EmailMessage) -> None:
        self._msg = msg

    def all(self, name: str) -> list[str]:
        try:
            return [clean(str(value)) for value in self._msg.get_all(name, [])]
        except Exception:  # fall back to the raw text, decoded as best we can
            return [_decode_raw(v) for k, v in self._msg.raw_items() if k.lower() == name.lower()]

    def get(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def address(self, name: str) -> tuple[str, str]:
        """(display name, lowercased address) of the header's first address; ("", "") if none."""
        try:
            header = self._msg[name]
            found = header.addresses if header is not None else ()
            if found:
                return clean(found[0].display_name), clean(found[0].addr_spec).lower()
        except Exception:  # parsed below from the raw text
            pass
        value = self.get(name)
        if not value:
            return "", ""
        display, addr = parseaddr(value)
        return display, (addr.lower() if "@" in addr else "")

    def addresses(self, *names: str) -> tuple[str, ...]:
        found: list[str] = []
        for name in names:
            values = self.all(name)
            for _, addr in getaddresses(values):
                if "@" in addr:
                    found.append(addr.strip().lower())
        return tuple(dict.fromkeys(found))

    def ids(self, name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f"<{i}>" for v in self.all(name) for i in _ID.findall(v)))


def _decode_raw(value: str) -> str:
    try:
        return clean(str(make_header(decode_header(value))))
    except Exception:  # even the encoded-words are broken: the raw text is all there is
        return clean(value)


def _first_id(value: str) -> str | None:
    found = _ID.search(value)
    if found:
        return found.group(0)
    value = value.strip()
    return f"<{value}>" if value and not any(c.isspace() for c in value) else None


def _event_id(message_id: str | None, raw: bytes) -> str:
    if message_id is None:
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    local, at, domain = message_id[1:-1].rpartition("@")
    event_id = f"{local}@{domain.lower()}" if at else domain
    if len(event_id) > MAX_EVENT_ID:
        return "sha256:" + hashlib.sha256(event_id.encode("utf-8", "replace")).hexdigest()
    return event_id


def _content_language(value: str | None) -> str | None:
    tag = (value or "").split(",")[0].strip().lower()
    return tag or None
