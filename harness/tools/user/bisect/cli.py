"""``python -m harness bisect``: its arguments, and the answer in the terminal."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.tools import runstore
from harness.tools.envs import environment
from harness.tools.user.bisect import Bisect, Release
from harness.tools.user.bisect.releases import claude_code_series, file_series, litellm_series

PINNED = "1.108.7"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = sub.add_parser(
        "bisect", help="the first LiteLLM (or Claude Code) release that changed each named check"
    )
    b.add_argument(
        "checks",
        nargs="+",
        metavar="CHECK",
        help="node ids (suites/test_x.py::test_y[case]) or requirement ids (STREAM-011)",
    )
    b.add_argument(
        "--good", required=True, metavar="V1", help="the release that answers as you expect"
    )
    b.add_argument(
        "--bad", required=True, metavar="V2", help="a later release that answers differently"
    )
    b.add_argument(
        "--claude-code",
        default=None,
        metavar="X",
        help="the Claude Code version of the checks that concern one (a LiteLLM bisect)",
    )
    b.add_argument(
        "--claude-code-range",
        action="store_true",
        help="V1 and V2 are Claude Code releases: bisect npm's releases between them, each against "
        "--litellm (profiles captured on the spot for versions with none)",
    )
    b.add_argument(
        "--litellm",
        default=PINNED,
        metavar="VERSION",
        help=f"the LiteLLM of a --claude-code-range bisect (default {PINNED})",
    )
    b.add_argument(
        "--series",
        type=Path,
        default=None,
        metavar="FILE",
        help="bisect a series of your own: a YAML file of `releases:`, each a version and its "
        "pytest args (V1 and V2 are two of its versions)",
    )
    b.add_argument("--pre", action="store_true", help="include pre-releases")
    b.add_argument("--output-dir", type=Path, default=Path("reports/bisect"))
    b.add_argument(
        "--run-store",
        type=Path,
        default=runstore.STORE,
        metavar="DIR",
        help="where step runs are kept and reused under the gate's keys (default .cache/gate-runs)",
    )
    # Extra pytest arguments follow a `--` (split off before parsing: CHECK takes every other
    # positional).
    b.set_defaults(func=cmd_bisect, pytest_args=[])


def split_pytest_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """``bisect ... -- -n 0``: the harness's arguments, and pytest's after the first ``--``."""
    if argv[:1] in (["bisect"], ["sweep"]) and "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, []


def series(args: argparse.Namespace) -> list[Release]:
    if args.series is not None:
        everything = file_series(args.series)
        names = [r.version for r in everything]
        for end, flag in ((args.good, "--good"), (args.bad, "--bad")):
            if end not in names:
                raise HarnessError(
                    f"{flag} {end}: not a version of {args.series} ({', '.join(names)})"
                )
        start, stop = names.index(args.good), names.index(args.bad)
        if start >= stop:
            raise HarnessError(
                f"--good {args.good} must come before --bad {args.bad} in {args.series}"
            )
        return everything[start : stop + 1]
    if args.claude_code_range:
        litellm = ["--litellm-python", str(environment(args.litellm).python)]
        return claude_code_series(
            args.good, args.bad, litellm, args.output_dir / "profiles", args.pre
        )
    return litellm_series(args.good, args.bad, args.pre)


def cmd_bisect(args: argparse.Namespace) -> int:
    releases = series(args)
    extra = list(args.pytest_args)
    if args.claude_code and not args.claude_code_range:
        extra += ["--claude-code", args.claude_code]
    print(
        f"bisect: {len(releases)} releases from {releases[0].version} to {releases[-1].version}, "
        f"{len(args.checks)} check(s) named",
        flush=True,
    )
    data = Bisect(
        releases, list(args.checks), args.output_dir.resolve(), extra, args.run_store
    ).run()
    print(text(data))
    print(f"wrote {args.output_dir / 'bisect.json'}")
    return 0


def text(data: dict[str, Any]) -> str:
    """The answer: per check, the first release that differs, what moved, and every release
    tried."""
    lines = [
        f"{len(data['steps'])} steps in {data['wall_seconds']:.0f} s over "
        f"{len(data['releases'])} releases "
        f"({data['good']} .. {data['bad']}); environments: "
        + ", ".join(
            f"{s['version']} {s['environment'] or 'given'}"
            + (" (run reused)" if s["reused"] else "")
            for s in data["steps"]
        )
    ]
    for check in data["checks"]:
        answered_none = any(n.startswith("V2 answers as V1") for n in check["notes"])
        first = check["first"] or (
            "none (V2 answers as V1)" if answered_none else "unknown (see the notes)"
        )
        lines.append(
            f"\n{check['check']}\n  first differing release: {first} "
            f"(last like V1: {check['last_same']})"
            f"{'' if check['monotone'] else '  NOT MONOTONE'}"
        )
        if check["after"]:
            lines.append(
                f"  {check['before']['outcome']} -> {check['after']['outcome']} ({check['class']})"
            )
        lines += [f"    {m}" for m in check["moves"][:6]]
        lines += [f"  note: {n}" for n in check["notes"]]
        lines.append(
            "  tried: " + ", ".join(f"{t['version']} {t['class']}" for t in check["tried"])
        )
        if check["repro"]:
            lines.append(f"  repro: {check['repro']}")
    return "\n".join(lines)


def command(
    check: str, good: str, bad: str, claude_code: str | None = None, claude_code_range: bool = False
) -> str:
    """The bisect command a gate item offers, ready to copy."""
    parts = ["python", "-m", "harness", "bisect", check, "--good", good, "--bad", bad]
    if claude_code_range:
        parts.append("--claude-code-range")
    elif claude_code:
        parts += ["--claude-code", claude_code]
    return shlex.join(parts)
