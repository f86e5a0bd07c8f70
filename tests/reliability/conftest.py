"""What the reliability tests share: a PostgreSQL database of their own for several processes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import _admin_async


@pytest.fixture
async def pg_url(pg_database: str, pg_dropper: Callable[[str], None]) -> AsyncIterator[str]:
    """A throwaway database of its own (the processes migrate it), skipped as the other
    PostgreSQL tests are when no server answers. It is dropped in the background: after the
    processes' many writes, the drop's checkpoint takes seconds the next test need not wait."""
    name = f"{make_url(pg_database).database}_{uuid.uuid4().hex[:8]}"
    await _admin_async(pg_database, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_database).set(database=name).render_as_string(hide_password=False)
    finally:
        pg_dropper(name)
