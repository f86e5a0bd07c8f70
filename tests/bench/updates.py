"""Updates: N customers, each a full intake and two follow-ups, through the real Telegram
adapter against the fake Bot API, on SQLite and PostgreSQL; a bare PTB echo bot as baseline."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from tests.bench.driver import run_bot
from tests.bench.pg import temporary_database


def _pg_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


async def run(workdir: Path, *, quick: bool = False) -> dict[str, Any]:
    users = 100 if quick else 500
    out: dict[str, Any] = {"users": users}
    (workdir / "echo").mkdir(parents=True, exist_ok=True)

    async def echo(when: str) -> dict[str, Any]:
        figures = await run_bot("echo", users, workdir=workdir / "echo")
        print(f"  echo bot ({when}):{figures['updates_per_s']:8.1f} updates/s  p50 {figures['p50_ms']} ms  "
              f"p99 {figures['p99_ms']} ms  CPU {figures['bot_cpu_ms_per_update']} ms/update")
        return figures

    backends = {"sqlite": None}
    if _pg_available():
        backends["postgresql"] = "pg"
    for name, kind in backends.items():
        path = workdir / name
        path.mkdir(parents=True, exist_ok=True)
        # The echo bot just before and just after: this machine's speed drifts within minutes
        # (the same run twice has differed by a third), so the baseline brackets the run.
        before = await echo("before")
        async with temporary_database() if kind else _none() as url:
            full = await run_bot("helpdesk", users, database_url=url, workdir=path)
        after = await echo("after")
        baseline = (before["updates_per_s"] + after["updates_per_s"]) / 2
        ratio = full["updates_per_s"] / baseline if baseline else 0.0
        print(f"  helpdesk, {name:<10} {full['updates_per_s']:8.1f} updates/s  p50 {full['p50_ms']} ms  "
              f"p99 {full['p99_ms']} ms  CPU {full['bot_cpu_ms_per_update']} ms/update  ratio to echo {ratio:.2f}")
        half_rate = full["updates_per_s"] / 2
        async with temporary_database() if kind else _none() as url:
            half = await run_bot("helpdesk", users, database_url=url, workdir=path / "half", rate=half_rate)
        print(f"  at half that rate ({half_rate:.0f}/s): p50 {half['p50_ms']} ms  p99 {half['p99_ms']} ms"
              f"  answers over 50 ms, by step: {half['over_50ms_by_step'] or 'none'}")
        out[name] = {"full": full, "echo_before": before, "echo_after": after, "ratio_to_echo": round(ratio, 3),
                     "half_rate": half, "half_rate_target": half_rate}
    return out


class _none:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None
