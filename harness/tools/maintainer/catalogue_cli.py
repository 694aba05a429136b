"""``python -m harness catalogue [--uncovered] [--check]``: the requirements, the checks that cover
each, and the faults of the reference gateway that kill them."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from harness.fakes.scenarios import SCENARIOS
from harness.gateway.reference.faults import kill_problems, kill_score
from harness.plugin.stash import SUITES_DIR
from harness.verdict.catalogue import catalogue

MARKER = re.compile(r"@pytest\.mark\.req\(\"([A-Z0-9-]+)\"\)")
# A feature row's requirement (suites/support/features.py): read as text, as the markers are.
FEATURE_ROW = re.compile(r"Feature\(\s*\"([A-Z0-9-]+)\"")


def coverage(suites: Path = SUITES_DIR) -> Counter[str]:
    """How many check functions state each requirement (parametrized cases count once).

    The replay checks take their requirement from each provider scenario, and the feature checks
    from each feature row (one per check function of suites/test_features.py), so those count too.
    """
    found = Counter(
        m for path in sorted(suites.glob("test_*.py")) for m in MARKER.findall(path.read_text())
    )
    per_row = len(re.findall(r"^def test_", (suites / "test_features.py").read_text(), re.M))
    return (
        found
        + Counter({s.requirement for s in SCENARIOS.values()})
        + Counter(
            {
                r: per_row
                for r in FEATURE_ROW.findall((suites / "support" / "features.py").read_text())
            }
        )
    )


def cmd_catalogue(args: argparse.Namespace) -> int:
    if args.check:
        return _check_kills()
    covered = coverage()
    rows = [r for r in catalogue().values() if not args.uncovered or r.id not in covered]
    for r in rows:
        mark = f"{covered[r.id]} check(s)" if r.id in covered else "NOT COVERED"
        print(f"{r.id:<11} {r.level:<6} {mark:<12} {r.statement}")
    missing = [r.id for r in catalogue().values() if r.id not in covered]
    print(
        f"\n{len(catalogue())} requirements, {len(missing)} not covered: "
        f"{', '.join(missing) or 'none'}"
    )
    return 0


def _check_kills() -> int:
    """Every requirement has a fault of the reference gateway that kills it, or the reason none
    can."""
    levels = {r.id: r.level for r in catalogue().values()}
    problems = kill_problems(levels)
    for level, s in sorted(kill_score(levels).items()):
        print(
            f"{level}: {s['killed']} of {s['requirements']} requirements proven to fail "
            f"on a fault, {s['unreachable']} named unreachable"
        )
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cat = sub.add_parser("catalogue", help="list the requirements and their coverage")
    cat.add_argument(
        "--uncovered", action="store_true", help="only the requirements no check covers"
    )
    cat.add_argument(
        "--check",
        action="store_true",
        help="fail when a requirement has neither a fault that kills it nor a reason none can",
    )
    cat.set_defaults(func=cmd_catalogue)
