"""Renders one or more JSON runs into a single self-contained HTML file (no external assets)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

import jinja2

from harness.verdict.runs import (
    ORDER,
    aligned_requirements,
    cell,
    compare,
    fingerprint_changes,
    overhead_changes,
    run_verdict,
)

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness", "report"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)
# A cell is marked "recorded" when one of its checks was answered from a cassette.
_ENV.tests["recorded_answer"] = lambda answers: any(str(a).startswith("recorded") for a in answers or [])


def carried(run: dict[str, Any]) -> dict[str, list[str]]:
    """The must-level deviations a run carries, and which of them touch security (auth, keys, leaks)."""
    security = {req["id"] for req in run["requirements"] if req.get("security")}
    must = sorted({r["requirement"] for r in run["results"] if r["outcome"] == "deviation" and r["level"] == "must"})
    leaks = sorted({r["requirement"] for r in run["results"]
                    if (r.get("fingerprint") or {}).get("gateway_key_at_provider")})
    return {"must": must, "security": sorted((set(must) & security) | set(leaks)), "leaks": leaks,
            "fixed": sorted({r["requirement"] for r in run["results"] if r["outcome"] == "fixed"})}


def _carry_lines(label: str, carry: dict[str, list[str]]) -> list[str]:
    lines = []
    if carry["must"]:
        lines.append(f"{label} carries {len(carry['must'])} must-level deviating requirement(s): "
                     + ", ".join(carry["must"]))
    if carry["security"]:
        lines.append(f"security-relevant (auth, keys, leaks): {', '.join(carry['security'])}")
    if carry["leaks"]:
        lines.append(f"the gateway key reached a provider in: {', '.join(carry['leaks'])}")
    if carry["fixed"]:
        lines.append(f"good news: listed as deviations but now passing (the file is stale: "
                     f"python -m harness deviations accept): {', '.join(carry['fixed'])}")
    return lines


STATE_CSS = {"NOT SAFE": "unsafe", "SAFE": "safe"}


def verdict(runs: list[dict[str, Any]], changes: str = "fail", fail_on_should: bool = False) -> dict[str, Any]:
    """The five-second answer (harness.verdict): NOT SAFE, SAFE with changes to review, or SAFE.

    One run is judged check by check against its known deviations; two or more, the last against
    the first. A SAFE run that still carries must-level deviations says so, in amber.
    """
    last = runs[-1]
    label = last["info"]["label"]
    carry = carried(last)
    details = _carry_lines(label, carry)
    if len(runs) == 1:
        judged = run_verdict(last, changes, fail_on_should)
    else:
        judged = compare(runs[0], last).verdict
        judged.changes, judged.fail_on_should = changes, fail_on_should
        details.insert(0, f"vs {runs[0]['info']['label']}: {judged.summary() or 'nothing moved'}")
    state = judged.state()
    details += judged.lines()[1:]
    text = f"{label}: {state} ({judged.summary() or 'nothing moved'})"
    css = STATE_CSS.get(state, "caution")
    if state == "SAFE" and (carry["must"] or carry["leaks"]):
        css = "caution"
        text += (f"; not an all-clear: {len(carry['must'])} must-level deviating requirement(s), "
                 f"{len(carry['security'])} security-relevant")
    return {"state": css, "verdict": state, "text": text, "details": details, "exit_code": judged.exit_code(),
            "classes": dict(judged.counts())}


def _cells(runs: list[dict[str, Any]], req_id: str) -> list[dict[str, Any]]:
    cells = []
    for i, run in enumerate(runs):
        moved = fingerprint_changes(runs[i - 1], run, req_id) if i else []
        cells.append({"outcome": cell(run, req_id), "moved": moved,
                      "checks": [r for r in run["results"] if r["requirement"] == req_id]})
    return cells


def render_html(runs: list[dict[str, Any]]) -> str:
    requirements = aligned_requirements(runs)
    rows: list[dict[str, Any]] = []
    for req in requirements:
        cells = _cells(runs, req["id"])
        differs = len({c["outcome"] for c in cells}) > 1 or any(c["moved"] for c in cells)
        rows.append({"req": req, "cells": cells, "differs": differs})
    order = list(dict.fromkeys(r["area"] for r in requirements))  # areas in catalogue order
    rows.sort(key=lambda row: order.index(row["req"]["area"]))
    areas = [(area, list(items)) for area, items in groupby(rows, key=lambda row: row["req"]["area"])]
    summaries = []
    for i in range(len(runs)):
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["cells"][i]["outcome"]] = counts.get(row["cells"][i]["outcome"], 0) + 1
        summaries.append(counts)
    uncovered = [row["req"] for row in rows if all(c["outcome"] == "not-covered" for c in row["cells"])]
    return _ENV.get_template("compat.html.j2").render(
        runs=runs, areas=areas, summaries=summaries, order=ORDER, verdict=verdict(runs), uncovered=uncovered,
        overhead=overhead_changes(runs[0], runs[-1]) if len(runs) > 1 else [])


def render_gate(grid: dict[str, Any]) -> str:
    """The gate's grid page: the candidate's verdict beside Claude Code's changes, then every pair."""
    cells = {c["pair"]: c for row in grid["rows"] for c in row["cells"]}
    return _ENV.get_template("gate.html.j2").render(grid=grid, cells=cells)
