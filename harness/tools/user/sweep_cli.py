"""``python -m harness sweep --line 1.108 [--from 1.108.7]``: the sweep's arguments
(``sweep.py`` runs it)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from harness.claude_code import PROFILES
from harness.errors import HarnessError
from harness.tools.user import sweep


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sw = sub.add_parser(
        "sweep", help="the suite once per release of a LiteLLM patch line; requirements x releases"
    )
    sw.add_argument("--line", required=True, metavar="X.Y", help="the patch line, like 1.108")
    sw.add_argument(
        "--from",
        dest="start",
        default=None,
        metavar="VERSION",
        help="the first release to run (default: the line's first)",
    )
    sw.add_argument(
        "--claude-code",
        nargs="+",
        default=[PROFILES[-1]["version"]],
        metavar="VERSION",
        help=f"the Claude Code versions whose checks run (default: {PROFILES[-1]['version']})",
    )
    sw.add_argument(
        "--notes",
        type=Path,
        default=None,
        metavar="FILE",
        help="release notes to show beside the results: a YAML mapping of version: text",
    )
    sw.add_argument("--output-dir", type=Path, default=Path("reports/sweep"))
    # Extra pytest arguments follow a `--`, as for bisect.
    sw.set_defaults(func=cmd_sweep, pytest_args=[])


def cmd_sweep(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"\d+\.\d+", args.line):
        raise HarnessError(f"--line {args.line}: write a patch line as MAJOR.MINOR, like 1.108")
    sweep.run(
        sweep.Options(
            args.line, args.start, args.output_dir, args.claude_code, args.notes, args.pytest_args
        )
    )
    return 0
