"""Benchmarks: `python -m tests.bench [--only NAME,...] [--quick] [--out FILE]`.

Prints each figure and writes them all to a JSON file (default bench-results.json). Machine-
dependent figures are also given as ratios against a baseline measured in the same run.
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

BENCHES = ("updates", "delivery", "storage", "memory")


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "system": platform.platform(), "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--only", default=",".join(BENCHES), help=f"comma-separated: {', '.join(BENCHES)}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--out", default="bench-results.json", help="JSON file for all figures")
    args = parser.parse_args()
    chosen = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = set(chosen) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    results: dict[str, Any] = {"machine": machine(), "quick": args.quick}
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as tmp:
        for name in chosen:
            module = __import__(f"tests.bench.{name}", fromlist=["run"])
            print(f"== {name}", flush=True)
            results[name] = asyncio.run(module.run(Path(tmp) / name, quick=args.quick))
            Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"figures written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
