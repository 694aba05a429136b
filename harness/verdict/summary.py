"""The verdict of one or more runs, the five-second answer the report, ``compare`` and the gate all
show.

The report renders it (:mod:`harness.report.render`); nothing here knows HTML.
"""

from __future__ import annotations

from typing import Any

from harness.verdict.fingerprint import leaked
from harness.verdict.runs import compare, run_verdict


def carried(run: dict[str, Any]) -> dict[str, list[str]]:
    """The must-level deviations a run carries, and which of them touch security (auth, keys,
    leaks)."""
    security = {req["id"] for req in run["requirements"] if req.get("security")}
    must = sorted(
        {
            r["requirement"]
            for r in run["results"]
            if r["outcome"] == "deviation" and r["level"] == "must"
        }
    )
    leaks = sorted({r["requirement"] for r in run["results"] if leaked(r.get("fingerprint"))})
    return {
        "must": must,
        "security": sorted((set(must) & security) | set(leaks)),
        "leaks": leaks,
        "fixed": sorted({r["requirement"] for r in run["results"] if r["outcome"] == "fixed"}),
    }


def _carry_lines(label: str, carry: dict[str, list[str]]) -> list[str]:
    lines = []
    if carry["must"]:
        lines.append(
            f"{label} carries {len(carry['must'])} must-level deviating requirement(s): "
            + ", ".join(carry["must"])
        )
    if carry["security"]:
        lines.append(f"security-relevant (auth, keys, leaks): {', '.join(carry['security'])}")
    if carry["leaks"]:
        lines.append(f"the gateway key reached a provider in: {', '.join(carry['leaks'])}")
    if carry["fixed"]:
        lines.append(
            f"good news: listed as deviations but now passing (the file is stale: "
            f"python -m harness deviations accept): {', '.join(carry['fixed'])}"
        )
    return lines


def verdict(
    runs: list[dict[str, Any]], changes: str = "fail", fail_on_should: bool = False
) -> dict[str, Any]:
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
    css = {"NOT SAFE": "unsafe", "SAFE": "safe"}.get(state, "caution")
    if state == "SAFE" and (carry["must"] or carry["leaks"]):
        css = "caution"
        text += (
            f"; not an all-clear: {len(carry['must'])} must-level deviating requirement(s), "
            f"{len(carry['security'])} security-relevant"
        )
    return {
        "state": css,
        "verdict": state,
        "text": text,
        "details": details,
        "exit_code": judged.exit_code(),
        "classes": dict(judged.counts()),
    }
