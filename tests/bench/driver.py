"""The load driver: the fake Bot API and N simulated customers, in this process; the bot under
test runs as its own process, as in production."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import random
import signal
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiolimiter import AsyncLimiter

from tests.fakes.telegram_api import FakeTelegramAPI, RecordedRequest

TOKEN = "424242:BENCH-token"
THINK = 0.5  # seconds a customer who arrived on their own takes over each step
ROOT = Path(__file__).resolve().parents[2]


class BenchAPI(FakeTelegramAPI):
    """The fake, telling each chat's waiter as soon as a message for it was accepted."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(token=TOKEN, **kw)
        self.inbox: dict[int, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
        self.events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

    async def _dispatch(self, record: RecordedRequest, *args: Any) -> tuple[int, Any]:  # type: ignore[override]
        status, body = await super()._dispatch(record, *args)
        if record.method == "sendMessage" and status == 200:
            chat = int(record.chat_id)  # type: ignore[arg-type]
            self.inbox[chat].append((record.received_at, body["result"]))
            self.events[chat].set()
        return status, body


@dataclass
class Run:
    updates: int = 0
    trace: list[tuple[float, str, float]] = field(default_factory=list)  # offered at, step, latency
    who: list[int] = field(default_factory=list)  # the customer of each answer in trace
    seconds: float = 0.0
    failures: int = 0
    failed: list[tuple[int, str, int, float]] = field(default_factory=list)  # user, step, got, when
    bot_cpu: float = 0.0  # CPU seconds the bot process used while the customers were served
    flushes: list[tuple[float, float]] | None = None  # the disk probe's: started at, seconds

    def summary(self) -> dict[str, Any]:
        lat = sorted(latency for _, _, latency in self.trace)
        q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else lat * 99
        out = {"updates": self.updates, "seconds": round(self.seconds, 3),
               "updates_per_s": round(self.updates / self.seconds, 1) if self.seconds else 0.0,
               "p50_ms": round(q[49] * 1000, 2), "p99_ms": round(q[98] * 1000, 2), "failures": self.failures,
               "bot_cpu_ms_per_update": round(self.bot_cpu / self.updates * 1000, 3) if self.updates else 0.0,
               "over_50ms_by_step": dict(Counter(step for _, step, latency in self.trace if latency > 0.05))}
        if self.flushes:
            slow = [(at, at + took) for at, took in self.flushes if took > SLOW_FLUSH]
            took = sorted(took for _, took in self.flushes)
            out["disk_flush"] = {
                "count": len(took), "p50_ms": round(took[len(took) // 2] * 1000, 2),
                "max_ms": round(took[-1] * 1000, 1), "stalled": len(slow), "stall_ms": SLOW_FLUSH * 1000,
                # Answers over 50 ms that were under way while the probe's flush stalled.
                "answers_over_50ms_during_one": sum(
                    1 for offered, _, latency in self.trace
                    if latency > 0.05 and any(a < offered + latency and offered < b for a, b in slow))}
        return out


HELPDESK_FLOW: list[tuple[str, str, int]] = [
    ("text", "/start", 2), ("press", "lang:cs", 2), ("press", "dep:technical", 1), ("press", "rt:bug", 1),
    ("text", "Nelze se přihlásit do administrace", 1), ("press", "pri:normal", 1),
    ("text", "Od rána vrací přihlašovací stránka chybu 500. Zkoušel jsem jiný prohlížeč.", 1),
    ("press", "att:done", 1), ("press", "rev:submit", 1),
    ("text", "Ještě doplním: chyba je i na mobilu.", 2), ("text", "A také v aplikaci.", 1),
]
ECHO_FLOW: list[tuple[str, str, int]] = [("text", f"message {i}", 1) for i in range(len(HELPDESK_FLOW))]


class Schedule:
    """One customer's own pace, for customers who arrive over time: the first step at `start`,
    each next one a think time after the one before it was planned (or at once, when its answer
    came later than that: nobody presses a button before it is shown). Think times vary (between
    half and one and a half `think`, seeded): a fixed one made customers arriving 0.124 s apart
    fall into step every fourth one (4 × 0.124 ≈ 0.5 s), and the updates came in bursts."""

    def __init__(self, start: float, think: float, seed: int = 0) -> None:
        self.next = start
        self.think = think
        self._random = random.Random(seed)

    async def acquire(self) -> None:
        wait = self.next - time.monotonic()
        self.next += self.think * self._random.uniform(0.5, 1.5)
        if wait > 0:
            await asyncio.sleep(wait)


async def _customer(api: BenchAPI, user_id: int, flow: list[tuple[str, str, int]], run: Run,
                    pace: AsyncLimiter | Schedule | None, timeout: float) -> None:
    seen = 0
    for kind, value, expect in flow:
        if pace is not None:
            await pace.acquire()
        inbox = api.inbox[user_id]
        if kind == "text":
            offered = time.monotonic()
            api.user_message(user_id, value, language_code="cs")
        else:
            message = next(m for _, m in reversed(inbox) if any(
                b.get("callback_data") == value
                for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row))
            offered = time.monotonic()
            api.press_button(user_id, message["message_id"], value, language_code="cs")
        deadline = offered + timeout
        while len(inbox) < seen + expect:
            api.events[user_id].clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                run.failures += 1
                run.failed.append((user_id, value, len(inbox) - seen, time.monotonic()))
                return
            try:
                await asyncio.wait_for(api.events[user_id].wait(), remaining)
            except TimeoutError:
                pass
        run.trace.append((offered, value, inbox[seen][0] - offered))
        run.who.append(user_id)
        seen = len(inbox)
        run.updates += 1


SLOW_FLUSH = 0.02  # seconds: a flush of the disk probe this long is counted as a stall


@contextlib.contextmanager
def _disk_probe(directory: Path) -> Iterator[list[tuple[float, float]]]:
    """Every 10 ms, 8 kB written to a file and flushed to the disk (fdatasync, as PostgreSQL
    flushes its log at each commit), from a thread: how long the disk itself takes to flush
    while the run goes on, to tell a stall of the disk from one of the bot."""
    flushes: list[tuple[float, float]] = []
    stop = threading.Event()
    path = directory / "disk-probe.tmp"

    def probe() -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while not stop.wait(0.01):
                os.pwrite(fd, b"\0" * 8192, 0)
                started = time.monotonic()
                os.fdatasync(fd)
                flushes.append((started, time.monotonic() - started))
        finally:
            os.close(fd)
            path.unlink(missing_ok=True)

    thread = threading.Thread(target=probe, name="disk-probe", daemon=True)
    thread.start()
    try:
        yield flushes
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def _no_collector_pauses() -> Iterator[None]:
    """The driver's own garbage collector held off while it measures: everything the fake
    records stays alive, so its full passes grew to 200-330 ms each, and every answer arriving
    during one was timed as that much slower (the bot's latency, not the driver's, is wanted)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _wait_ready(api: BenchAPI, proc: asyncio.subprocess.Process, helpdesk: bool) -> None:
    for _ in range(600):
        if proc.returncode is not None:
            raise RuntimeError("the bot process exited early")
        polling = api.requests_for("getUpdates")
        if polling and (not helpdesk or len(api.requests_for("setMyCommands")) >= 6):
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot did not start polling")


async def run_bot(kind: str, users: int, *, database_url: str | None = None, rate: float | None = None,
                  arrivals: str = "together", think: float = THINK, workdir: Path,
                  timeout: float = 60.0) -> dict[str, Any]:
    """Drive `users` customers through the bot `kind` ("echo" or "helpdesk"); the figures.

    Without `rate`, as fast as the bot answers. With it, `arrivals` says how the updates come:
    "together": every customer starts at once and all share one limiter of `rate` updates/s, so
    they move in step and each step comes as one wave (all 500 forms submitted within seconds);
    "spread": a new customer arrives every len(flow)/`rate` seconds and takes about `think`
    seconds over each step (see Schedule), so the steps mix, as on a real desk, at `rate`
    updates/s once all are under way (less while the first arrive and the last finish)."""
    if arrivals not in ("together", "spread"):
        raise ValueError(f"arrivals: 'together' or 'spread', not {arrivals!r}")
    workdir.mkdir(parents=True, exist_ok=True)
    api = BenchAPI()
    await api.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SLACK_"))}
    if kind == "echo":
        cmd = [sys.executable, "-m", "tests.bench.echo_bot", TOKEN, api.server_url]
        flow = ECHO_FLOW
    else:
        from tests.adapters.fast_config import fast_config
        from tests.adapters.telegram.conftest import free_port

        # Pacing out of the way: the fake keeps no limits, and this measures processing.
        config = fast_config(workdir, chat=0.0, group=0.0, global_rate=100000)
        env.update(DATABASE_URL=database_url or f"sqlite+aiosqlite:///{workdir / 'bench.db'}",
                   TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.server_url, HELPDESK_CONFIG=str(config),
                   HTTP_PORT=str(free_port()), LOG_LEVEL="WARNING", ATTACHMENTS_DIR=str(workdir / "files"))
        cmd = [sys.executable, "-m", "bot", "run"]
        if os.environ.get("BENCH_PROFILE"):  # profile the bot process: python -m cProfile
            cmd = [sys.executable, "-m", "cProfile", "-o", os.environ["BENCH_PROFILE"], "-m", "bot", "run"]
        if os.environ.get("BENCH_TRACE"):  # timestamps inside the bot (tests.bench.trace_bot), and the driver's
            trace_to = Path(os.environ["BENCH_TRACE"]) / f"{time.strftime('%H%M%S')}-{workdir.name}"
            cmd = [sys.executable, "-m", "tests.bench.trace_bot", f"{trace_to}-bot.json"]
        flow = HELPDESK_FLOW
    proc = await asyncio.create_subprocess_exec(*cmd, env=env, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    run = Run()
    try:
        await _wait_ready(api, proc, kind == "helpdesk")
        cpu_before = _cpu_seconds(proc.pid)
        started = time.monotonic()
        paces: list[AsyncLimiter | Schedule | None]
        if rate and arrivals == "spread":
            paces = [Schedule(started + i * len(flow) / rate, think, seed=i) for i in range(users)]
        elif rate:
            paces = [AsyncLimiter(1, 1 / rate)] * users
        else:
            paces = [None] * users
        with _no_collector_pauses(), _disk_probe(workdir) if rate else contextlib.nullcontext() as flushes:
            await asyncio.gather(*(_customer(api, 100_000 + i, flow, run, pace, timeout)
                                   for i, pace in enumerate(paces)))
        run.flushes = flushes
        run.seconds = time.monotonic() - started
        run.bot_cpu = _cpu_seconds(proc.pid) - cpu_before
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _, err = await asyncio.wait_for(proc.communicate(), 30)
        except TimeoutError:
            proc.kill()
            err = b""
        await api.stop()
    if run.failures:
        sys.stderr.write(err.decode()[-3000:])
    if kind == "helpdesk" and os.environ.get("BENCH_TRACE"):
        Path(f"{trace_to}-driver.json").write_text(json.dumps(
            {"trace": run.trace, "who": run.who, "flushes": run.flushes}))
        Path(f"{trace_to}-bot.log").write_bytes(err)
    return run.summary()
