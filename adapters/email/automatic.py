"""Mail no person wrote: auto-replies, lists, bulk mail and bounces (RFC 3834, RFC 3464).

A mail found automatic here is never answered, so that two robots cannot write to each other
for ever; a bounce of our own mail tells which customer cannot be reached.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32

from adapters.email.body import decode_bytes, payload_bytes

_ROBOT_SENDERS = re.compile(r"^(?:mailer[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply)$", re.I)
_BOUNCE_SENDERS = re.compile(r"^(?:mailer[-_.]?daemon|postmaster)$", re.I)
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_MESSAGE_ID_LINE = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]+>)", re.I | re.M)
_RECIPIENT_LINE = re.compile(r"^\s*(?:Final|Original)-Recipient:\s*rfc822;\s*<?([^\s<>;]+@[^\s<>;]+)>?", re.I | re.M)
_QMAIL_RECIPIENT = re.compile(r"^<([^\s<>]+@[^\s<>]+)>:\s*$", re.M)
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoreply-From")

Header = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class Bounce:
    recipient: str | None  # the address that failed (Final-Recipient / Original-Recipient)
    message_ids: tuple[str, ...]  # Message-IDs of our mail that bounced, with <>
    permanent: bool  # 5.x.x or failed (or a mailer-daemon's text without a report): True; 4.x.x: False


def local_part(address: str) -> str:
    return address.rsplit("@", 1)[0] if "@" in address else ""


def automatic_reason(msg: Message, header: Header, sender: str, bounce: Bounce | None) -> str | None:
    """Why this mail is automatic, for the log and the agents; None for a mail a person wrote."""
    if bounce is not None:
        return "bounce"
    auto = (header("Auto-Submitted") or "").strip()
    if auto and auto.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {auto}"
    if header("X-Auto-Response-Suppress") is not None:
        return "X-Auto-Response-Suppress"
    precedence = (header("Precedence") or "").strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("List-Id", "List-Unsubscribe", *_AUTOREPLY_HEADERS):
        if header(name) is not None:
            return name
    local = local_part(sender)
    if _ROBOT_SENDERS.match(local):
        return local.lower()
    if msg.get_content_type() == "multipart/report":
        return "multipart/report"
    if (header("Return-Path") or "").strip() == "<>":
        return "Return-Path: <>"
    return None


def find_bounce(
    msg: Message, sender: str, own_ids: tuple[str, ...], text: str
) -> Bounce | None:
    """A delivery report (RFC 3464), or a mailer-daemon's plain text; None for anything else.
    `own_ids`: the bounce's In-Reply-To and References, which some servers set."""
    if msg.get_content_type() == "multipart/report":
        if str(msg.get_param("report-type", "")).lower() != "delivery-status":
            return None
        return _report(msg, own_ids)
    if not _BOUNCE_SENDERS.match(local_part(sender)):
        return None
    found = _RECIPIENT_LINE.search(text) or _QMAIL_RECIPIENT.search(text)
    if found is None:  # a person at postmaster@ writes like anyone else: no failed address, no bounce
        return None
    ids = _unique((*_MESSAGE_ID_LINE.findall(text), *own_ids))
    return Bounce(recipient=found.group(1).lower(), message_ids=ids, permanent=True)


def _report(msg: Message, own_ids: tuple[str, ...]) -> Bounce | None:
    recipient: str | None = None
    statuses: list[tuple[str, str]] = []  # (action, status) per recipient
    returned: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            for block in _status_blocks(part):
                rcpt = block.get("Final-Recipient") or block.get("Original-Recipient")
                if rcpt and recipient is None:
                    recipient = _address(str(rcpt))
                action, status = str(block.get("Action", "")).strip().lower(), str(block.get("Status", "")).strip()
                if action or status:
                    statuses.append((action, status))
        elif ctype in ("message/rfc822", "message/global", "text/rfc822-headers"):
            returned += _returned_ids(part)
    if statuses and all(a in ("delivered", "relayed", "expanded") for a, _ in statuses):
        return None  # a success notice, no bounce
    permanent = not statuses or any(s.startswith("5") or (a == "failed" and not s.startswith("4")) for a, s in statuses)
    return Bounce(recipient=recipient, message_ids=_unique((*returned, *own_ids)), permanent=permanent)


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package parses the header blocks itself
        return [p for p in payload if isinstance(p, Message)]
    text = decode_bytes(payload_bytes(part), "utf-8")
    return [HeaderParser(policy=compat32).parsestr(block) for block in re.split(r"\n\s*\n", text) if block.strip()]


def _returned_ids(part: Message) -> list[str]:
    payload = part.get_payload()
    if isinstance(payload, list):
        inner = [p for p in payload if isinstance(p, Message)]
        return [m for p in inner[:1] for m in _MESSAGE_ID.findall(str(p.get("Message-ID", "")))]
    return _MESSAGE_ID_LINE.findall(decode_bytes(payload_bytes(part), "utf-8"))


def _address(field: str) -> str | None:
    # "rfc822; user@example.com" (RFC 3464's address-type; value)
    value = field.split(";", 1)[-1].strip().strip("<>").strip()
    return value.lower() if "@" in value else None


def _unique(ids: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))
