"""``python -m harness repro CHECK [--run RUN.json]``: a repro folder for each failing check of a
run that the name matches."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.tools.user import repro
from harness.verdict.runs import load_run


def cmd_repro(args: argparse.Namespace) -> int:
    run = load_run(args.run)
    for result in repro.find(run, args.check):
        folder = repro.write_folder(run, result, args.output_dir / repro.folder_name(result))
        print(
            f"{result['nodeid']} ({result['outcome']}): {folder}  ->  cd {folder} && python3 "
            f"repro.py --python PY"
        )
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rep = sub.add_parser("repro", help="write a self-contained folder that replays a failing check")
    rep.add_argument(
        "check", metavar="CHECK", help="a node id, a check name (with its [id]) or a requirement id"
    )
    rep.add_argument(
        "--run",
        type=Path,
        default=Path("reports/compat.json"),
        help="the JSON run (default: the last)",
    )
    rep.add_argument("-o", "--output-dir", type=Path, default=Path("reports/repro"))
    rep.set_defaults(func=cmd_repro)
