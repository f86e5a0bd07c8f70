"""The weekly report's picture, through the real process against the fake Telegram and Slack
APIs: once its moment has come it is uploaded to the Slack desk channel and sent as a photo to
the Telegram desk group's General topic, once each, however many processes look and however
often they restart."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.jobs import scheduler
from core.domain.schedule import WEEKDAYS
from core.i18n import translator
from core.reports.weekly import WEEKLY_REPORT, queue_weekly
from core.storage.db import Database
from core.storage.models import OutboxMessage
from tests.adapters.fast_config import fast_config
from tests.adapters.slack.conftest import DESK as CHANNEL
from tests.adapters.slack.conftest import Desk, start_world
from tests.adapters.telegram.conftest import TOKEN
from tests.adapters.telegram.desk_helpers import DESK as GROUP
from tests.adapters.telegram.desk_helpers import desk_settled
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.telegram_api import FakeTelegramAPI

ZONE = ZoneInfo("Europe/Prague")


def weekly_config(tmp_path: Path, moment: datetime) -> Path:
    """The bundled configuration, its weekly report due at `moment` (to the minute)."""
    text = fast_config(tmp_path).read_text(encoding="utf-8")
    when = f'weekly = "{WEEKDAYS[moment.weekday()]} {moment:%H:%M}"\ntimezone = "{ZONE.key}"'
    path = tmp_path / "weekly.toml"
    path.write_text(text.replace('weekly = ""', when, 1), encoding="utf-8")
    return path


@pytest.fixture
async def both(tmp_path: Path) -> AsyncIterator[Desk]:
    moment = datetime.now(ZONE) - timedelta(minutes=2)  # a moment just past: due now
    async with FakeTelegramAPI(token=TOKEN) as tg, FakeSlackAPI() as slack:
        tg.add_forum(GROUP)
        async for world in start_world(tmp_path, tg, slack, TELEGRAM_DESK_CHAT=str(GROUP), DEFAULT_LOCALE="fa",
                                       HELPDESK_CONFIG=str(weekly_config(tmp_path, moment))):
            yield world


async def test_the_weekly_picture_reaches_each_desk_once(both: Desk, tmp_path: Path) -> None:
    from PIL import Image

    app = both.desk
    job = scheduler(app).get_job("reports")
    assert job is not None
    other = Database(f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}")  # a second process on the database
    try:
        await asyncio.gather(job.func(), job.func(),
                             queue_weekly(other, app.config, app.services.news.desks, app.clock()))
        await both.settle()
        await desk_settled(both.running)
        await job.func()  # a restart within the hour looks again
        await queue_weekly(other, app.config, app.services.news.desks, app.clock())
        await both.settle()
    finally:
        await other.dispose()
    async with app.db.read() as session:
        rows = (await session.execute(select(OutboxMessage.platform, OutboxMessage.chat_id, OutboxMessage.status)
                                      .where(OutboxMessage.event == WEEKLY_REPORT))).all()
    assert sorted(rows) == [("desk:slack", CHANNEL, "sent"), ("desk:telegram", str(GROUP), "sent")]

    uploads = [m for m in both.slack.messages_in(CHANNEL) if m.get("files")]
    assert len(uploads) == 1
    file = uploads[0]["files"][0]
    assert file["name"].startswith("report-") and file["name"].endswith(".png")
    assert uploads[0]["text"].startswith("The weekly report: ")  # the Slack desk reads English
    photos = both.tg.requests_for("sendPhoto", GROUP)
    assert len(photos) == 1 and photos[0].ok
    assert "message_thread_id" not in photos[0].params  # the General topic
    fa = translator("fa")
    run = app.config.reports.last_run(app.clock(), ZONE)
    assert run is not None
    assert fa.date(run.date() - timedelta(days=1)) in photos[0].params["caption"]  # the group reads Persian
    with Image.open(io.BytesIO(photos[0].files["photo"].content)) as image:
        assert image.size == (1600, 1200) and image.format == "PNG"
