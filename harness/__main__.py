"""Command line: ``python -m harness catalogue`` lists every requirement and which checks cover it."""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from harness.requirements import catalogue

SUITES = Path(__file__).resolve().parent.parent / "suites"
MARKER = re.compile(r"@pytest\.mark\.req\(\"([A-Z0-9-]+)\"\)")


def coverage(suites: Path = SUITES) -> Counter[str]:
    """How many check functions state each requirement (parametrized cases count once)."""
    return Counter(m for path in sorted(suites.glob("test_*.py")) for m in MARKER.findall(path.read_text()))


def cmd_catalogue(args: argparse.Namespace) -> int:
    covered = coverage()
    rows = [r for r in catalogue().values() if not args.uncovered or r.id not in covered]
    for r in rows:
        mark = f"{covered[r.id]} check(s)" if r.id in covered else "NOT COVERED"
        print(f"{r.id:<11} {r.level:<6} {mark:<12} {r.statement}")
    missing = [r.id for r in catalogue().values() if r.id not in covered]
    print(f"\n{len(catalogue())} requirements, {len(missing)} not covered: {', '.join(missing) or 'none'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness")
    sub = parser.add_subparsers(dest="command", required=True)
    cat = sub.add_parser("catalogue", help="list the requirements and their coverage")
    cat.add_argument("--uncovered", action="store_true", help="only the requirements no check covers")
    cat.set_defaults(func=cmd_catalogue)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
