"""``python -m harness bench``: its arguments, the figures in the terminal and into a JSON file,
and attached to runs."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from harness.gateway.process import resolve_python
from harness.report.render import render_html
from harness.tools.perf import bench
from harness.verdict.runs import load_run


def cmd_bench(args: argparse.Namespace) -> int:
    figures = bench.run(resolve_python(args.litellm_python), args.repeats)
    print(bench.table(figures))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=1))
    for path in args.attach:
        data = load_run(path)
        data["bench"] = figures
        path.write_text(json.dumps(data, indent=1))
        if path.name == "compat.json":  # the run's own page shows the charts too
            (path.parent / "compat.html").write_text(render_html([data]))
    print(f"wrote {args.output}" + "".join(f", {p} (bench attached)" for p in args.attach))
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bch = sub.add_parser(
        "bench", help="the gateway's added latency: the fake provider direct vs through LiteLLM"
    )
    bch.add_argument(
        "--litellm-python", default=None, metavar="PATH", help="the LiteLLM under test"
    )
    bch.add_argument(
        "--repeats",
        type=int,
        default=int(os.environ.get("CC_GATEWAY_BENCH_REPEATS", "3")),
        help="interleaved repeats (default $CC_GATEWAY_BENCH_REPEATS or 3)",
    )
    bch.add_argument(
        "--attach",
        type=Path,
        nargs="*",
        default=[],
        metavar="RUN.json",
        help="write the figures into these runs too (their HTML then shows the charts)",
    )
    bch.add_argument("-o", "--output", type=Path, default=Path("reports/bench.json"))
    bch.set_defaults(func=cmd_bench)
