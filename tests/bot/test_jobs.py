"""The retention job: what is past RETENTION_DAYS goes, 0 keeps everything; long-gone workers
are forgotten either way."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.bootstrap import build
from bot.jobs import scheduler
from bot.settings import Settings
from core.storage.models import InboundEvent, OutboxMessage, Worker
from tests.conftest import FakeClock


@pytest.mark.parametrize(("days", "left"), [(30, 1), (0, 2)])
async def test_retention_job(tmp_path: Path, days: int, left: int) -> None:
    clock = FakeClock()
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
                        RETENTION_DAYS=days)
    desk = await build(settings, clock=clock)
    try:
        async with desk.db.write() as session:
            for i, age in enumerate((timedelta(days=31), timedelta(days=29))):
                at = clock.now - age
                session.add(OutboxMessage(idempotency_key=str(i), platform="telegram", chat_id="1", event="e",
                                          params={}, status="sent", attempts=1, next_attempt_at=at,
                                          created_at=at, sent_at=at))
                session.add(InboundEvent(platform="telegram", event_id=str(i), state="done", at=at))
            session.add(Worker(id="gone", heartbeat_at=clock.now - timedelta(days=2)))
        job = scheduler(desk).get_job("retention")
        assert job is not None
        await job.func()
        async with desk.db.read() as session:
            for table in (OutboxMessage, InboundEvent):
                assert (await session.execute(select(func.count()).select_from(table))).scalar_one() == left
            assert (await session.execute(select(Worker.id))).first() is None
    finally:
        await desk.close()


def test_retention_days_setting() -> None:
    assert Settings(_env_file=None).retention_days == 30
    with pytest.raises(ValueError):
        Settings(_env_file=None, RETENTION_DAYS=-1)
