"""The bot, run as `python -m tests.bench.trace_bot OUT.json`, with timestamps taken inside it for
profiling the tail (the driver runs it so when BENCH_TRACE names a folder): per update, when it
was fetched, got its user's lock, its connection, its claim, its commit and its replies sent; and
beside them the collector's pauses, the event loop's lags and the background work (the relay,
the done marks, the heartbeat, the timers). Times are time.monotonic(), as the driver's."""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import functools
import gc
import json
import sys
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio.session import AsyncSessionTransaction

from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.poller import Poller
from core.delivery.inbound import InboundLog
from core.delivery.pipeline import Pipeline
from core.delivery.relay import Relay
from core.services.timers import Timers

OUT = sys.argv.pop(1)
now = time.monotonic
updates: list[dict[str, Any]] = []
spans: list[tuple[str, float, float]] = []  # background work: name, start, end
lags: list[tuple[float, float]] = []  # the loop woke late: at, by
collections: list[tuple[float, float, int]] = []  # the collector: start, end, generation
slow_steps: list[tuple[float, float, float, str]] = []  # a loop step over 10 ms: at, wall, CPU, what
_run = asyncio.events.Handle._run


def _timed_run(self: asyncio.events.Handle) -> None:
    started, cpu = now(), time.thread_time()
    _run(self)
    took = now() - started
    if took > 0.01:
        tasks = [t for t in gc.get_referents(self._callback) if isinstance(t, asyncio.Task)]  # type: ignore[attr-defined]
        what = _where(tasks[0]) if tasks else repr(self._callback)  # type: ignore[attr-defined]
        slow_steps.append((started, took, time.thread_time() - cpu, what[-300:]))


def _where(task: asyncio.Task[Any]) -> str:
    chain, coro = [], task.get_coro()
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            chain.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return " > ".join(chain) or repr(task)


asyncio.events.Handle._run = _timed_run  # type: ignore[method-assign]
_marks: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("marks", default=None)
_gc_started = [0.0]


def _on_gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _gc_started[0] = now()
    else:
        collections.append((_gc_started[0], now(), info["generation"]))


gc.callbacks.append(_on_gc)


def mark(name: str) -> None:
    marks = _marks.get()
    if marks is not None and name not in marks:
        marks[name] = now()


def background(name: str, method: Any) -> Any:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = now()
        try:
            return await method(*args, **kwargs)
        finally:
            spans.append((name, started, now()))
    return wrapper


_one = Poller._one


async def one(self: Poller, update: Any) -> None:
    user = update.effective_user
    query = update.callback_query
    marks = {"fetched": now(), "user": user.id if user else None,
             "value": query.data if query is not None else (update.message.text if update.message else None)}
    _marks.set(marks)
    updates.append(marks)
    try:
        await _one(self, update)
    finally:
        marks["end"] = now()


_take, _send, _once = Pipeline.take, TelegramAdapter._send, InboundLog.once


async def take(self: Pipeline, *args: Any, **kwargs: Any) -> Any:
    mark("locked")  # the pipeline is entered with the user's lock held
    return await _take(self, *args, **kwargs)


async def send(self: TelegramAdapter, chat_id: int, reply: Any) -> Any:
    mark("send")
    try:
        return await _send(self, chat_id, reply)
    finally:
        marks = _marks.get()
        if marks is not None:
            marks["sent"] = now()


async def once(self: InboundLog, *args: Any, **kwargs: Any) -> Any:
    mark("once")
    try:
        return await _once(self, *args, **kwargs)
    finally:
        mark("committed")


_connection = AsyncSession.connection


async def connection(self: AsyncSession, *args: Any, **kwargs: Any) -> Any:
    mark("checkout")
    try:
        return await _connection(self, *args, **kwargs)
    finally:
        mark("connected")


_aexit = AsyncSessionTransaction.__aexit__


async def aexit(self: AsyncSessionTransaction, *exc: Any) -> None:
    if not self.nested:
        mark("commit")
    await _aexit(self, *exc)


Poller._one = one  # type: ignore[method-assign]
Pipeline.take = take  # type: ignore[method-assign]
TelegramAdapter._send = send  # type: ignore[method-assign]
InboundLog.once = once  # type: ignore[method-assign]
AsyncSession.connection = connection  # type: ignore[method-assign]
AsyncSessionTransaction.__aexit__ = aexit  # type: ignore[method-assign]
Relay.claim = background("relay.claim", Relay.claim)  # type: ignore[method-assign]
Relay.flush = background("relay.flush", Relay.flush)  # type: ignore[method-assign]
Relay.pending = background("relay.pending", Relay.pending)  # type: ignore[method-assign]
InboundLog._write_marks = background("done marks", InboundLog._write_marks)  # type: ignore[method-assign]
InboundLog.beat = background("heartbeat", InboundLog.beat)  # type: ignore[method-assign]
Timers.sweep = background("timers", Timers.sweep)  # type: ignore[method-assign]

_serve_module = __import__("bot.server", fromlist=["serve"])
_serve = _serve_module.serve


async def serve(*args: Any, **kwargs: Any) -> int:
    async def watch() -> None:  # the loop's lags: how late a 2 ms sleep wakes, and the CPU meanwhile
        while True:
            before, cpu = now(), time.process_time()
            await asyncio.sleep(0.002)
            late = now() - before - 0.002
            if late > 0.005:
                lags.append((before, late, time.process_time() - cpu))

    watcher = asyncio.create_task(watch())
    try:
        return await _serve(*args, **kwargs)
    finally:
        watcher.cancel()


_serve_module.serve = serve


@atexit.register
def _dump() -> None:
    with open(OUT, "w") as f:
        json.dump({"updates": updates, "spans": spans, "lags": lags, "collections": collections,
                   "slow_steps": slow_steps}, f)


if __name__ == "__main__":
    from bot.cli import main

    sys.exit(main(["run"]))
