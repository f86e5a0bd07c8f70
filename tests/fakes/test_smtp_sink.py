"""The SMTP sink's held DATA: answered late and kept, or, when the client hangs up meanwhile,
not kept at all (what the e-mail crash tests rely on)."""

from __future__ import annotations

import asyncio
import time
from email.message import EmailMessage

import aiosmtplib

from tests.fakes.smtp_sink import SmtpSink


def _mail(n: int) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "bot@example.com", "jana@example.cz", f"mail {n}"
    m.set_content("hello")
    return m


async def test_held_data_is_answered_late_and_kept() -> None:
    async with SmtpSink() as sink:
        sink.delay_next(0.3)
        started = time.monotonic()
        await aiosmtplib.send(_mail(1), hostname=sink.host, port=sink.port)
        assert time.monotonic() - started >= 0.3
        await aiosmtplib.send(_mail(2), hostname=sink.host, port=sink.port)  # only the next one was held
        assert [str(m["Subject"]) for m in sink.messages] == ["mail 1", "mail 2"] and sink.holding == 0


async def test_a_client_gone_while_held_leaves_nothing() -> None:
    async with SmtpSink() as sink:
        sink.delay_next(30)
        client = aiosmtplib.SMTP(hostname=sink.host, port=sink.port)
        await client.connect()
        sending = asyncio.create_task(client.send_message(_mail(1)))
        while not sink.holding:
            await asyncio.sleep(0.01)
        client.close()  # as a killed process's socket is closed
        sending.cancel()
        deadline = time.monotonic() + 10
        while sink.holding and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert sink.holding == 0 and sink.messages == []
