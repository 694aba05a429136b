"""The grid's data: one run per LiteLLM version split into one cell per Claude Code version, each judged.

A run made with ``--claude-code X Y Z`` holds the checks every Claude Code version shares once, and
the version-specific ones (tagged ``claude_code`` in the results) for each column. A cell is the
shared checks plus its column's own, so the shared work runs once per LiteLLM version.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from harness.errors import HarnessError
from harness.report.render import verdict
from harness.report.runs import BAD, compare, gate_exit


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
        """``A/X``, each side one of the grid's versions (``newest`` names the resolved newest LiteLLM)."""
        left, sep, right = text.partition("/")
        if not sep or left not in litellm or right not in claude_code:
            raise HarnessError(f"{text!r} is not a pair of the grid: write LITELLM/CLAUDE_CODE with LiteLLM one of "
                               f"{', '.join(litellm)} and Claude Code one of {', '.join(claude_code)}")
        return cls(left, right)


def cell_run(run: dict[str, Any], claude_code: str) -> dict[str, Any]:
    """The part of a LiteLLM version's run that concerns one Claude Code version, as a run of its own."""
    results = [r for r in run["results"] if r.get("claude_code", "") in ("", claude_code)]
    info = {**run["info"], "label": f"LiteLLM {run['info']['litellm_version']} x Claude Code {claude_code}",
            "claude_code": claude_code, "claude_code_profiles": [claude_code]}
    return {**run, "info": info, "results": results}


def judge(cell: dict[str, Any], base: dict[str, Any], is_base: bool) -> dict[str, Any]:
    """One cell's verdict, its outcome counts, and what changed against the baseline."""
    result = compare(base, cell)
    judged = verdict([cell] if is_base else [base, cell])
    return {
        "state": judged["state"], "text": judged["text"], "details": judged["details"],
        "counts": dict(Counter(r["outcome"] for r in cell["results"])),
        "regressions": [{"id": c.requirement["id"], "level": c.requirement["level"], "base": c.base,
                         "candidate": c.candidate, "detail": c.detail} for c in result.regressions],
        "fixes": [c.requirement["id"] for c in result.fixes],
        "bad_checks": sorted(r["nodeid"] for r in cell["results"] if r["outcome"] in BAD),
    }


def build(runs: dict[str, dict[str, Any]], litellm: list[str], claude_code: list[str], baseline: Pair,
          candidate: Pair) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The grid (rows LiteLLM, columns Claude Code) and every cell's run, keyed by the pair's key."""
    cells = {Pair(lv, cv).key: cell_run(runs[lv], cv) for lv in litellm for cv in claude_code}
    base = cells[baseline.key]
    rows = [{"litellm": lv, "cells": [{"pair": Pair(lv, cv).key, "slug": Pair(lv, cv).slug, "litellm": lv,
                                       "claude_code": cv,
                                       **judge(cells[Pair(lv, cv).key], base, Pair(lv, cv) == baseline)}
                                      for cv in claude_code]}
            for lv in litellm]
    return {"litellm": litellm, "claude_code": claude_code, "baseline": baseline.key,
            "candidate": candidate.key, "rows": rows}, cells


def gate_code(grid: dict[str, Any], fail_on_should: bool) -> int:
    """1 when the candidate pair regresses against the baseline (must level; should too if asked)."""
    cell = next(c for row in grid["rows"] for c in row["cells"] if c["pair"] == grid["candidate"])
    return gate_exit([r["level"] for r in cell["regressions"]], fail_on_should)
