"""The e-mail tests' servers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

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
