"""The kill matrix: the suite against the reference gateway once per fault, requirements x faults.

Mutation testing for a conformance suite: each of the reference gateway's faults breaks one
behaviour (``harness.gateway.reference.faults``), and a requirement is *proven* when a fault makes
its checks fail. The clean reference gateway is the positive control: it must pass every applicable
check.

    python -m harness controls                    every fault against the whole suite (the full
                                                  matrix)
    python -m harness controls --narrow           each fault against the requirements it declares
                                                  it kills
    python -m harness controls --level must ...   only those levels' requirements
    python -m harness controls --faults a b ...   only these faults
    python -m harness controls --write-readme README.md
                                                  the README's "how strong is each check" block

It writes ``controls.json`` (the data) and ``controls.html`` (the page) to ``--out``, and exits
non-zero when the clean gateway fails a check or a fault does not kill a requirement it declares.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.gateway.reference.faults import FAULTS, KILLS, UNREACHABLE, kill_score
from harness.plugin.killmatrix import fault_of, modules_naming
from harness.plugin.stash import SUITES_DIR
from harness.report.render import render_controls
from harness.tools import readme
from harness.verdict.catalogue import catalogue

CLEAN = "reference"


@dataclass
class Control:
    """One run of the suite against the reference gateway, clean or with one fault."""

    impl: str
    reqs: tuple[str, ...] = ()  # narrowed to these requirements; () runs every check
    failing: set[str] = field(default_factory=set)
    ran: set[str] = field(
        default_factory=set
    )  # requirements with at least one check that ran (not skipped)
    passed: int = 0
    wall: float = 0.0
    exit: int = 0
    tail: str = ""

    @property
    def fault(self) -> str:
        return self.impl.partition(":")[2]


def files_for(reqs: tuple[str, ...]) -> list[str]:
    """The suite files that name these requirements, so a narrowed control collects only them; the
    whole folder when one of them is named nowhere in it (a feature row or a scenario table
    elsewhere names it)."""
    modules = modules_naming(frozenset(reqs)) if reqs else None
    return sorted(map(str, modules)) if modules is not None else [str(SUITES_DIR)]


def sweep_command(controls: list[Control], workdir: Path, workers: str) -> list[str]:
    """One session for every control: the clean checks, and a copy of each fault's
    (harness.plugin.killmatrix)."""
    clean = next(c for c in controls if c.impl == CLEAN)
    faulty = [c for c in controls if c.impl != CLEAN]
    narrow = all(c.reqs for c in faulty)
    wanted = sorted({r for c in controls for r in c.reqs}) if clean.reqs else []
    files = files_for(tuple(wanted)) if wanted else [str(SUITES_DIR)]
    return [
        sys.executable,
        "-m",
        "pytest",
        *files,
        "-q",
        "-p",
        "no:cacheprovider",
        "--tb=no",
        "-m",
        "not e2e",
        "--gateway-impl",
        CLEAN,
        "--no-rerun",
        "--report-dir",
        str(workdir),
        "-n",
        workers,
        *(f"--req={r}" for r in wanted),
        *(f"--kill-matrix={c.fault}" for c in faulty),
        *(() if narrow else ("--kill-matrix-all",)),
    ]


def read_back(controls: list[Control], results: list[dict[str, Any]]) -> None:
    """Each control's outcome from the one session's results: a check's node id names the fault it
    ran under."""
    by_fault: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_fault.setdefault(fault_of(str(r["nodeid"])), []).append(r)
    for control in controls:
        mine = by_fault.get(control.fault, [])
        control.failing = {r["requirement"] for r in mine if r["outcome"] in ("fail", "error")}
        control.ran = {r["requirement"] for r in mine if r["outcome"] not in ("skipped",)}
        control.passed = sum(r["outcome"] == "pass" for r in mine)
        control.wall = sum(float(r.get("duration") or 0.0) for r in mine)


def run_all(controls: list[Control], workers: int = 2, minutes: float = 30) -> list[Control]:
    """Every control in one pytest session on ``workers`` workers: the faults are switched between
    checks on the same reference gateways, so no control pays for an interpreter, a collection and
    gateways of its own. The full matrix takes far longer than CI's narrow one: ``minutes``."""
    with tempfile.TemporaryDirectory(prefix="controls-") as tmp:
        cmd = sweep_command(controls, Path(tmp), str(workers))
        try:
            done = subprocess.run(
                cmd, cwd=SUITES_DIR.parent, capture_output=True, text=True, timeout=minutes * 60
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(
                f"the kill matrix did not finish within {minutes:g} min ({len(controls)} controls "
                f"on {workers} workers); rerun with --timeout MINUTES, more --workers, or fewer "
                "--faults"
            ) from None
        tail = (done.stdout[-2500:] + done.stderr[-1500:]).strip()
        report = Path(tmp) / "compat.json"
        if not report.exists():
            raise RuntimeError(
                f"the controls wrote no report (pytest exit {done.returncode}):\n{tail}"
            )
        if done.returncode > 1:  # 1 is the faults' failing checks; more is a crash or a usage error
            raise RuntimeError(
                f"the controls did not complete (pytest exit {done.returncode}):\n{tail}"
            )
        read_back(controls, json.loads(report.read_text())["results"])
    for control in controls:
        control.exit, control.tail = int(bool(control.failing)), tail
    return controls


def plan(faults: list[str], levels: set[str], narrow: bool) -> list[Control]:
    """The clean control and one per fault; narrowed, each runs only the requirements it declares it
    kills."""
    wanted = {r.id for r in catalogue().values() if r.level in levels}
    everything = wanted == {r.id for r in catalogue().values()}
    clean = Control(CLEAN, tuple(sorted(wanted)) if narrow and not everything else ())
    out = [clean]
    for fault in faults:
        reqs = tuple(sorted(KILLS[fault] & wanted)) if narrow else ()
        if narrow and not reqs:
            continue
        out.append(Control(f"{CLEAN}:{fault}", reqs))
    return out


def matrix(controls: list[Control], levels: set[str]) -> dict[str, Any]:
    """The data: each requirement's row (which faults killed it), the score, and every broken
    promise."""
    clean = next(c for c in controls if c.impl == CLEAN)
    faulty = [c for c in controls if c.impl != CLEAN]
    rows = []
    for req in catalogue().values():
        if req.level not in levels:
            continue
        killers = sorted(c.fault for c in faulty if req.id in c.failing)
        declared = sorted(f for f, reqs in KILLS.items() if req.id in reqs)
        rows.append(
            {
                "id": req.id,
                "level": req.level,
                "statement": req.statement,
                "killed_by": killers,
                "declared": declared,
                "unreachable": UNREACHABLE.get(req.id, ""),
                "ran_clean": req.id in clean.ran,
            }
        )
    missed = [
        {"fault": c.fault, "requirement": r}
        for c in faulty
        for r in sorted(set(c.reqs or KILLS[c.fault]) & {row["id"] for row in rows})
        if r not in c.failing
    ]
    score = {}
    for level in sorted(levels):
        of_level = [r for r in rows if r["level"] == level]
        score[level] = {
            "requirements": len(of_level),
            "killed": sum(bool(r["killed_by"]) for r in of_level),
            "unreachable": sum(bool(r["unreachable"]) and not r["killed_by"] for r in of_level),
        }
    return {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "faults": {
            c.fault: {
                "breaks": FAULTS[c.fault],
                "failing": sorted(c.failing),
                "wall_s": round(c.wall, 1),
                "narrowed_to": list(c.reqs),
            }
            for c in faulty
        },
        "clean": {
            "failing": sorted(clean.failing),
            "passed": clean.passed,
            "wall_s": round(clean.wall, 1),
        },
        "rows": rows,
        "missed": missed,
        "score": score,
    }


START, END = "<!-- kills:start -->", "<!-- kills:end -->"


def readme_block() -> str:
    """The README's matrix, from the promises CI holds the faults to (tests/test_controls.py)."""
    levels = {r.id: r.level for r in catalogue().values()}
    score = kill_score(levels)
    must = score["must"]
    lines = [
        "<!-- generated by `python -m harness controls --write-readme README.md` from "
        "harness/gateway/reference/faults.py; do not edit by hand -->",
        f"**{must['killed']} of {must['requirements']} must-level requirements are proven to fail "
        "on a fault** of the reference gateway; no fault can reach the other "
        f"{must['unreachable']}, each for the reason below. "
        + "; ".join(
            f"{level}: {s['killed']} of {s['requirements']} proven, {s['unreachable']} unreachable"
            for level, s in sorted(score.items())
            if level != "must"
        )
        + ".",
        "",
        f"<details><summary>The {len(FAULTS)} faults, each with the requirements it must make fail"
        "</summary>",
        "",
        "| fault | what it breaks | requirements that must fail |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{f}` | {FAULTS[f]} | {', '.join(sorted(KILLS[f]))} |" for f in sorted(FAULTS)]
    lines += ["", "</details>", "", "No fault can reach:", ""]
    by_reason: dict[str, list[str]] = {}
    for req, reason in UNREACHABLE.items():
        by_reason.setdefault(reason, []).append(req)
    lines += [f"- {', '.join(sorted(reqs))}: {reason}" for reason, reqs in by_reason.items()]
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    """``text`` with its kills block replaced (the answer block's mechanism, with these markers)."""
    return readme.replace_block(text, block, "README.md", (START, END))


def write(out: Path, data: dict[str, Any]) -> None:
    """``controls.json`` (the data) and ``controls.html`` (the page) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "controls.json").write_text(json.dumps(data, indent=1))
    (out / "controls.html").write_text(render_controls(data))


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "controls",
        help="the kill matrix: the suite against the reference gateway once per fault",
        description=__doc__.splitlines()[0],
    )
    parser.add_argument(
        "--faults", nargs="+", default=sorted(FAULTS), choices=sorted(FAULTS), metavar="FAULT"
    )
    parser.add_argument(
        "--level", nargs="+", default=["must", "should", "info"], choices=("must", "should", "info")
    )
    parser.add_argument(
        "--narrow",
        action="store_true",
        help="each fault runs only the requirements it declares it kills (the CI proof)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="pytest-xdist workers for the one session (default 2)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="MINUTES",
        help="give up after MINUTES (default 30 with --narrow, 240 for the full matrix)",
    )
    parser.add_argument("--out", type=Path, default=Path("reports"))
    parser.add_argument(
        "--write-readme", type=Path, metavar="FILE", help="rewrite FILE's kills block, run nothing"
    )
    parser.add_argument(
        "--check-readme", type=Path, metavar="FILE", help="exit 1 when FILE's kills block is stale"
    )
    parser.set_defaults(func=cmd_controls)


def cmd_controls(args: argparse.Namespace) -> int:
    if args.write_readme or args.check_readme:
        return readme.sync_block(
            args.write_readme or args.check_readme,
            readme_block(),
            (START, END),
            bool(args.write_readme),
            "python -m harness controls --write-readme",
        )
    levels = set(args.level)
    started = time.monotonic()
    minutes = args.timeout or (30 if args.narrow else 240)
    data = matrix(run_all(plan(args.faults, levels, args.narrow), args.workers, minutes), levels)
    data["wall_s"] = round(time.monotonic() - started, 1)
    write(args.out, data)
    for level, s in data["score"].items():
        print(
            f"{level}: {s['killed']} of {s['requirements']} requirements proven to fail on a fault "
            f"({s['unreachable']} named unreachable)"
        )
    print(f"{len(data['faults'])} faults in {data['wall_s']} s; {args.out / 'controls.html'}")
    for miss in data["missed"]:
        print(
            f"NOT KILLED: {miss['fault']} was declared to kill {miss['requirement']}, "
            "and no check of it failed"
        )
    if data["clean"]["failing"]:
        print(f"the clean reference gateway failed {data['clean']['failing']}")
    return 1 if data["missed"] or data["clean"]["failing"] else 0
