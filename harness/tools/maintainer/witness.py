"""``python -m harness witness``: what the real Claude Code CLI prints for each known cause.

Runs ``pytest suites/test_witness.py --witness`` (the CLI through the gateway in each cause's
situation, see that module) and prints what each run of the CLI printed; ``--write`` puts it into
the ``witness:`` field of the causes table of the gateway's deviations file
(docs/impact.md#witnesses), so the answer and the report can quote it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.tools.maintainer.deviations.record import rewrite_causes
from harness.tools.pins import newest_claude_code, pinned_version
from harness.verdict.deviations import file_for
from harness.yamlio import load

ROOT = Path(__file__).resolve().parents[3]


def run_witnesses(claude_code: str, litellm_python: str | None, extra: list[str]) -> dict[str, Any]:
    """One session of the witness checks; its JSON run."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "suites/test_witness.py",
            "--witness",
            "-q",
            "-p",
            "no:cacheprovider",
            "--tb=short",
            "--no-deviations",
            "--no-rerun",
            "--report-dir",
            tmp,
            "--claude-code",
            claude_code,
            *(["--litellm-python", litellm_python] if litellm_python else []),
            *extra,
        ]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        report = Path(tmp) / "compat.json"
        if not report.exists():
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
            raise HarnessError(
                f"the witness checks did not complete (pytest exit {done.returncode}). "
                f"Last lines:\n{tail}"
            )
        data: dict[str, Any] = json.loads(report.read_text())
        return data


def witnesses(run: dict[str, Any], claude_code: str) -> dict[str, dict[str, Any]]:
    """Per cause: what the CLI printed, from the run's passing witness checks."""
    out = {}
    label = run["info"]["label"]
    for r in run["results"]:
        seen = r.get("observed") or {}
        if r["outcome"] != "pass" or "cause" not in seen:
            continue
        out[str(seen["cause"])] = {
            "claude_code": claude_code,
            "gateway": label,
            "command": f"python -m harness witness --claude-code {claude_code} -k {seen['cause']}",
            "situation": seen.get("situation", ""),
            "exit_code": int(seen.get("exit code", -1)),
            "printed": str(seen.get("printed", "")),
        }
    return out


def cmd_witness(args: argparse.Namespace) -> int:
    claude_code = args.claude_code or newest_claude_code()
    extra = ["-k", args.k] if args.k else []
    run = run_witnesses(claude_code, args.litellm_python, extra)
    found = witnesses(run, claude_code)
    failed = [r["nodeid"] for r in run["results"] if r["outcome"] != "pass"]
    for cause, w in found.items():
        print(f"{cause}: exit {w['exit_code']} ({w['situation']})\n  {w['printed']}")
    for nodeid in failed:
        print(f"no witness: {nodeid} did not complete (see its evidence with --report-dir)")
    if args.write and found:
        path = args.file or file_for("litellm", pinned_version())
        table = load(path.read_text()).get("causes") or {}
        unknown = sorted(set(found) - set(table))
        if unknown:
            raise HarnessError(
                f"{path} has no cause {', '.join(unknown)}: add it to its causes: table first"
            )
        for cause, w in found.items():
            table[cause]["witness"] = w
        rewrite_causes(path, table)
        print(f"wrote {len(found)} witness(es) into {path}")
    return 1 if failed else 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    wit = sub.add_parser(
        "witness", help="what the real Claude Code CLI prints for each known cause"
    )
    wit.add_argument(
        "--claude-code",
        default=None,
        metavar="VERSION",
        help="default: the newest profiled version",
    )
    wit.add_argument(
        "--litellm-python", default=None, metavar="PATH", help="the LiteLLM under test"
    )
    wit.add_argument(
        "-k",
        default=None,
        metavar="EXPR",
        help="only the witnesses this pytest -k expression selects",
    )
    wit.add_argument(
        "--write", action="store_true", help="put what they printed into the causes table"
    )
    wit.add_argument(
        "--file", type=Path, default=None, help="default: the pinned LiteLLM's deviations file"
    )
    wit.set_defaults(func=cmd_witness)
