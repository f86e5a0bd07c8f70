"""Benchmarks: `python -m tests.bench [NAME ...] [--only NAME,...] [--quick] [--out FILE]`.

Prints each figure and writes them all to a JSON file (default bench-results.json). Machine-
dependent figures are also given as ratios against a baseline measured in the same run.

For the updates benchmark's tail alone: `--backend postgresql --half-rate 170 [--arrivals spread]
[--rounds 3]` makes only the half-rate runs of that backend, at that rate (the full runs, which
set the rate otherwise, are left out), with the server's default commits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCHES = ("updates", "delivery", "storage", "memory", "desk", "mail", "kb")
DEFAULT = (*BENCHES[:4], "mail", "kb")  # the desk's burst runs on Telegram's real minute: asked for by name


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "system": platform.platform(), "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (the same as --only)")
    parser.add_argument("--only", default=",".join(DEFAULT), help=f"comma-separated: {', '.join(BENCHES)}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--out", default="bench-results.json", help="JSON file for all figures")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), help="updates: this backend only")
    parser.add_argument("--half-rate", type=float, help="updates: only the half-rate runs, at this rate")
    parser.add_argument("--arrivals", help="updates: comma-separated, together and/or spread")
    parser.add_argument("--rounds", type=int, help="updates: runs of each kind")
    args = parser.parse_args()
    options = {k: v for k, v in (("backend", args.backend), ("half_rate", args.half_rate), ("rounds", args.rounds),
                                 ("arrivals", args.arrivals and tuple(args.arrivals.split(","))))
               if v is not None}
    chosen = args.names or [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(chosen) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as tmp:
        for name in chosen:
            module = __import__(f"tests.bench.{name}", fromlist=["run"])
            print(f"== {name}", flush=True)
            extra = options if name == "updates" else {}
            results[name] = asyncio.run(module.run(Path(tmp) / name, quick=args.quick, **extra))
            Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
