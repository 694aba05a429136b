"""Reading JSON runs back, aligning runs made from different catalogues, and comparing them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.verdict.classes import (
    CheckVerdict,
    Class,
    Verdict,
    Waiver,
    apply_waivers,
    classify,
    worst,
)
from harness.verdict.fields import FieldMove
from harness.verdict.fingerprint import leaked
from harness.verdict.model import SCHEMA

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
        raise HarnessError(
            f"{path}: not a complete JSON run (corrupt or truncated?): {exc}"
        ) from None
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
    """The union of the runs' catalogues, in first-seen order; a run lacking one shows
    not-covered."""
    seen: dict[str, dict[str, Any]] = {}
    for run in runs:
        for req in run["requirements"]:
            seen.setdefault(req["id"], req)
    return list(seen.values())


@dataclass
class Change:
    """One requirement's class between two runs, from its checks' classes (the worst of them)."""

    requirement: dict[str, Any]
    base: str
    candidate: str
    detail: list[str] = field(default_factory=list)
    klass: Class = "same"

    def line(self) -> str:
        r = self.requirement
        head = (
            f"  {self.klass:<11} {r['id']:<11} {r['level']:<6} "
            f"{self.base:>11} -> {self.candidate:<11} "
            f"{r['statement'][:80]}"
        )
        return "\n".join([head, *(f"      {d}" for d in self.detail)])


@dataclass
class Comparison:
    """Per check (each parametrized case) its class; per requirement the worst; and the verdict."""

    verdict: Verdict
    changes: list[Change]

    def of_class(self, *classes: str) -> list[Change]:
        return [c for c in self.changes if c.klass in classes]

    @property
    def regressions(self) -> list[Change]:
        return self.of_class("security", "regressed", "new failure")

    @property
    def fixes(self) -> list[Change]:
        return self.of_class("fixed")

    @property
    def unchanged(self) -> list[Change]:
        return self.of_class("same")

    def gate(self, fail_on_should: bool, changes: str = "fail") -> int:
        self.verdict.fail_on_should, self.verdict.changes = fail_on_should, changes
        return self.verdict.exit_code()


def check_verdicts(base: dict[str, Any], candidate: dict[str, Any]) -> list[CheckVerdict]:
    """Every check of the candidate against the same check (node id) in the baseline run."""
    security = {r["id"] for r in candidate["requirements"] if r.get("security")}
    before = {r["nodeid"]: r for r in base["results"]}
    out = []
    for after in candidate["results"]:
        old = before.get(after["nodeid"])
        b_outcome = old["outcome"] if old else "absent"
        klass, moved = classify(
            b_outcome,
            (old or {}).get("fingerprint"),
            after["outcome"],
            after.get("fingerprint"),
            after["requirement"] in security,
            after.get("ranks"),
        )
        verdict = CheckVerdict(
            after["nodeid"],
            after["requirement"],
            after["level"],
            klass,
            b_outcome,
            after["outcome"],
            moved,
        )
        if (
            after.get("flaky") and klass != "security"
        ):  # its own session ran it twice, and the runs disagreed
            verdict.klass = "flaky"
            verdict.notes.append(str(after["flaky"]))
        if (
            after.get("harness_error") and klass != "security"
        ):  # the harness could not judge it: not a gateway class
            verdict.klass = "harness error"
            verdict.notes.append(str(after["harness_error"]))
        out.append(verdict)
    return out


def mark_flaky(first: list[CheckVerdict], second: list[CheckVerdict]) -> None:
    """A moved check whose second run (``rerun``) got another class, or moved other fields, is
    flaky."""
    again = {v.nodeid: v for v in second}
    for v in first:
        other = again.get(v.nodeid)
        if v.klass == "same" or other is None:
            continue
        if other.klass != v.klass or other.arrows() != v.arrows():
            v.notes.append(
                f"first run: {v.klass}; second run: {other.klass} {'; '.join(other.arrows()[:2])}"
            )
            v.klass = "flaky"


def fingerprint_changes(base: dict[str, Any], candidate: dict[str, Any], req_id: str) -> list[str]:
    """The checks of ``req_id`` that moved between the runs, each with its class and its fields'
    arrows."""
    base_one = {**base, "results": [r for r in base["results"] if r["requirement"] == req_id]}
    cand_one = {
        **candidate,
        "results": [r for r in candidate["results"] if r["requirement"] == req_id],
    }
    return [
        line for v in check_verdicts(base_one, cand_one) if v.klass != "same" for line in _detail(v)
    ]


def _detail(v: CheckVerdict) -> list[str]:
    name = v.nodeid.split("::")[-1]
    return [f"{name}: {v.klass} ({v.before} -> {v.after})", *(f"  {a}" for a in v.arrows()[:6])]


# The gateway's added latency (harness.tools.perf.bench) may grow this much before compare calls it
# a regression, and never for less than the floor: a 0.3 ms overhead "doubling" to 0.6 ms is noise,
# not news.
OVERHEAD_TOLERANCE = 1.2
OVERHEAD_FLOOR_MS = 1.0
OVERHEAD_REQUIREMENT = {
    "id": "PERF-OVERHEAD",
    "area": "PERF",
    "level": "should",
    "source": "harness bench",
    "url": "",
    "statement": "The gateway's added latency (p50 and p99, JSON and time to first byte, "
    "at each concurrency) is no more than 20% worse than the baseline's, measured in the same run.",
}


def overhead_changes(base: dict[str, Any], candidate: dict[str, Any]) -> list[str]:
    """Where the candidate's measured overhead is more than 20% (and 1 ms) worse than the
    baseline's.

    Only figures measured in the same run (the same bench session, as the gate takes them) are
    compared: a benchmark from another day on another load says nothing about a version.
    """
    a, b = base.get("bench"), candidate.get("bench")
    if not a or not b or a.get("session") != b.get("session"):
        return []
    if min(a.get("repeats", 1), b.get("repeats", 1)) < 2:
        return []  # one repeat is one sample: a +34% swing at concurrency 1 is within its noise
    out = []
    for level, figures in b["concurrency"].items():
        for kind in ("json", "stream_ttfb"):
            for q in ("p50", "p99"):
                before = (
                    a["concurrency"].get(level, {}).get(kind, {}).get(q, {}).get("added_ms", {})
                )
                after = figures[kind][q]["added_ms"]
                old, new = before.get("median"), after["median"]
                # Beyond noise: the repeats' ranges do not overlap, as well as the medians' margin.
                apart = after.get("min", new) > before.get("max", old if old is not None else new)
                if (
                    old is not None
                    and apart
                    and new > max(old, 0.0) * OVERHEAD_TOLERANCE
                    and new - old > OVERHEAD_FLOOR_MS
                ):
                    out.append(f"{kind} {q} at concurrency {level}: {old} ms -> {new} ms added")
    return out


def overhead_verdict(base: dict[str, Any], candidate: dict[str, Any]) -> CheckVerdict | None:
    moved = overhead_changes(base, candidate)
    if not moved:
        return None
    return CheckVerdict(
        "bench::overhead",
        OVERHEAD_REQUIREMENT["id"],
        OVERHEAD_REQUIREMENT["level"],
        "regressed",
        "pass",
        "fail",
        [FieldMove(m, "", "", "worse") for m in moved],
    )


def compare(
    base: dict[str, Any],
    candidate: dict[str, Any],
    waivers: list[Waiver] | None = None,
    rerun: dict[str, Any] | None = None,
) -> Comparison:
    """Each check of the candidate against the baseline's, classed (harness.verdict); requirements
    by worst class.

    A requirement failing in both runs is not "unchanged" by name: each of its checks is compared on
    its own, so a check that goes from pass to fail, or fails worse, shows even when a sibling
    deviated.
    """
    checks = check_verdicts(base, candidate)
    if rerun is not None:
        mark_flaky(checks, check_verdicts(base, rerun))
    apply_waivers(checks, waivers or [])
    by_req: dict[str, list[CheckVerdict]] = {}
    for v in checks:
        by_req.setdefault(v.requirement, []).append(v)
    changes = []
    for req in aligned_requirements([base, candidate]):
        mine = by_req.get(req["id"], [])
        klass = worst(v.klass for v in mine)
        detail = [line for v in mine if v.klass != "same" for line in _detail(v)]
        changes.append(
            Change(req, cell(base, req["id"]), cell(candidate, req["id"]), detail, klass)
        )
    if perf := overhead_verdict(base, candidate):
        checks.append(perf)
        changes.append(
            Change(OVERHEAD_REQUIREMENT, "pass", "fail", [m.field for m in perf.moves], "regressed")
        )
    return Comparison(Verdict(checks), changes)


def own_class(result: dict[str, Any], security: bool) -> Class:
    """A check's class within one run: against its deviations entry, or against "passes" when
    unlisted."""
    listed = result.get("deviation") or ""
    if result.get("flaky"):
        return "flaky"
    if leaked(result.get("fingerprint")):
        return "security"
    if result.get("harness_error"):
        return "harness error"
    if listed in ("same", "deviation"):
        return "same"
    if listed in ("improved", "fixed", "regressed", "changed", "security"):
        return listed  # type: ignore[return-value]
    if result["outcome"] in ("fail", "error"):
        return "security" if security else "new failure"
    return "fixed" if result["outcome"] == "fixed" else "same"


def run_verdict(
    run: dict[str, Any], changes: str = "fail", fail_on_should: bool = False
) -> Verdict:
    """One run judged on its own: each check against its deviations entry (or against passing)."""
    security = {r["id"] for r in run["requirements"] if r.get("security")}
    checks = []
    for r in run["results"]:
        klass = own_class(r, r["requirement"] in security)
        notes = list(r.get("moves") or []) + ([r["flaky"]] if r.get("flaky") else [])
        checks.append(
            CheckVerdict(
                r["nodeid"],
                r["requirement"],
                r["level"],
                klass,
                "deviation" if r.get("deviation") else "pass",
                r["outcome"],
                notes=notes,
            )
        )
    # Within one run pytest fails a check at any level; the verdict follows it.
    return Verdict(checks, fail_on_should=fail_on_should, changes=changes, every_level=True)
