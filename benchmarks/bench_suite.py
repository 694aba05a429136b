"""Wall time and CPU of a whole `pytest suites/` run (the main job), by kind of process, repeated.

    .venv/bin/python benchmarks/bench_suite.py [--runs 3] [--keep DIR] [--json FILE] [--record]
        [-- pytest args]

For each run it prints the wall time, the CPU-seconds of the system under test (LiteLLM's processes
and the Claude Code CLI), of the harness (its pytest workers with their fake providers, and the
controller), and the floor ratio: wall ÷ (the system under test's CPU-seconds ÷ cores), how far the
run is from the least time the gateway itself needs on this machine. Then the ten slowest checks and
each file's share of the check time, from the run's JSON. ``--json`` writes every run's figures;
``--record`` keeps the median run's as the "suite" row of ``benchmarks/timings.json``, from which
the README's timing block is generated (``python -m harness timing --write README.md``). Not part of
the test run: performance is measured, never asserted.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.tools.perf import timing  # noqa: E402
from harness.tools.perf.cpuwatch import CpuReport, run_watched  # noqa: E402


def one_run(extra: list[str], keep: Path | None = None) -> tuple[CpuReport, list[dict[str, Any]]]:
    with tempfile.TemporaryDirectory() as tmp:
        cpu, _ = run_watched(
            [sys.executable, "-m", "pytest", "suites", "-q", "--report-dir", tmp, *extra],
            cwd=ROOT,
            stdout=-3,
            stderr=-3,
        )  # DEVNULL: the report holds the results
        report = Path(tmp) / "compat.json"
        results = json.loads(report.read_text())["results"] if report.exists() else []
        if keep is not None and report.exists():
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(report, keep / f"compat-{time.strftime('%Y%m%dT%H%M%S')}.json")
    return cpu, results


def describe(cpu: CpuReport, cores: int) -> str:
    kinds = ", ".join(f"{k} {v:.0f}" for k, v in sorted(cpu.by_kind.items(), key=lambda kv: -kv[1]))
    return (
        f"{cpu.wall:.1f} s wall, {cpu.total:.0f} CPU-s ({kinds}, unsampled {cpu.unsampled:.0f}); "
        f"system under test {cpu.sut:.0f} CPU-s, floor ratio {cpu.floor_ratio(cores):.2f}, "
        f"harness {100 * cpu.harness / max(cpu.total, 1e-9):.0f}% of the CPU"
        + (
            "; other: " + ", ".join(f"{p} {v:.0f}" for p, v in cpu.others.items())
            if cpu.others
            else ""
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--keep", type=Path, default=None, help="copy each run's compat.json into this folder"
    )
    ap.add_argument("--json", type=Path, default=None, help="write the runs' figures here")
    ap.add_argument(
        "--record", action="store_true", help="keep the median run as the suite row of timings.json"
    )
    ap.add_argument("extra", nargs="*")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    runs: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for i in range(args.runs):
        cpu, results = one_run(args.extra, args.keep)
        check_time = sum(float(r["duration"]) for r in results)
        runs.append(
            {**cpu.as_dict(cores), "checks": len(results), "check_time_s": round(check_time, 1)}
        )
        print(
            f"run {i + 1}: {describe(cpu, cores)}; pytest exit {cpu.returncode}, "
            f"{len(results)} checks, {check_time:.1f} s of check time",
            flush=True,
        )
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
    walls = [r["wall_s"] for r in runs]
    print(f"median {statistics.median(walls):.1f} s over {args.runs} runs")
    if args.record:
        median = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]
        timing.record("suite", {**median, "command": "pytest suites/", "runs": len(runs)})
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "measured": time.strftime("%Y-%m-%d"),
                    "cores": cores,
                    "command": "pytest suites/",
                    "runs": runs,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
