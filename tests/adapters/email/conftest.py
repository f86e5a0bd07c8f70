"""The e-mail tests' world: the whole process on a real mailbox and SMTP server, agents in Slack
(the servers' fixtures, `dovecot` and `smtp_sink`, are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.email.world import MailWorld, start_mail_world
from tests.fakes.dovecot import Dovecot
from tests.fakes.smtp_sink import SmtpSink


@pytest.fixture
async def world(tmp_path: Path, dovecot: Dovecot, smtp_sink: SmtpSink,
                monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MailWorld]:
    if dovecot.cert is not None:
        monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert))  # the mailbox's STARTTLS is trusted
    async for started in start_mail_world(tmp_path, dovecot, smtp_sink):
        yield started
