"""The answer a platform engineer reads first: the problems a Claude Code user will meet, one per
root cause.

Failing checks come from a known-deviations file (the pinned version, :func:`from_file`) or from a
run (:func:`from_run`); each is told through its cause (:mod:`harness.verdict.causes`), worst impact
first, so no root cause is counted twice. A failing check without a cause is *unexplained*, never
dropped. Exposures are the ones a fingerprint shows (:func:`harness.verdict.impact.exposures`),
apart from the requirements marked ``security`` that fail. ``python -m harness answer``, the README
and the report render this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.claude_code import VERSION_IN_ID
from harness.verdict import deviations
from harness.verdict.catalogue import catalogue
from harness.verdict.causes import ROUTES, Cause
from harness.verdict.impact import exposures, rank

LEVELS = ("must", "should", "info")


@dataclass(frozen=True)
class Failing:
    check: str  # node id without "suites/"
    requirement: str
    fingerprint: Mapping[str, Any]
    cause: str | None
    moved: bool = False  # a run's check whose fingerprint is not the recorded one


@dataclass
class Problem:
    cause: Cause
    checks: list[Failing] = field(default_factory=list)

    @property
    def requirements(self) -> list[str]:
        order = list(catalogue())
        found = {f.requirement for f in self.checks}
        return sorted(found, key=lambda r: order.index(r) if r in order else len(order))

    def to_json(self) -> dict[str, Any]:
        c, m = self.cause, self.cause.mitigation
        return {
            "cause": c.id,
            "impact": c.impact,
            "sees": c.sees,
            "summary": c.summary,
            "routes": list(c.routes),
            "breaks": list(c.breaks),
            "modes": list(c.modes),
            "upstream": c.upstream,
            "releases": c.releases,
            "mitigation": None
            if m is None
            else {"setting": m.setting, "kind": m.kind, "proof": m.proof, "note": m.note},
            "witness": None if c.witness is None else vars(c.witness),
            "requirements": self.requirements,
            "checks": [f.check for f in self.checks],
            "moved": [f.check for f in self.checks if f.moved],
        }


@dataclass
class Answer:
    gateway: str  # "LiteLLM 1.108.7"
    claude_code: str
    settings: str
    source: str  # the deviations file or the run it was computed from
    recorded_at: str
    problems: list[Problem]  # worst impact first
    unexplained: list[Failing]
    failing: list[Failing]

    @property
    def met(self) -> list[Problem]:
        """The problems a Claude Code user meets (not the operator's alone, nor invisible ones)."""
        return [p for p in self.problems if p.cause.user_visible]

    @property
    def exposures(self) -> list[str]:
        return [
            f"{f.check}: {what}"
            for f in self.failing
            for what in exposures(f.requirement, f.fingerprint)
        ]

    @property
    def security_failing(self) -> list[str]:
        known = catalogue()
        return sorted(
            {
                f.requirement
                for f in self.failing
                if f.requirement in known and known[f.requirement].security
            },
            key=list(known).index,
        )

    def headline(self) -> str:
        n = len(self.met) + (1 if self.unexplained else 0)
        extra = (
            f", {len(self.unexplained)} failing check(s) without a known cause"
            if self.unexplained
            else ""
        )
        return (
            (
                f"{self.gateway} with Claude Code {self.claude_code} on {self.settings}: "
                f"{len(self.met)} problem"
                f"{'' if len(self.met) == 1 else 's'} a Claude Code user will meet{extra}"
            )
            if n
            else (
                f"{self.gateway} with Claude Code {self.claude_code} on {self.settings}: "
                "no problem a Claude Code user will meet"
            )
        )

    def routes(self) -> list[dict[str, Any]]:
        """One row per route: works, works with N problems, or broken, with the causes behind it."""
        rows = []
        for route, label in ROUTES.items():
            mine = [p.cause for p in self.met if route in p.cause.routes]
            broken = [c.id for c in mine if route in c.breaks]
            state = (
                "broken"
                if broken
                else f"works with {len(mine)} problem{'s' * (len(mine) != 1)}"
                if mine
                else "works"
            )
            rows.append(
                {
                    "route": route,
                    "label": label,
                    "state": state,
                    "causes": [c.id for c in mine],
                    "breaks": broken,
                }
            )
        return rows

    def levels(self) -> dict[str, dict[str, int]]:
        known = catalogue()
        out = {}
        for level in LEVELS:
            reqs = {
                f.requirement
                for f in self.failing
                if known.get(f.requirement) and known[f.requirement].level == level
            }
            out[level] = {
                "requirements": len(reqs),
                "of": sum(r.level == level for r in known.values()),
                "checks": sum(f.requirement in reqs for f in self.failing),
            }
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "headline": self.headline(),
            "gateway": self.gateway,
            "claude_code": self.claude_code,
            "settings": self.settings,
            "source": self.source,
            "recorded_at": self.recorded_at,
            "problems": [p.to_json() for p in self.met],
            "not_met_by_users": [p.to_json() for p in self.problems if not p.cause.user_visible],
            "unexplained": [
                {"check": f.check, "requirement": f.requirement} for f in self.unexplained
            ],
            "routes": self.routes(),
            "levels": self.levels(),
            "security": {
                "requirements_failing": self.security_failing,
                "exposures_observed": self.exposures,
            },
        }


