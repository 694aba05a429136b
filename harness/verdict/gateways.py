"""One table across gateways (issue 41): requirements x runs of different gateways, each cell
pass, fail (with its fingerprint), not applicable (with the driver's reason) or unknown; the rows
grouped into a core profile and extended profiles per capability, like the Kubernetes Gateway
API's conformance reports.

A gateway is *conformant to core* when every must-level core requirement passes on it. It
*claims* an extended profile when any of the profile's checks applies to it, and *meets* it when
every must-level requirement of the profile that applies passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# What every Claude Code deployment needs, then what each capability adds (catalogue areas).
CORE = ("AUTH", "MODELS", "ROUTE", "PIPE", "STREAM", "ERR", "CTX1M")
EXTENDED = {
    "pass-through": ("PASS",),
    "bedrock": ("BEDROCK",),
    "vertex": ("VERTEX",),
    "virtual keys and admin": ("KEYS", "ADMIN"),
    "cost and usage": ("COST", "USAGE"),
    "discovery and counting": ("DISCOVERY", "DISC", "COUNT"),
    "protocol fidelity": ("PROTO", "FIELDS", "FEAT", "THINK", "STATE", "LIVE"),
    "resilience and load": ("RESIL", "LOAD", "FUZZ"),
    "real client (end to end)": ("E2E",),
}
FAILING = ("fail", "error", "deviation")


def profile_of(area: str) -> str:
    if area in CORE:
        return "core"
    return next((name for name, areas in EXTENDED.items() if area in areas), "other")


@dataclass
class Cell:
    state: str  # "pass", "fail", "n/a" or "unknown"
    detail: str = ""  # the failing checks, or the reason it does not apply
    gateway: str = ""  # the run's driver: two LiteLLM versions are one gateway


@dataclass
class Row:
    requirement: dict[str, Any]
    profile: str
    cells: list[Cell] = field(default_factory=list)

    @property
    def disagree(self) -> bool:
        """Gateways the requirement applies to answer it differently."""
        return len({c.state for c in self.cells if c.state in ("pass", "fail")}) > 1

    @property
    def fails_everywhere(self) -> bool:
        """Failing on every gateway it applies to (two gateways or more, not two versions of one):
        review the requirement itself."""
        applied = [c for c in self.cells if c.state in ("pass", "fail")]
        gateways = {c.gateway for c in applied}
        return len(gateways) >= 2 and all(c.state == "fail" for c in applied)


def cell(run: dict[str, Any], req_id: str) -> Cell:
    gateway = run["info"].get("gateway", "litellm")
    results = [r for r in run["results"] if r["requirement"] == req_id]
    if not results:
        return Cell("unknown", "no check ran", gateway)
    failing = [r for r in results if r["outcome"] in FAILING]
    if failing:
        names = ", ".join(r["name"] for r in failing[:3]) + (" ..." if len(failing) > 3 else "")
        return Cell("fail", names, gateway)
    if any(r["outcome"] in ("pass", "fixed") for r in results):
        return Cell("pass", "", gateway)
    reasons = sorted({r.get("reason", "") for r in results})
    return Cell("n/a", "; ".join(reasons)[:200], gateway)


def table(runs: list[dict[str, Any]]) -> list[Row]:
    seen: dict[str, dict[str, Any]] = {}
    for run in runs:
        for req in run["requirements"]:
            seen.setdefault(req["id"], req)
    rows = [
        Row(req, profile_of(req["area"]), [cell(run, rid) for run in runs])
        for rid, req in seen.items()
    ]
    order = ["core", *EXTENDED, "other"]
    return sorted(rows, key=lambda row: order.index(row.profile))


def _states(rows: list[Row], n: int, profile: str, must_only: bool = False) -> list[str]:
    """The n-th gateway's cells in a profile (its must-level requirements only, if asked)."""
    return [
        r.cells[n].state
        for r in rows
        if r.profile == profile and (not must_only or r.requirement.get("level") == "must")
    ]


def verdicts(runs: list[dict[str, Any]], rows: list[Row]) -> list[dict[str, Any]]:
    """Per gateway: core conformance, the profiles it claims and those it meets, and counts."""
    out = []
    for n, run in enumerate(runs):
        core = _states(rows, n, "core", must_only=True)
        claimed = [p for p in EXTENDED if any(s in ("pass", "fail") for s in _states(rows, n, p))]
        met = [p for p in claimed if "fail" not in _states(rows, n, p, must_only=True)]
        counts: dict[str, int] = {}
        for r in run["results"]:
            counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
        out.append(
            {
                "label": run["info"]["label"],
                "gateway": run["info"].get("gateway", "litellm"),
                "core": bool(core) and all(s == "pass" for s in core),
                "core_failing": sum(s != "pass" for s in core),
                "claimed": claimed,
                "met": met,
                "checks": counts,
            }
        )
    return out


def markdown(runs: list[dict[str, Any]], rows: list[Row]) -> str:
    labels = [r["info"]["label"] for r in runs]
    lines = ["| requirement | level | profile | " + " | ".join(labels) + " | note |"]
    lines.append("| --- | --- | --- | " + " | ".join("---" for _ in labels) + " | --- |")
    for row in rows:
        note = (
            "review the requirement"
            if row.fails_everywhere
            else ("disagree" if row.disagree else "")
        )
        cells = " | ".join(c.state for c in row.cells)
        req = row.requirement
        lines.append(f"| {req['id']} | {req.get('level', '')} | {row.profile} | {cells} | {note} |")
    lines.append("")
    for v in verdicts(runs, rows):
        lines.append(
            f"- {v['label']}: conformant to core: {'yes' if v['core'] else 'no'}"
            f" ({v['core_failing']} must-level core requirement(s) not passing); profiles claimed:"
            f" {', '.join(v['claimed']) or 'none'}; met: {', '.join(v['met']) or 'none'}; checks:"
            f" {', '.join(f'{k} {c}' for k, c in sorted(v['checks'].items()))}"
        )
    return "\n".join(lines)
