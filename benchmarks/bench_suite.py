"""Wall time of a whole `pytest suites/` run (the main job), repeated, with the ten slowest checks.

    .venv/bin/python benchmarks/bench_suite.py [--runs 3] [--keep DIR] [-- extra pytest args]

Each run writes its report to a temporary directory; the slowest checks are read from its JSON
(setup, call and teardown together), and each file's share of the check time is printed too, so a
slow suite says where its time went. Not part of the test run: performance is measured, never asserted.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def one_run(extra: list[str], keep: Path | None = None) -> tuple[float, int, list[dict[str, Any]]]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pytest", "suites", "-q",
                               "--report-dir", tmp, *extra], cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - started
        report = Path(tmp) / "compat.json"
        results = json.loads(report.read_text())["results"] if report.exists() else []
        if keep is not None and report.exists():
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(report, keep / f"compat-{time.strftime('%Y%m%dT%H%M%S')}.json")
    return wall, done.returncode, results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None, help="copy each run's compat.json into this folder")
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    times = []
    for i in range(args.runs):
        wall, code, results = one_run(args.extra, args.keep)
        times.append(wall)
        check_time = sum(float(r["duration"]) for r in results)
        print(f"run {i + 1}: {wall:.1f} s wall, pytest exit {code}, {len(results)} checks, "
              f"{check_time:.1f} s of check time")
    slowest = sorted(results, key=lambda r: -float(r["duration"]))[:10]
    print("ten slowest checks (last run):")
    for r in slowest:
        print(f"  {float(r['duration']):6.1f} s  {r['nodeid']}")
    per_file: collections.Counter[str] = collections.Counter()
    for r in results:
        per_file[str(r["nodeid"]).split("::")[0]] += float(r["duration"])
    print("check time per file (last run):")
    for path, seconds in per_file.most_common(8):
        print(f"  {seconds:6.1f} s  {path}")
    print(f"median {statistics.median(times):.1f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
