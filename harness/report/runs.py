"""Reading JSON runs back, aligning runs made from different catalogues, and comparing them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.report.model import SCHEMA

# Worst first: a requirement's cell shows the worst outcome among its checks.
ORDER = ("fail", "error", "deviation", "fixed", "skipped", "pass", "not-covered")
BAD = frozenset({"fail", "error", "deviation"})
# "fixed": a listed deviation that no longer occurs. The gateway behaves well; the file is stale.
GOOD = frozenset({"pass", "fixed"})


def run_name(run: dict[str, Any]) -> str:
    info = run["info"]
    stamp = re.sub(r"[^0-9T]", "", info["started_at"])[:15]
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", f"{info['label']}-{stamp}").strip("-").lower()


def load_run(path: Path) -> dict[str, Any]:
    """A run written by the suite; a HarnessError names the file and what is wrong with it."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise HarnessError(f"{path}: cannot read the run: {exc.strerror}") from None
    except ValueError as exc:
        raise HarnessError(f"{path}: not a complete JSON run (corrupt or truncated?): {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise HarnessError(f"{path}: not a run of this suite (expected schema {SCHEMA!r})")
    for key in ("info", "requirements", "results"):
        if key not in data:
            raise HarnessError(f"{path}: the run has no {key!r}")
    return data


def cell(run: dict[str, Any], req_id: str) -> str:
    """The worst outcome among the run's checks of ``req_id``; not-covered if it has none."""
    outcomes = [r["outcome"] for r in run["results"] if r["requirement"] == req_id]
    return min(outcomes, key=ORDER.index) if outcomes else "not-covered"


def aligned_requirements(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The union of the runs' catalogues, in first-seen order; a run lacking one shows not-covered."""
    seen: dict[str, dict[str, Any]] = {}
    for run in runs:
        for req in run["requirements"]:
            seen.setdefault(req["id"], req)
    return list(seen.values())


@dataclass
class Change:
    requirement: dict[str, Any]
    base: str
    candidate: str
    detail: list[str] = field(default_factory=list)

    def line(self) -> str:
        r = self.requirement
        head = f"  {r['id']:<11} {r['level']:<6} {self.base:>11} -> {self.candidate:<11} {r['statement'][:90]}"
        return "\n".join([head, *(f"      {d}" for d in self.detail)])


@dataclass
class Comparison:
    regressions: list[Change]
    fixes: list[Change]
    unchanged: list[Change]

    def gate(self, fail_on_should: bool) -> int:
        return gate_exit([c.requirement["level"] for c in self.regressions], fail_on_should)


def gate_exit(regression_levels: list[str], fail_on_should: bool) -> int:
    """1 when a regression is at a level that fails the gate: must, and should when asked."""
    levels = {"must", "should"} if fail_on_should else {"must"}
    return 1 if any(level in levels for level in regression_levels) else 0


def fingerprint_changes(base: dict[str, Any], candidate: dict[str, Any], req_id: str) -> list[str]:
    """Checks of ``req_id`` that fail in both runs, but differently: which fields of the fingerprint moved."""
    before = {r["nodeid"]: r for r in base["results"] if r["requirement"] == req_id}
    out = []
    for after in (r for r in candidate["results"] if r["requirement"] == req_id):
        old = before.get(after["nodeid"])
        if old is None or old["outcome"] not in BAD or after["outcome"] not in BAD:
            continue
        a, b = old.get("fingerprint") or {}, after.get("fingerprint") or {}
        if a and b and a != b:
            moved = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            out.append(f"{after['name']}: fails differently ({', '.join(moved)})")
    return out


# The gateway's added latency (harness.bench) may grow this much before compare calls it a regression,
# and never for less than the floor: a 0.3 ms overhead "doubling" to 0.6 ms is noise, not news.
OVERHEAD_TOLERANCE = 1.2
OVERHEAD_FLOOR_MS = 1.0
OVERHEAD_REQUIREMENT = {
    "id": "PERF-OVERHEAD", "area": "PERF", "level": "should", "source": "harness bench", "url": "",
    "statement": "The gateway's added latency (p50 and p99, JSON and time to first byte, at each concurrency) is "
                 "no more than 20% worse than the baseline's, measured in the same run.",
}


def overhead_changes(base: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    """Where the candidate's measured overhead is more than 20% (and 1 ms) worse than the baseline's.

    Only figures measured in the same run (the same bench session, as the gate takes them) are compared:
    a benchmark from another day on another load says nothing about a version.
    """
    a, b = base.get("bench"), candidate.get("bench")
    if not a or not b or a.get("session") != b.get("session"):
        return []
    out = []
    for level, figures in b["concurrency"].items():
        for kind in ("json", "stream_ttfb"):
            for q in ("p50", "p99"):
                old = a["concurrency"].get(level, {}).get(kind, {}).get(q, {}).get("added_ms", {}).get("median")
                new = figures[kind][q]["added_ms"]["median"]
                if old is not None and new > max(old, 0.0) * OVERHEAD_TOLERANCE and new - old > OVERHEAD_FLOOR_MS:
                    out.append(f"{kind} {q} at concurrency {level}: {old} ms -> {new} ms added")
    return out


def compare(base: dict[str, Any], candidate: dict[str, Any]) -> Comparison:
    """Per requirement: pass -> fail/error/deviation is a regression, the reverse a fix.

    A requirement failing in both runs is a regression too when one of its checks
    fails differently (its fingerprint changed), even if both runs call it a known
    deviation: the same name must not hide a different, possibly worse, behaviour.
    """
    out = Comparison([], [], [])
    for req in aligned_requirements([base, candidate]):
        change = Change(req, cell(base, req["id"]), cell(candidate, req["id"]))
        if change.base in GOOD and change.candidate in BAD:
            out.regressions.append(change)
        elif change.base in BAD and change.candidate in GOOD:
            out.fixes.append(change)
        elif moved := fingerprint_changes(base, candidate, req["id"]):
            change.detail = moved
            out.regressions.append(change)
        else:
            out.unchanged.append(change)
    if moved := overhead_changes(base, candidate):
        out.regressions.append(Change(OVERHEAD_REQUIREMENT, "pass", "fail", moved))
    return out
