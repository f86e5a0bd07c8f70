"""`helpdesk-bot report --png FILE`: the report as a picture, from a generated month."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from core.domain.config import load_config
from core.storage.db import Database
from core.storage.migrate import upgrade
from tests.core.month import fill_month
from tests.core.test_report_picture import colours, png_size


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=tmp_path, stdin=subprocess.DEVNULL)


async def month(url: str) -> None:
    from datetime import date

    db = Database(url)
    try:
        await upgrade(db)
        await fill_month(db, load_config(), date(2026, 11, 1))
    finally:
        await db.dispose()


def test_report_png(tmp_path: Path) -> None:
    asyncio.run(month(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"))
    out = tmp_path / "month-fa.png"
    done = cli(tmp_path, "report", "--png", str(out), "--lang", "fa", "--from", "2026-11-01", "--to", "2026-11-30")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"report picture written to {out}"
    assert png_size(out.read_bytes()) == (1600, 1200) and colours(out.read_bytes()) > 200
    week = cli(tmp_path, "report", "--png", "week.png", "--to", "2026-11-30", "--organisation", "ACME")
    assert week.returncode == 0 and png_size((tmp_path / "week.png").read_bytes()) == (1600, 1200)
    unknown = cli(tmp_path, "report", "--png", "x.png", "--organisation", "Nobody Ltd")
    assert unknown.returncode == 1 and "Nobody Ltd" in unknown.stderr and not (tmp_path / "x.png").exists()
    long = cli(tmp_path, "report", "--png", "x.png", "--from", "2020-01-01", "--to", "2026-11-30")
    assert long.returncode == 2 and "at most 366 days" in long.stderr
    nowhere = cli(tmp_path, "report", "--png", str(tmp_path / "no" / "such" / "dir.png"))
    assert nowhere.returncode == 1 and "cannot write" in nowhere.stderr and "Traceback" not in nowhere.stderr
    wrong = cli(tmp_path, "report", "--png", "x.png", "--lang", "de")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
