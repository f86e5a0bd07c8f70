"""Memory: the bot process's resident memory with 10,000 customers mid-intake, and its growth
per 1,000 more (customers driven through the real Telegram adapter, forms left half-filled)."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import sys
from pathlib import Path
from typing import Any

from tests.adapters.fast_config import fast_config
from tests.adapters.telegram.conftest import free_port
from tests.bench.driver import ROOT, TOKEN, BenchAPI, Run, _customer, _wait_ready

MID_INTAKE = [("text", "/start", 2), ("press", "lang:fa", 2), ("press", "dep:billing", 1),
              ("press", "rt:consultation", 1)]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def run(workdir: Path, *, quick: bool = False) -> dict[str, Any]:
    steps = [1000, 2000, 3000] if quick else [1000, 5000, 10_000]
    workdir.mkdir(parents=True, exist_ok=True)
    api = BenchAPI()
    await api.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    env.update(DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'memory.db'}", TELEGRAM_BOT_TOKEN=TOKEN,
               TELEGRAM_API_URL=api.server_url, LOG_LEVEL="WARNING", HTTP_PORT=str(free_port()),
               HELPDESK_CONFIG=str(fast_config(workdir, chat=0.0, group=0.0, global_rate=100000)),
               ATTACHMENTS_DIR=str(workdir / "files"))
    log_path = workdir / "bot.log"
    log_file = log_path.open("wb")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env, cwd=ROOT,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=log_file)
    points: list[tuple[int, float]] = []
    failures = 0
    try:
        await _wait_ready(api, proc, True)
        points.append((0, rss_mb(proc.pid)))
        done, run_ = 0, Run()
        for target in steps:
            gate = asyncio.Semaphore(200)

            async def one(i: int) -> None:
                async with gate:
                    await _customer(api, 300_000 + i, MID_INTAKE, run_, None, 120.0)

            await asyncio.gather(*(one(i) for i in range(done, target)))
            done = target
            await asyncio.sleep(1.0)
            points.append((target, rss_mb(proc.pid)))
            print(f"  {target:>6} customers mid-intake: {points[-1][1]:7.1f} MB resident", flush=True)
        failures = run_.failures
        if run_.failed:
            missed = collections.Counter(f"{step} ({got} of the answers)" for _, step, got, _ in run_.failed)
            print(f"  {failures} customers got no full answer in 120 s, at: {dict(missed)}", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
        await api.stop()
        log_file.close()
    if failures:  # what the bot said about it
        sys.stderr.write(log_path.read_text(errors="replace")[-4000:])
    (n1, m1), (n2, m2) = points[-2], points[-1]
    growth = (m2 - m1) / ((n2 - n1) / 1000)
    print(f"  growth: {growth:.2f} MB per 1,000 more customers; target: <= 200 MB at 10,000")
    return {"points_mb": points, "rss_at_max_mb": round(points[-1][1], 1), "customers": points[-1][0],
            "growth_mb_per_1000": round(growth, 2), "failures": failures, "target_mb": 200,
            "failed_at": [step for _, step, _, _ in run_.failed]}
