"""Where the providers' answers came from, per route: live recordings, answers derived from them,
or synthetic ones (issue 40).

Each check's ``reply_sources`` lists, per fake provider route it reached, whose bytes answered
(``harness.fakes.live.source_of``). The coverage counts each check once per route and source kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from harness import tapes

KINDS = ("live", "derived", "synthetic")


def kind(source: str) -> str:
    """``live``, ``derived`` or ``synthetic``, from "live <cassette>", "derived <cassette> ..."."""
    head = source.split(" ", 1)[0]
    return head if head in KINDS else "synthetic"


def by_route(results: Iterable[Any]) -> dict[str, dict[str, int]]:
    """For each provider route: how many checks it answered from each kind of source."""
    counts: dict[str, dict[str, int]] = {}
    for result in results:
        if _get(result, "outcome") in ("skipped", "not-covered"):
            continue
        seen = set()
        for entry in _get(result, "reply_sources") or []:
            route, _, source = str(entry).partition(": ")
            seen.add((route, kind(source)))
        for route, k in seen:
            counts.setdefault(route, dict.fromkeys(KINDS, 0))[k] += 1
    return dict(sorted(counts.items()))


def _get(result: Any, name: str) -> Any:
    return result.get(name) if isinstance(result, dict) else getattr(result, name, None)


def table(counts: dict[str, dict[str, int]]) -> str:
    """The counts as a Markdown table, with a total row."""
    lines = ["| provider route | live | derived | synthetic |", "| --- | ---: | ---: | ---: |"]
    total = dict.fromkeys(KINDS, 0)
    for route, row in counts.items():
        lines.append(f"| {route} | " + " | ".join(str(row[k]) for k in KINDS) + " |")
        for k in KINDS:
            total[k] += row[k]
    lines.append("| **every route** | " + " | ".join(f"**{total[k]}**" for k in KINDS) + " |")
    return "\n".join(lines)


@cache
def upstream(source: str) -> str:
    """For a live or derived answer: the upstream file it was imported from, at its commit ("" when
    the source is synthetic or its cassette is not here)."""
    parts = source.split(" ")
    if len(parts) < 2 or kind(source) == "synthetic":
        return ""
    try:
        p = tapes.load(parts[1]).provenance
    except tapes.CassetteError:
        return ""
    return f"{p.get('repository')}/blob/{p.get('commit')}/{p.get('upstream_path')}"
