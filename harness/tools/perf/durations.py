"""``python -m harness durations``: the order workers take the checks in, and the seed of
durations."""

from __future__ import annotations

import argparse
import json
from collections import Counter

from harness.errors import HarnessError
from harness.plugin import scheduling as parallel
from harness.plugin.collected import collect
from harness.plugin.stash import SUITES_DIR

CACHED_DURATIONS = SUITES_DIR.parent / ".pytest_cache" / "v" / parallel.DURATIONS


def cmd_durations(args: argparse.Namespace) -> int:
    collected = collect("tests", "suites").node_ids
    cached = json.loads(CACHED_DURATIONS.read_text()) if CACHED_DURATIONS.is_file() else {}
    seed = parallel.read_seed()
    if args.save:
        if not cached:
            raise HarnessError(
                f"no durations in {CACHED_DURATIONS} yet: run `pytest` (on workers) first"
            )
        # Over the old seed: a narrow last run (-k, --claude-code) keeps the entries it did not run.
        seed = parallel.seed_from({**seed, **cached}, collected)
        parallel.SEED.write_text(json.dumps(seed, indent=1) + "\n")
        print(
            f"wrote {parallel.SEED}: {len(seed)} checks of at least {parallel.SEED_FLOOR_S:g} s, "
            f"{sum(seed.values()):.0f} s"
        )
    known = {**seed, **cached}
    totals: Counter[str] = Counter()
    for nodeid in collected:
        totals[parallel.unit(nodeid)] += known.get(nodeid, 0.0)
    print(
        f"{len(totals)} units, {sum(totals.values()):.0f} s known in all "
        "(a check never timed counts 0 here; the run guesses 20 s for a slow one, "
        f"10 s for an e2e one); the first {args.top} a worker takes:"
    )
    for name, seconds in totals.most_common(args.top):
        print(f"  {seconds:7.1f} s  {name}")
    stale = sorted(set(seed) - collected)
    if stale:
        print(
            f"{len(stale)} seed entries name no check any more (refresh with --save): "
            f"{', '.join(stale[:5])}"
        )
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dur = sub.add_parser(
        "durations", help="the order workers take the checks in (longest first), from the last runs"
    )
    dur.add_argument(
        "--save",
        action="store_true",
        help=f"rewrite {parallel.SEED.name} from this checkout's durations "
        "(pytest's cache) over it",
    )
    dur.add_argument("--top", type=int, default=10, metavar="N")
    dur.set_defaults(func=cmd_durations)
