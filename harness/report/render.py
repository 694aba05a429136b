"""Renders one or more JSON runs into a single self-contained HTML file (no external assets)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

import jinja2

from harness.report.runs import ORDER, aligned_requirements, cell, compare

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness", "report"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)


def _verdict(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The five-second answer: is the last column safe compared with the first?"""
    last = runs[-1]
    if len(runs) == 1:
        bad = [r for r in last["results"] if r["outcome"] in ("fail", "error") and r["level"] == "must"]
        return {"safe": not bad, "text": f"{last['info']['label']}: "
                + (f"{len(bad)} must-level check(s) fail beyond the known deviations" if bad
                   else "every must-level check passes or matches a known deviation")}
    result = compare(runs[0], last)
    must = [c for c in result.regressions if c.requirement["level"] == "must"]
    base, cand = runs[0]["info"]["label"], last["info"]["label"]
    text = (f"{cand} vs {base}: NOT SAFE, {len(must)} must-level regression(s): "
            + ", ".join(c.requirement["id"] for c in must) if must
            else f"{cand} vs {base}: no must-level regression ({len(result.regressions)} other, "
                 f"{len(result.fixes)} fixed)")
    return {"safe": not must, "text": text}


def render_html(runs: list[dict[str, Any]]) -> str:
    requirements = aligned_requirements(runs)
    rows: list[dict[str, Any]] = []
    for req in requirements:
        cells = [{"outcome": cell(run, req["id"]),
                  "checks": [r for r in run["results"] if r["requirement"] == req["id"]]} for run in runs]
        rows.append({"req": req, "cells": cells, "differs": len({c["outcome"] for c in cells}) > 1})
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
        runs=runs, areas=areas, summaries=summaries, order=ORDER, verdict=_verdict(runs), uncovered=uncovered)
