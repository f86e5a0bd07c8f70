"""Raw mails for the tests, written as mail programs and mail servers write them."""

from __future__ import annotations

import base64
import quopri

PERSON = "From: Jan <jan@example.cz>\nTo: support@example.com\nSubject: Hi\nMessage-ID: <p.1@example.cz>\n"


def b64(text: str, charset: str = "utf-8") -> str:
    return base64.encodebytes(text.encode(charset)).decode("ascii")


def qp(text: str, charset: str = "utf-8") -> str:
    return quopri.encodestring(text.encode(charset)).decode("ascii")


def mail(text: str) -> bytes:
    return text.lstrip("\n").replace("\n", "\r\n").encode("utf-8")


def dsn(status: str, action: str, returned: str) -> bytes:
    return mail(f"""
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: support@example.com
Subject: Undelivered Mail Returned to Sender
Message-Id: <20261205100001.ABC@mx.example.com>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.com.
I'm sorry to have to inform you that your message could not be delivered.

<nobody@example.org>: host mx.example.org said: 550 5.1.1 User unknown

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
Arrival-Date: Mon, 5 Dec 2026 10:00:00 +0000

Final-Recipient: rfc822; Nobody@example.org
Original-Recipient: rfc822;nobody@example.org
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--B1
{returned}
--B1--
""")


RETURNED_MESSAGE = """Content-Type: message/rfc822
Content-Disposition: inline

From: Help Desk <support@example.com>
To: nobody@example.org
Subject: [#1001] Your ticket is open
Message-ID: <hd.1001.abc@support.example.com>
Content-Type: text/plain

Your ticket #1001 is open.
"""
RETURNED_HEADERS = """Content-Type: text/rfc822-headers

From: Help Desk <support@example.com>
To: nobody@example.org
Subject: [#1001] Your ticket is open
Message-ID:
 <hd.1001.abc@support.example.com>
"""


PLAIN_BOUNCE = mail("""
From: MAILER-DAEMON@old.example.net
To: support@example.com
Subject: failure notice
In-Reply-To: <hd.1007.q@support.example.com>
Content-Type: text/plain

Hi. This is the qmail-send program at old.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.

<gone@old.example.net>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Message-ID: <hd.1008.r@support.example.com>
Subject: [#1008] Your ticket
""")
