"""Wall time of a whole `pytest suites/` run (the main job), repeated.

    .venv/bin/python benchmarks/bench_suite.py [--runs 3] [-- extra pytest args]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    times = []
    for i in range(args.runs):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pytest", "suites", "-q", "-p", "no:cacheprovider",
                               "--no-report", *args.extra], cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        print(f"run {i + 1}: {times[-1]:.1f} s, exit {done.returncode}: {done.stdout.strip().splitlines()[-1]}")
    print(f"median {statistics.median(times):.1f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
