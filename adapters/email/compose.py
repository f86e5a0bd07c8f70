"""Replies as e-mails: a text and an HTML part in the customer's language, threaded by ticket.

A mail cannot carry buttons, so the choices a customer can answer by number (confirming a
resolution, rating, approving a quote) become a numbered list, and the others are left out: what a reply of "2"
means is fixed by `options`, which the reading side uses too. The message ids are made by
adapters.email.ids.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, cast

from core.chat.actions import QuoteAnswer, Rate, Settle, decode
from core.chat.messages import Reply
from core.i18n import Translator, translator

REFERENCES_KEPT = 20  # the thread's first message and the latest ones: enough for any mail program
_ID = re.compile(r"<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>")  # printable ASCII, no <>
_TYPE_PART = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*")


class IdsHeader(UnstructuredHeader):
    """Message-ID, In-Reply-To, References written one id a line and never encoded: the email
    package folds a long id into an encoded word, which no mail program matches any more."""

    name: str  # BaseHeader's, which the registry mixes in

    def fold(self, *, policy: Any) -> str:
        linesep: str = policy.linesep
        return f"{self.name}: " + f"{linesep} ".join(str(self).split()) + linesep


def _policy() -> policy.EmailPolicy[EmailMessage]:
    registry = HeaderRegistry()
    for name in ("message-id", "in-reply-to", "references"):
        registry.map_to_type(name, cast(type[BaseHeader], IdsHeader))
    # 7bit: bodies in quoted-printable or base64, so any server relays them unchanged.
    return policy.default.clone(cte_type="7bit", header_factory=registry)


POLICY = _policy()


def options(reply: Reply) -> list[tuple[int, str]]:
    """The reply's choices a mail can answer by number, as the mail shows them: those that are
    a Settle or a Rate, numbered from 1 in their order (Rate's number is its score, Settle's
    "solved" is 1 and "not solved" 2, as the chat orders them). A rating shows as stars."""
    found = []
    for choice in reply.flat_choices:
        action = decode(choice.key)
        if isinstance(action, Rate):
            found.append("★" * action.score)
        elif isinstance(action, Settle | QuoteAnswer):  # Approve 1, Decline 2, as the chat orders them
            found.append(choice.label)
    return list(enumerate(found, 1))


def compose(reply: Reply, *, sender: str, sender_name: str, to: str, subject: str,
            message_id: str, in_reply_to: str | None = None, references: Sequence[str] = (),
            automatic: str | None = None, files: Sequence[tuple[bytes, str, str]] = (),
            now: datetime | None = None) -> EmailMessage:
    """The reply as a mail from `sender` to `to`. `subject` is whole (its ticket tag included);
    `automatic` is RFC 3834's Auto-Submitted value ("auto-replied", "auto-generated") for a mail
    no person wrote; `files` are (content, file name, content type)."""
    t = translator(reply.locale)
    moment = now or datetime.now(UTC)
    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(display_name=_one_line(sender_name), addr_spec=sender)
    msg["To"] = to
    msg["Subject"] = _one_line(subject)
    msg["Date"] = format_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    msg["Message-ID"] = message_id
    parent = _ids([in_reply_to or ""])
    if parent:
        msg["In-Reply-To"] = parent[-1]
    thread = thread_ids(references, in_reply_to)
    if thread:
        msg["References"] = " ".join(thread)
    if automatic:
        msg["Auto-Submitted"] = automatic
    msg["X-Auto-Response-Suppress"] = "All"  # no out-of-office answers to what we send
    answers = options(reply)
    msg.set_content(text_body(reply, t, answers), charset="utf-8")
    msg.add_alternative(html_body(reply, t, answers, subject), subtype="html", charset="utf-8")
    for content, name, content_type in files:
        maintype, subtype = _content_type(content_type)
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=_file_name(name))
    msg["Content-Language"] = t.locale  # after the parts: building them moves Content-* headers inward
    return msg


def thread_ids(references: Sequence[str], in_reply_to: str | None) -> list[str]:
    """References for a reply: the earlier ones and the parent, each once, in order; when too
    many, the first (the thread's start) and the latest are kept (RFC 5322 3.6.4)."""
    ids = _ids([*references, in_reply_to or ""])
    if len(ids) > REFERENCES_KEPT:
        ids = ids[:1] + ids[len(ids) - REFERENCES_KEPT + 1:]
    return ids


def _ids(values: Sequence[str]) -> list[str]:
    """Well-formed ids, each once; a value may hold several (a whole References header)."""
    found: list[str] = []
    for value in values:
        for token in value.split():
            if not token.startswith("<"):
                token = f"<{token}>"
            if _ID.fullmatch(token) and token not in found:
                found.append(token)
    return found


def text_body(reply: Reply, t: Translator, answers: list[tuple[int, str]]) -> str:
    blocks = [reply.text.strip("\n")]
    if answers:
        blocks.append("\n".join([_choose(t),
                                 *(f"{t.number(n)} — {label}" for n, label in answers)]))
    if reply.ticket is not None:
        # "-- " opens a signature: mail programs grey it and leave it out of the quote.
        blocks.append("-- \n" + _footer(reply.ticket, t))
    return "\n\n".join(blocks) + "\n"


def html_body(reply: Reply, t: Translator, answers: list[tuple[int, str]], subject: str) -> str:
    direction, align = ("rtl", "right") if t.rtl else ("ltr", "left")
    parts = [f'<div style="margin:0 0 16px 0">{_lines(reply.text.strip(chr(10)))}</div>']
    if answers:
        marker = "persian" if t.locale == "fa" else "decimal"
        items = "".join(f'<li style="margin:4px 0">{_lines(label)}</li>' for _, label in answers)
        parts.append(
            f'<p style="margin:0 0 8px 0">{_lines(_choose(t))}</p>'
            f'<ol style="margin:0 0 16px 0;padding-{align}:24px;list-style-type:{marker}">{items}</ol>')
    if reply.ticket is not None:
        parts.append('<p style="margin:24px 0 0 0;padding-top:8px;border-top:1px solid #dddddd;'
                     f'color:#666666;font-size:13px">{_lines(_footer(reply.ticket, t))}</p>')
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{t.locale}" dir="{direction}">\n'
        '<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(_one_line(subject))}</title></head>\n"
        '<body style="margin:0;padding:0;background:#ffffff">\n'
        f'<div dir="{direction}" style="max-width:640px;padding:16px;text-align:{align};'
        "font-family:'Segoe UI',Tahoma,Arial,sans-serif;font-size:15px;line-height:1.6;color:#222222\">\n"
        + "\n".join(parts) + "\n</div>\n</body>\n</html>\n")


def _choose(t: Translator) -> str:
    return t._("To answer, reply to this message with the number of your choice:")


def _footer(ticket: int, t: Translator) -> str:
    return t._("To write to ticket {ticket}, simply reply to this message.", ticket=t.ticket(ticket))


def _lines(text: str) -> str:
    """Escaped, its line breaks kept (as <br>: mail programs drop white-space styles)."""
    return "<br>\n".join(html.escape(line) for line in text.split("\n"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _content_type(value: str) -> tuple[str, str]:
    maintype, _, subtype = value.strip().lower().partition(";")[0].partition("/")
    if (not _TYPE_PART.fullmatch(maintype) or not _TYPE_PART.fullmatch(subtype)
            or maintype in ("multipart", "message")):  # containers the email package builds itself
        return "application", "octet-stream"
    return maintype, subtype


def _file_name(name: str) -> str:
    base = re.split(r"[\\/]", name)[-1]
    cleaned = "".join(c for c in base if c.isprintable()).strip()
    return cleaned or "attachment"
