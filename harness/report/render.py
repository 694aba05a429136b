"""Renders one or more JSON runs into a single self-contained HTML file (no external assets)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

import jinja2

from harness.claude_code import version_key
from harness.verdict import gateways
from harness.verdict.deviations import DIRECTORY
from harness.verdict.problems import from_run
from harness.verdict.runs import (
    ORDER,
    aligned_requirements,
    cell,
    fingerprint_changes,
    overhead_changes,
)
from harness.verdict.sources import by_route, upstream
from harness.verdict.summary import verdict

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness", "report"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)
# A cell is marked "recorded" when one of its checks was answered from a cassette.
STATE_CSS = {"NOT SAFE": "unsafe", "SAFE": "safe"}
_ENV.tests["recorded_answer"] = lambda answers: any(
    str(a).startswith("recorded") for a in answers or []
)
# A live or derived answer links to the upstream file it came from (issue 40).
_ENV.filters["upstream"] = lambda source: upstream(str(source).partition(": ")[2])


def _cells(runs: list[dict[str, Any]], req_id: str) -> list[dict[str, Any]]:
    cells = []
    for i, run in enumerate(runs):
        moved = fingerprint_changes(runs[i - 1], run, req_id) if i else []
        cells.append(
            {
                "outcome": cell(run, req_id),
                "moved": moved,
                "checks": [r for r in run["results"] if r["requirement"] == req_id],
            }
        )
    return cells


def answer_of(run: dict[str, Any]) -> dict[str, Any] | None:
    """The problems the run shows (harness.verdict.problems), for the banner; None where no file
    names causes."""
    name = run["info"].get("deviations_file") or ""
    if not name or not (DIRECTORY / name).exists():
        return None
    profiles = run["info"].get("claude_code_profiles") or ["?"]
    newest = max(profiles, key=version_key)
    data: dict[str, Any] = from_run(run, None, newest).to_json()
    by_check: dict[str, str] = {}
    for p in data["problems"] + data["not_met_by_users"]:
        by_check.update(dict.fromkeys(p["checks"], p["cause"]))
    data["cause_of"] = by_check
    return data


def render_html(runs: list[dict[str, Any]]) -> str:
    requirements = aligned_requirements(runs)
    rows: list[dict[str, Any]] = []
    for req in requirements:
        cells = _cells(runs, req["id"])
        differs = len({c["outcome"] for c in cells}) > 1 or any(c["moved"] for c in cells)
        rows.append({"req": req, "cells": cells, "differs": differs})
    order = list(dict.fromkeys(r["area"] for r in requirements))  # areas in catalogue order
    rows.sort(key=lambda row: order.index(row["req"]["area"]))
    areas = [
        (area, list(items)) for area, items in groupby(rows, key=lambda row: row["req"]["area"])
    ]
    summaries = []
    for i in range(len(runs)):
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["cells"][i]["outcome"]] = counts.get(row["cells"][i]["outcome"], 0) + 1
        summaries.append(counts)
    uncovered = [
        row["req"] for row in rows if all(c["outcome"] == "not-covered" for c in row["cells"])
    ]
    return _ENV.get_template("compat.html.j2").render(
        runs=runs,
        areas=areas,
        summaries=summaries,
        order=ORDER,
        verdict=verdict(runs),
        uncovered=uncovered,
        answer=runs[-1].get("answer") or answer_of(runs[-1]),
        overhead=overhead_changes(runs[0], runs[-1]) if len(runs) > 1 else [],
        sources=by_route(runs[-1]["results"]),
    )


def render_controls(data: dict[str, Any]) -> str:
    """The kill matrix's page (harness.tools.maintainer.controls): requirements as rows, faults as
    columns."""
    return _ENV.get_template("controls.html.j2").render(data=data)


def render_gate(grid: dict[str, Any]) -> str:
    """The gate's grid page: the candidate's verdict beside Claude Code's changes, then every
    pair."""
    cells = {c["pair"]: c for row in grid["rows"] for c in row["cells"]}
    return _ENV.get_template("gate.html.j2").render(grid=grid, cells=cells)


def render_sweep(data: dict[str, Any]) -> str:
    """A patch line's sweep: requirements x releases, each cell the class against the release
    before."""
    return _ENV.get_template("sweep.html.j2").render(d=data)


def render_gateways(runs: list[dict[str, Any]]) -> str:
    """Requirements x gateway runs, grouped by profile (harness.verdict.gateways)."""
    rows = gateways.table(runs)
    return _ENV.get_template("gateways.html.j2").render(
        runs=runs, rows=rows, verdicts=gateways.verdicts(runs, rows)
    )
