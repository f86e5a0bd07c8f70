"""The e-mail tests' servers: a real IMAP server (Dovecot) and an SMTP server, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fakes.dovecot import Dovecot, require_dovecot
from tests.fakes.smtp_sink import SmtpSink

SINK_USER, SINK_PASSWORD = "helpdesk@example.test", "p@ss:w/rd#1"  # characters a URL must encode


@pytest.fixture
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    """A started SMTP server on 127.0.0.1 that wants a login; `url()` carries it."""
    sink = SmtpSink(user=SINK_USER, password=SINK_PASSWORD)
    await sink.start()
    try:
        yield sink
    finally:
        await sink.stop()


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    """A fresh Dovecot for each test (starting one is quick), stopped afterwards."""
    require_dovecot()
    with Dovecot(tmp_path / "dovecot") as server:
        yield server
