"""What the e-mail channel tests need: a real IMAP server (Dovecot) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.dovecot import Dovecot, require_dovecot


@pytest.fixture
def dovecot(tmp_path: Path) -> Iterator[Dovecot]:
    """A fresh Dovecot for each test (starting one is quick), stopped afterwards."""
    require_dovecot()
    with Dovecot(tmp_path / "dovecot") as server:
        yield server
