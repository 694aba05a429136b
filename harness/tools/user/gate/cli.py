"""``python -m harness gate``: the gate's arguments, turned into its options (``command.py`` runs
it)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness.claude_code import PROFILES
from harness.tools.user.gate import DEFAULT_LITELLM, Options, check_versions, run
from harness.tools.user.runs_cli import add_verdict_options


def cmd_gate(args: argparse.Namespace) -> int:
    check_versions(args.litellm, args.claude_code)
    return run(
        Options(
            args.litellm,
            args.claude_code,
            args.output_dir,
            args.baseline,
            args.candidate,
            args.min_age_days,
            args.fail_on_should,
            args.pytest_args,
            args.bench_repeats,
            args.changes,
            args.waivers,
            args.baseline_run,
            not args.no_rerun,
            runs_only=args.runs_only,
            judge=args.judge or [],
            bisect=args.bisect,
        )
    )


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    g = sub.add_parser(
        "gate", help="the LiteLLM x Claude Code grid; exit 1 when the candidate pair regresses"
    )
    g.add_argument(
        "--litellm",
        "--gateway",
        dest="litellm",
        nargs="+",
        default=list(DEFAULT_LITELLM),
        metavar="VERSION",
        help="LiteLLM versions, oldest first; 'newest' is the newest release that installs, "
        "'newest-patch' the newest of the first listed version's own line (1.108.x for 1.108.7); "
        "NAME@VERSION is another gateway's driver (portkey@1.15.2, claude-gateway@2.1.332), so "
        "a move from one gateway to another is judged as an upgrade is "
        f"(default: {' '.join(DEFAULT_LITELLM)})",
    )
    g.add_argument(
        "--claude-code",
        nargs="+",
        default=[p["version"] for p in PROFILES],
        metavar="VERSION",
        help="Claude Code versions, oldest first; one with no profile is captured during the run "
        "(default: every profiled version)",
    )
    g.add_argument(
        "--baseline",
        default=None,
        metavar="LITELLM/CC",
        help="the pair you run today (default: the first of each list)",
    )
    g.add_argument(
        "--candidate",
        default=None,
        metavar="LITELLM/CC",
        help="the pair you want to move to (default: the last of each list)",
    )
    g.add_argument(
        "--min-age-days",
        type=float,
        default=0.0,
        metavar="N",
        help="refuse a Claude Code version published less than N days ago (npm's publish time)",
    )
    g.add_argument(
        "--fail-on-should", action="store_true", help="a should-level regression fails the gate too"
    )
    # The environment sets the default, so a CI job (or the recipe's own test) can trade the
    # benchmark's precision for time without editing the command it runs.
    g.add_argument(
        "--bench-repeats",
        type=int,
        default=int(os.environ.get("CC_GATEWAY_BENCH_REPEATS", "3")),
        metavar="N",
        help="benchmark each LiteLLM version's added latency, N interleaved repeats "
        "(0: skip; default $CC_GATEWAY_BENCH_REPEATS or 3)",
    )
    add_verdict_options(g)
    g.add_argument(
        "--baseline-run",
        type=Path,
        default=None,
        metavar="RUN.json",
        help="the baseline LiteLLM version's run from an earlier job (its compat.json), used "
        "instead of running it; without it a stored run is reused when its key matches",
    )
    g.add_argument(
        "--no-rerun",
        action="store_true",
        help="do not run the checks that moved a second time (faster; no flake detection)",
    )
    g.add_argument(
        "--runs-only",
        action="store_true",
        help="one job of a CI matrix: run the suite for each --litellm version and keep its run "
        "under OUTPUT_DIR/runs/VERSION/gate-run.json; judge nothing",
    )
    g.add_argument(
        "--judge",
        nargs="+",
        type=Path,
        default=None,
        metavar="DIR",
        help="the matrix's final job: judge the runs the --runs-only jobs kept (under DIR), build "
        "no environment and run nothing; the versions are the runs' own",
    )
    g.add_argument(
        "--bisect",
        action="store_true",
        help="for the candidate's must-level and security items that regressed or changed, find "
        "the first LiteLLM release between the baseline's and the candidate's that did it "
        "(python -m harness bisect) and write it into the cell",
    )
    g.add_argument("--output-dir", type=Path, default=Path("reports/gate"))
    g.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    g.set_defaults(func=cmd_gate)
