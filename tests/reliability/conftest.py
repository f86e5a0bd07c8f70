"""What the reliability tests share: a PostgreSQL database of their own for several processes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import pytest

from tests.bench.pg import temporary_database
from tests.conftest import _pg_server_url


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A throwaway database of its own (the processes migrate it), skipped as the other
    PostgreSQL tests are when no server answers."""
    if _pg_server_url() is None:
        pytest.skip("PostgreSQL not available: set TEST_DATABASE_URL or run a server on 127.0.0.1:5432")
    async with contextlib.AsyncExitStack() as stack:
        try:
            url = await stack.enter_async_context(temporary_database())
        except Exception as exc:  # any failure means "no usable server"
            if os.environ.get("CI"):
                raise  # in CI a server that answers must work: a skip would hide it
            pytest.skip(f"PostgreSQL refused a test database: {exc}")
        yield url
