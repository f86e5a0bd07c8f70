"""A thousand mails into the support mailbox: `python -m tests.bench --only mail [--quick]`.

A real Dovecot holds the mailbox and a real SMTP server (aiosmtpd) takes what the bot sends; the
bot is the whole process with e-mail as its only channel, on SQLite (and on PostgreSQL when a
server answers on 127.0.0.1:5432). The mailbox is filled before the bot starts with: new
requests from distinct senders in the five languages (75 %), the same senders' replies to their
tickets with the history quoted (15 %), out-of-office answers to our acknowledgements (5 %) and
newsletters (5 %). Printed: the time until every mail was taken and every answer sent, tickets
created (new requests and newsletters), duplicates (a request in more than one ticket), replies
filed in their ticket, answers sent (one per new request: replies, out-of-office answers and
newsletters get none) and loops (answers to automatic mail: must be 0).
"""

from __future__ import annotations

import asyncio
import email.utils
import imaplib
import os
import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.bootstrap import build
from bot.server import serve
from bot.settings import Settings
from core.storage.models import Ticket, TicketMessage
from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import free_port
from tests.bench.pg import temporary_database
from tests.fakes.dovecot import Dovecot, missing_reason
from tests.fakes.smtp_sink import SmtpSink

SUPPORT = "support@example.com"
WORDS = {
    "cs": ("Nelze se přihlásit", "Dobrý den, po aktualizaci se nemohu přihlásit do systému."),
    "fa": ("مشکل ورود", "سلام، پس از به‌روزرسانی نمی‌توانم وارد سامانه شوم."),
    "ru": ("Не могу войти", "Здравствуйте, после обновления не могу войти в систему."),
    "pt": ("Não consigo entrar", "Olá, depois da atualização não consigo entrar no sistema."),
    "en": ("Cannot log in", "Hello, since the update I cannot log in to the system."),
}


def _mail(sender: str, subject: str, body: str, **headers: str) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, SUPPORT, subject
    m["Date"] = email.utils.formatdate()
    m["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2])
    for key, value in headers.items():
        m[key.replace("_", "-")] = value
    m.set_content(body)
    return m.as_bytes()


def mailbox(count: int) -> tuple[list[bytes], int, int]:
    """The mails in the order they arrive; how many are new requests and how many replies. Each
    request carries a token (`req-N`) so that its ticket can be found, whatever its number."""
    new, replies, ooo = int(count * 0.75), int(count * 0.15), int(count * 0.05)
    bulk = count - new - replies - ooo
    mails = []
    languages = list(WORDS)
    for i in range(new):
        subject, body = WORDS[languages[i % 5]]
        mails.append(_mail(f"customer{i}@example.org", f"{subject} {i}", f"{body}\n\nreq-{i}"))
    # Requests are taken oldest first, so request i is ticket 1001 + i.
    for i in range(replies):
        mails.append(_mail(f"customer{i}@example.org", f"Re: [#{1001 + i}] {WORDS[languages[i % 5]][0]} {i}",
                           f"reply-{i}: still broken.\n\nOn Mon, 7 Dec 2026 at 10:00, Support <{SUPPORT}> wrote:\n"
                           f"> Thank you for your message.\n> req-{i}\n"))
    for i in range(ooo):
        mails.append(_mail(f"customer{new - 1 - i}@example.org", f"Out of office: [#{1001 + new - 1 - i}]",
                           "I am away until Monday.", Auto_Submitted="auto-replied"))
    for i in range(bulk):
        mails.append(_mail(f"news{i}@shop.example", f"Weekly offers {i}", f"Our offers. bulk-{i}", Precedence="bulk"))
    return mails, new, replies


def _fill(server: Dovecot, mails: list[bytes]) -> None:
    with server.session() as imap:
        for raw in mails:
            imap.append("INBOX", "", imaplib.Time2Internaldate(time.time()), raw)


async def one(folder: Path, database: str, count: int) -> dict[str, Any]:
    folder.mkdir(parents=True)
    server = Dovecot(folder / "dovecot")
    server.start()
    sink = SmtpSink()
    await sink.start()
    os.environ["SSL_CERT_FILE"] = str(server.cert)
    try:
        mails, new, replies = mailbox(count)
        await asyncio.to_thread(_fill, server, mails)
        settings = Settings(
            _env_file=None, DATABASE_URL=database, HTTP_PORT=free_port(),
            ATTACHMENTS_DIR=str(folder / "files"), HELPDESK_CONFIG=str(fast_config(folder)),
            EMAIL_ADDRESS=SUPPORT, EMAIL_IMAP_URL=server.url(), EMAIL_SMTP_URL=sink.url(), EMAIL_POLL_SECONDS=5,
        )
        app = await build(settings)
        stop = asyncio.Event()
        started = time.monotonic()
        task = asyncio.create_task(serve(app, settings, stop))
        channel: Any = app.served["email"]
        while channel.taken < count or len(sink.messages) < new:
            if time.monotonic() - started > 600:
                raise TimeoutError(f"{channel.taken} of {count} mails taken, {len(sink.messages)} answers")
            await asyncio.sleep(0.05)
        took = time.monotonic() - started
        await asyncio.sleep(1.0)  # anything more that would be sent (none should) has its chance
        stop.set()
        await asyncio.wait_for(task, 30)
        async with app.db.read() as s:
            tickets = int((await s.execute(select(func.count()).select_from(Ticket))).scalar_one())
            descriptions = list((await s.execute(select(Ticket.description))).scalars())
            bodies = list((await s.execute(select(TicketMessage.body))).scalars())
        await app.close()
        tokens = Counter(word for d in descriptions for word in d.split() if word.startswith(("req-", "bulk-")))
        filed = sum(1 for b in bodies if b.startswith("reply-") and "req-" not in b)
        to = Counter(str(m["To"]) for m in sink.messages)
        automatic = {f"news{i}@shop.example" for i in range(count)}
        return {
            "mails": count, "seconds": round(took, 1), "mails_per_second": round(count / took, 1),
            "tickets": tickets, "duplicates": sum(n - 1 for n in tokens.values() if n > 1),
            "replies_filed": filed, "replies_sent": replies, "answers": len(sink.messages),
            "answers_expected": new, "answered_twice": sum(1 for n in to.values() if n > 1),
            "loops": sum(n for address, n in to.items() if address in automatic),
            "unread_left": server.unseen(),
        }
    finally:
        await sink.stop()
        server.stop()


async def run(folder: Path, *, quick: bool = False) -> dict[str, Any]:
    reason = missing_reason()
    if reason:
        print(f"  skipped: {reason}")
        return {"skipped": reason}
    count = 100 if quick else 1000
    results: dict[str, Any] = {}
    for name in ("sqlite", "postgresql"):
        if name == "sqlite":
            figures = await one(folder / name, f"sqlite+aiosqlite:///{folder / 'bot.db'}", count)
        else:
            try:
                async with temporary_database() as url:
                    figures = await one(folder / name, url, count)
            except OSError as exc:
                print(f"  postgresql: skipped ({exc})")
                continue
        results[name] = figures
        print(f"  {name}: {figures['mails']} mails in {figures['seconds']} s ({figures['mails_per_second']}/s); "
              f"tickets {figures['tickets']}, duplicates {figures['duplicates']}, replies filed "
              f"{figures['replies_filed']}/{figures['replies_sent']}, answers {figures['answers']}/"
              f"{figures['answers_expected']} (to one address twice: {figures['answered_twice']}), loops "
              f"{figures['loops']}, unread left {figures['unread_left']}", flush=True)
    return results
