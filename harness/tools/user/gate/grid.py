"""The grid's data: one run per LiteLLM version split into one cell per Claude Code version, each
judged.

A run made with ``--claude-code X Y Z`` holds the checks every Claude Code version shares once, and
the version-specific ones (tagged ``claude_code`` in the results) for each column. A cell is the
shared checks plus its column's own, so the shared work runs once per LiteLLM version.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.errors import HarnessError
from harness.report.render import STATE_CSS
from harness.verdict.classes import Waiver
from harness.verdict.runs import BAD, Comparison, compare
from harness.verdict.summary import verdict


@dataclass(frozen=True)
class Pair:
    litellm: str
    claude_code: str

    @property
    def key(self) -> str:
        return f"{self.litellm}/{self.claude_code}"

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9.-]+", "-", f"litellm-{self.litellm}_cc-{self.claude_code}")

    @classmethod
    def parse(cls, text: str, litellm: list[str], claude_code: list[str]) -> Pair:
        """``A/X``, each side one of the grid's versions (``newest`` names the resolved newest
        LiteLLM)."""
        left, sep, right = text.partition("/")
        if not sep or left not in litellm or right not in claude_code:
            raise HarnessError(
                f"{text!r} is not a pair of the grid: write LITELLM/CLAUDE_CODE with "
                "LiteLLM one of "
                f"{', '.join(litellm)} and Claude Code one of {', '.join(claude_code)}"
            )
        return cls(left, right)


def cell_run(run: dict[str, Any], claude_code: str) -> dict[str, Any]:
    """The part of a LiteLLM version's run that concerns one Claude Code version, as a run of its
    own."""
    results = [r for r in run["results"] if r.get("claude_code", "") in ("", claude_code)]
    info = {
        **run["info"],
        "label": f"{_gateway(run['info'])} x Claude Code {claude_code}",
        "claude_code": claude_code,
        "claude_code_profiles": [claude_code],
    }
    return {**run, "info": info, "results": results}


def judge(
    cell: dict[str, Any],
    base: dict[str, Any],
    is_base: bool,
    rules: Rules,
    rerun: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One cell's verdict, its outcome counts, and each check that moved against the baseline."""
    own = {
        "counts": dict(Counter(r["outcome"] for r in cell["results"])),
        "bad_checks": sorted(r["nodeid"] for r in cell["results"] if r["outcome"] in BAD),
    }
    if is_base:  # judged on its own, against its known deviations; nothing to compare it with
        judged = verdict([cell], rules.changes, rules.fail_on_should)
        return {
            **{k: judged[k] for k in ("state", "verdict", "text", "details")},
            **own,
            "classes": {},
            "checks": [],
            "exit_code": 0,
            "regressions": [],
            "fixes": [],
        }
    result = compare(base, cell, rules.waivers, rerun)
    result.verdict.changes, result.verdict.fail_on_should = rules.changes, rules.fail_on_should
    return {
        **_verdict_of(result, cell),
        **own,
        "classes": dict(result.verdict.counts()),
        "checks": [c.to_json() for c in result.verdict.moved()],
        "exit_code": result.verdict.exit_code(),
        "regressions": [
            {
                "id": c.requirement["id"],
                "level": c.requirement["level"],
                "base": c.base,
                "candidate": c.candidate,
                "class": c.klass,
                "detail": c.detail,
            }
            for c in result.regressions
        ],
        "fixes": [c.requirement["id"] for c in result.fixes],
    }


def _verdict_of(result: Comparison, cell: dict[str, Any]) -> dict[str, Any]:
    v = result.verdict
    state = v.state()
    css = STATE_CSS.get(state, "caution")
    return {
        "state": css,
        "verdict": state,
        "text": f"{cell['info']['label']}: {state} ({v.summary()})",
        "details": v.lines()[1:],
    }


@dataclass(frozen=True)
class Rules:
    """How a cell is judged: --fail-on-should, --changes, and the security waivers in force."""

    fail_on_should: bool = False
    changes: str = "fail"
    waivers: list[Waiver] = field(default_factory=list)


def build(
    runs: dict[str, dict[str, Any]],
    litellm: list[str],
    claude_code: list[str],
    baseline: Pair,
    candidate: Pair,
    rules: Rules | None = None,
    reruns: dict[str, dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The grid (rows LiteLLM, columns Claude Code) and every cell's run, keyed by the pair's
    key."""
    cells = {Pair(lv, cv).key: cell_run(runs[lv], cv) for lv in litellm for cv in claude_code}
    base = cells[baseline.key]
    rules = rules or Rules()
    rows = [
        {
            "litellm": lv,
            "cells": [
                {
                    "pair": Pair(lv, cv).key,
                    "slug": Pair(lv, cv).slug,
                    "litellm": lv,
                    "claude_code": cv,
                    **judge(
                        cells[Pair(lv, cv).key],
                        base,
                        Pair(lv, cv) == baseline,
                        rules,
                        _rerun_cell(reruns, lv, cv),
                    ),
                }
                for cv in claude_code
            ],
        }
        for lv in litellm
    ]
    return {
        "litellm": litellm,
        "claude_code": claude_code,
        "baseline": baseline.key,
        "candidate": candidate.key,
        "rows": rows,
    }, cells


def _rerun_cell(
    reruns: dict[str, dict[str, Any]] | None, litellm: str, claude_code: str
) -> dict[str, Any] | None:
    run = (reruns or {}).get(litellm)
    return cell_run(run, claude_code) if run else None


def candidate_cell(grid: dict[str, Any]) -> dict[str, Any]:
    return next(c for row in grid["rows"] for c in row["cells"] if c["pair"] == grid["candidate"])


def gate_code(grid: dict[str, Any]) -> int:
    """1 when the candidate pair regresses against the baseline: regressed, new failure or an
    unreviewed change at must level (should too with --fail-on-should), or a security change at any
    level."""
    return int(candidate_cell(grid)["exit_code"])


def _gateway(info: dict[str, Any]) -> str:
    """A run's gateway as a column names it: "LiteLLM 1.108.7", or "claude-gateway@2.1.332"."""
    gateway = str(info.get("gateway") or "litellm")
    if gateway == "litellm":
        return f"LiteLLM {info['litellm_version']}"
    return f"{gateway}@{info.get('gateway_version') or info['litellm_version']}"
