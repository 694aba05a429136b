"""Renders one or more JSON runs into a single self-contained HTML file."""

from __future__ import annotations

from itertools import groupby
from typing import Any

import jinja2

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness", "report"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)
ORDER = ("fail", "error", "deviation", "skipped", "pass", "not-covered")


def _cell(run: dict[str, Any], req_id: str) -> dict[str, Any]:
    checks = [r for r in run["results"] if r["requirement"] == req_id]
    if not checks:
        return {"outcome": "not-covered", "checks": []}
    worst = min((c["outcome"] for c in checks), key=ORDER.index)
    return {"outcome": worst, "checks": checks}


def render_html(runs: list[dict[str, Any]]) -> str:
    requirements = runs[0]["requirements"]
    rows = [{"req": r, "cells": [_cell(run, r["id"]) for run in runs]} for r in requirements]
    order = list(dict.fromkeys(r["area"] for r in requirements))  # areas in catalogue order
    rows.sort(key=lambda row: order.index(row["req"]["area"]))
    areas = [(area, list(items)) for area, items in groupby(rows, key=lambda row: row["req"]["area"])]
    summaries = []
    for i, _ in enumerate(runs):
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["cells"][i]["outcome"]] = counts.get(row["cells"][i]["outcome"], 0) + 1
        summaries.append(counts)
    return _ENV.get_template("compat.html.j2").render(runs=runs, areas=areas, summaries=summaries, order=ORDER)
