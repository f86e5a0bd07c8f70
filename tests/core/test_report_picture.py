"""The report as a picture: a generated month drawn in every language, a valid PNG of the
expected size with something on it, every glyph found; Persian shaped and ordered; days in the
reader's calendar; drawing off the event loop, in threads side by side.

With REPORT_PNG_DIR set, the month's pictures are kept there for a person to look at."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import struct
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.domain.config import LANGUAGES, HelpdeskConfig
from core.i18n import translator
from core.reports.daily import daily_rows, tally
from core.reports.weekly import report_picture
from core.services.reports import ALL, build_report
from core.storage.db import Database
from tests.core.month import fill_month
from tests.core.test_loop_blocking import LIMIT, Steps, steps  # noqa: F401 - `steps` is a fixture

UTC_ZONE = ZoneInfo("UTC")
FIRST = date(2026, 11, 1)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def colours(png: bytes) -> int:
    """How many colours the picture uses (a blank or nearly blank one has a handful)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])


class Missing(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "findfont" in message or "missing" in message.lower():
            self.seen.append(message)


@pytest.fixture
def glyphs() -> object:
    """Fails the test on matplotlib's missing-glyph warnings and font look-ups that fell back."""
    handler = Missing()
    logger = logging.getLogger("matplotlib")
    logger.addHandler(handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    logger.removeHandler(handler)
    problems = handler.seen + [str(w.message) for w in caught if "Glyph" in str(w.message)
                               or "findfont" in str(w.message) or "missing from font" in str(w.message)]
    assert problems == []


async def test_a_month_in_every_language(db: Database, config: HelpdeskConfig, glyphs: object) -> None:
    month = await fill_month(db, config, FIRST)
    keep = os.environ.get("REPORT_PNG_DIR")
    sizes = {}
    for lang in LANGUAGES:
        png = await report_picture(db, config, translator(lang), month.start, month.end, UTC_ZONE)
        assert png_size(png) == (1600, 1200)
        assert colours(png) > 200, lang  # bars, lines, anti-aliased text: not a blank page
        sizes[lang] = len(png)
        if keep and db.is_sqlite:
            Path(keep).mkdir(parents=True, exist_ok=True)
            Path(keep, f"report-month-{lang}.png").write_bytes(png)
    assert len(set(sizes.values())) == len(LANGUAGES)  # each drawn in its own words
    week = datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    for lang in ("en", "fa"):
        png = await report_picture(db, config, translator(lang), *week, UTC_ZONE)
        assert png_size(png) == (1600, 1200)
        if keep and db.is_sqlite:
            Path(keep, f"report-week-{lang}.png").write_bytes(png)


async def test_the_days_figures_match_what_was_written(db: Database, config: HelpdeskConfig) -> None:
    month = await fill_month(db, config, FIRST)
    daily = tally(await daily_rows(db, month.start, month.end), UTC_ZONE)
    assert list(daily.days) == [date(2026, 11, d) for d in range(1, 31)]
    assert {d: x.opened for d, x in daily.days.items()} == {d: month.opened[d] for d in daily.days}
    assert {d: x.resolved for d, x in daily.days.items()} == {d: month.resolved[d] for d in daily.days}
    assert sum(x.first_late for x in daily.days.values()) == month.first_late
    assert sum(x.deflected for x in daily.days.values()) == month.deflected
    assert sum(x.shown for x in daily.days.values()) == month.shown
    assert sum(x.minutes for x in daily.days.values()) == sum(month.minutes.values())
    report = await build_report(db, config, month.start, month.end)
    assert sorted(report.ratings[ALL]) == sorted(month.ratings)
    assert dict(report.time.per_agent) == dict(month.minutes)
    # In Tehran a day begins three and a half hours earlier: a ticket of 22:00 UTC is the next day's.
    tehran = tally(await daily_rows(db, month.start, month.end), ZoneInfo("Asia/Tehran"))
    assert list(tehran.days)[0] == date(2026, 11, 1) and list(tehran.days)[-1] == date(2026, 12, 1)
    assert sum(x.opened for x in tehran.days.values()) == sum(month.opened.values())


async def test_an_organisations_picture_counts_its_people_only(db: Database, config: HelpdeskConfig) -> None:
    month = await fill_month(db, config, FIRST)
    rows = await daily_rows(db, month.start, month.end, organisation="Acme", articles=False)
    assert 0 < len(rows.opened) < sum(month.opened.values()) and rows.articles == ()
    png = await report_picture(db, config, translator("cs"), month.start, month.end, UTC_ZONE, organisation="acme")
    assert png_size(png) == (1600, 1200)


async def test_an_empty_week_is_drawn_with_its_panels_saying_so(db: Database, config: HelpdeskConfig,
                                                               glyphs: object) -> None:
    start, end = datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
    for lang in ("en", "fa"):
        png = await report_picture(db, config, translator(lang), start, end, UTC_ZONE)
        assert png_size(png) == (1600, 1200) and colours(png) > 20


def ink(text: str) -> list[int]:
    """The widths of the runs of inked pixel columns of `text` drawn alone, left to right."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 1), dpi=100)
    canvas = FigureCanvasAgg(figure)
    figure.text(0.5, 0.5, text, fontsize=40, ha="center", va="center", family="DejaVu Sans")
    canvas.draw()
    columns = (np.asarray(canvas.buffer_rgba())[:, :, :3] < 128).any(axis=(0, 2))
    runs, width = [], 0
    for inked in columns:
        if inked:
            width += 1
        elif width:
            runs.append(width)
            width = 0
    return runs


def test_persian_is_drawn_joined_and_right_to_left() -> None:
    from matplotlib import ft2font

    assert ft2font.__libraqm_version__  # the text engine that shapes and orders it
    # Joined, «تیکت» is one run of ink; with its letters kept apart (a non-joiner between
    # each), four or more.
    assert len(ink("تیکت")) == 1 and len(ink("\u200c".join("تیکت"))) >= 4
    # «اش»: the alef, a thin stroke, first in the text, is drawn rightmost.
    alef_shin = ink("اش")
    assert len(alef_shin) >= 2 and alef_shin[-1] < alef_shin[0] / 3


def test_labels_read_as_the_reader_writes_them() -> None:
    from core.reports.chart import day_label, percent, shaped

    t = translator("fa")
    text = shaped(t, t._("Report for the period: {start} – {end}", start="a", end="b"))
    assert "\u2068" not in text and "\u2069" not in text and "\u200f" not in text
    assert day_label(t, date(2026, 11, 30), weekday=False) == "۹ آذر"
    assert day_label(t, date(2026, 11, 30), weekday=True) == "دوشنبه ۹ آذر"
    assert percent(t, 0.85) == "۸۵٪"
    assert day_label(translator("cs"), date(2026, 11, 30), weekday=False) == "30. 11."
    assert day_label(translator("en"), date(2026, 11, 30), weekday=True) == "Mon, Nov 30"


async def test_pictures_are_drawn_off_the_loop_and_side_by_side(db: Database, config: HelpdeskConfig) -> None:
    month = await fill_month(db, config, FIRST, days=7)
    ticks = 0

    async def ticking() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(ticking())
    pngs = await asyncio.gather(*(report_picture(db, config, translator(lang), month.start, month.end, UTC_ZONE)
                                  for lang in ("en", "fa", "ru")))
    ticker.cancel()
    assert all(png_size(png) == (1600, 1200) for png in pngs)
    assert ticks > 5  # the loop ran while they were drawn


async def test_a_busy_months_picture_never_blocks_the_loop(db: Database, config: HelpdeskConfig,
                                                           steps: Steps) -> None:  # noqa: F811 - the fixture
    from sqlalchemy import insert

    from core.storage.models import Ticket

    month = await fill_month(db, config, FIRST)
    async with db.write() as session:  # and 5,000 tickets more, all answered and resolved
        await session.execute(insert(Ticket), [dict(
            number=100_000 + i, customer_id=1, department="technical", request_type="bug", priority="normal",
            subject="s", description="d", status="resolved", tier=1, created_at=(at := month.start + timedelta(
                minutes=8 * i)), updated_at=at, first_response_at=at + timedelta(hours=1),
            resolved_at=at + timedelta(hours=5), waiting_since=None) for i in range(5000)])
    await report_picture(db, config, translator("fa"), month.start, month.end, UTC_ZONE)  # first use: fonts
    steps.on = True
    png = await report_picture(db, config, translator("fa"), month.start, month.end, UTC_ZONE)
    steps.on = False
    assert png_size(png) == (1600, 1200)
    assert steps.longest < LIMIT, f"a loop step took {steps.longest * 1000:.0f} ms of CPU: {steps.what}"
