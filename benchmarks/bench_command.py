"""Wall time and CPU by kind of process of any command, kept as a row of benchmarks/timings.json.

    .venv/bin/python benchmarks/bench_command.py ROW [--suite-row suite] -- COMMAND...

ROW is one of the README timing table's rows (harness.tools.perf.timing.ROWS): ``dev-all``
(``python3 dev.py all``), ``ci-fresh`` (``.ci/run`` in a fresh clone: run it there, with that
clone's python), ``gate-one-candidate`` (a gate whose baseline run is stored) or ``controls``.
``--suite-row`` also records the ratio of this wall time to that row's (the gate's budget is 1.1
suite runs). Not part of the test run: performance is measured, never asserted.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.tools.perf import timing  # noqa: E402
from harness.tools.perf.cpuwatch import run_watched  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("row", choices=sorted(timing.ROWS))
    ap.add_argument(
        "--suite-row", default=None, help="record the ratio of this wall time to that row's"
    )
    ap.add_argument(
        "--cwd", type=Path, default=Path.cwd(), help="where the command runs (a fresh clone, say)"
    )
    ap.add_argument("command", nargs="+")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    cpu, _ = run_watched(args.command, cwd=args.cwd)
    figures = {**cpu.as_dict(cores), "command": " ".join(args.command)}
    if args.suite_row:
        suite = timing.load().get(args.suite_row)
        if suite:
            figures["ratio_to_suite"] = round(cpu.wall / float(suite["wall_s"]), 2)
    timing.record(args.row, figures)
    print(
        f"{args.row}: {cpu.wall:.1f} s wall, {cpu.total:.0f} CPU-s {cpu.by_kind}, "
        f"exit {cpu.returncode}"
    )
    return cpu.returncode


if __name__ == "__main__":
    sys.exit(main())