def assemble(failing: list[Failing], table: Mapping[str, Cause], **info: str) -> Answer:
    """The answer for these failing checks, told through the causes of ``table``."""
    by_cause: dict[str, Problem] = {}
    unexplained = []
    for f in failing:
        if f.cause and f.cause in table:
            by_cause.setdefault(f.cause, Problem(table[f.cause])).checks.append(f)
        else:
            unexplained.append(f)
    problems = sorted(
        by_cause.values(), key=lambda p: (rank(p.cause.impact), -len(p.checks), p.cause.id)
    )
    return Answer(
        info["gateway"],
        info["claude_code"],
        info["settings"],
        info["source"],
        info.get("recorded_at", ""),
        problems,
        unexplained,
        failing,
    )


def _about(check: str, claude_code: str) -> bool:
    """Whether a check concerns this Claude Code version: it names none (every version shares it),
    or this one."""
    named = VERSION_IN_ID.search(check)
    return named is None or named.group(1) == claude_code


def from_file(path: Path, gateway: str, claude_code: str, settings: str = "its defaults") -> Answer:
    """The answer a known-deviations file records for ``claude_code``: every entry of a check it
    shares with other versions or that names it fails, told by its cause; the entries of other
    versions' checks are left out."""
    failing = [
        Failing(d.check, d.requirement, d.fingerprint or {}, d.cause)
        for d in deviations.load(path)
        if _about(d.check, claude_code)
    ]
    recorded = str(deviations.header(path).get("recorded_at", ""))[:10]
    return assemble(
        failing,
        deviations.causes(path),
        gateway=gateway,
        claude_code=claude_code,
        settings=settings,
        source=path.name,
        recorded_at=recorded,
    )


def from_run(run: Mapping[str, Any], causes_file: Path | None, claude_code: str) -> Answer:
    """The answer a run shows for ``claude_code``: its failing and deviating checks (of that
    version, or shared), each told through the cause a deviations file gives the same check
    (``causes_file``, default the run's own); a check it does not list is unexplained."""
    path = causes_file or (
        deviations.DIRECTORY / run["info"]["deviations_file"]
        if run["info"].get("deviations_file")
        else None
    )
    listed = {d.check: d for d in deviations.load(path)} if path and path.exists() else {}
    failing = []
    for r in run["results"]:
        if r["outcome"] not in ("fail", "deviation") or r.get("claude_code", "") not in (
            "",
            claude_code,
        ):
            continue
        check = r["nodeid"].removeprefix("suites/")
        entry = listed.get(check)
        moved = entry is not None and dict(entry.fingerprint or {}) != dict(
            r.get("fingerprint") or {}
        )
        failing.append(
            Failing(
                check,
                r["requirement"],
                r.get("fingerprint") or {},
                entry.cause if entry else None,
                moved,
            )
        )
    settings = (run["info"].get("settings") or {}).get("profile", "defaults")
    return assemble(
        failing,
        deviations.causes(path),
        gateway=run["info"]["label"],
        claude_code=claude_code,
        settings="its defaults" if settings == "defaults" else f"the {settings} settings",
        source=f"run of {run['info'].get('started_at', '')[:19]}",
        recorded_at=run["info"].get("started_at", "")[:10],
    )
