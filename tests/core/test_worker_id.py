"""A worker is judged dead by its heartbeat alone: containers that share a host name (and so
may share pids) never take a live worker's claims."""

from __future__ import annotations

import socket
import subprocess
import sys

from core.chat import Reply
from core.delivery.inbound import InboundLog, worker_id
from core.delivery.relay import Relay
from core.storage.db import Database
from tests.conftest import FakeClock


def _gone_pid() -> int:
    """A pid no process of this machine runs: as another container's process looks from here."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_an_id_per_start() -> None:
    ids = {worker_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) <= 64 for i in ids)  # the workers table's id column
    assert Relay(None, {}).owner != Relay(None, {}).owner  # type: ignore[arg-type]


async def test_same_host_and_pid_do_not_take_each_others_claims(db: Database, clock: FakeClock) -> None:
    same = f"{socket.gethostname()[:30]}:{_gone_pid()}"  # this host's name, a pid not running here
    first = InboundLog(db, clock, worker=f"{same}:{'a' * 16}")
    second = InboundLog(db, clock, worker=f"{same}:{'b' * 16}")
    await first.beat()
    await second.beat()
    calls: list[str] = []

    async def work() -> list[Reply]:
        calls.append("first")
        return [Reply("answer")]

    assert await first.once("telegram", "7", work) is not None  # claimed; replies not yet sent
    # Both beat: the second waits for the first rather than taking its claim, then leaves it.
    assert await second.once("telegram", "7", work, patience=1.5) is None
    assert calls == ["first"]
    assert await second.state("telegram", "7") == "replying"
    # Once the first's heartbeat is old, the second takes its kept replies (and handles nothing again).
    clock.advance(seconds=11)
    await second.beat()
    kept = await second.once("telegram", "7", work)
    assert kept is not None and kept[0].text == "answer" and calls == ["first"]
