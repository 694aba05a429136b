"""The gate's items, each with the bisect that would name the release that moved it (``--bisect``
runs it).

An item that regressed, changed or moved a security dimension carries the command, ready to copy.
Between two LiteLLM versions it bisects LiteLLM's releases (with the cell's Claude Code version);
between two Claude Code versions on one LiteLLM it bisects Claude Code's (``--claude-code-range``).
With ``--bisect`` the gate runs one bisect for the candidate's must-level and security items (they
share every step) and writes each item's first differing release, and whether the series was
monotone, beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.tools.user.bisect import Bisect
from harness.tools.user.bisect.cli import command
from harness.tools.user.bisect.releases import litellm_series
from harness.tools.user.gate.grid import Pair, candidate_cell
from harness.verdict.deviations import file_for, load

# The blocking classes and "changed"; a "new failure" has no earlier result in its cell, but V1's
# own run has one.
OFFERED = frozenset({"regressed", "security", "changed", "new failure"})


def offer(grid: dict[str, Any], baseline: Pair) -> None:
    """Each regressed, security, changed or newly failing item of every cell gets its bisect
    command, and every item the cause the baseline's deviations file gives its check, or
    ``unexplained`` (docs/impact.md)."""
    recorded = file_for("litellm", baseline.litellm)
    known = {d.check: d.cause for d in load(recorded)} if recorded.exists() else {}
    for row in grid["rows"]:
        for cell in row["cells"]:
            pair = Pair(cell["litellm"], cell["claude_code"])
            for check in cell["checks"]:
                check["cause"] = known.get(check["nodeid"].removeprefix("suites/")) or "unexplained"
                if check["class"] in OFFERED and pair != baseline:
                    check["bisect"] = bisect_command(check["nodeid"], baseline, pair)


def bisect_command(nodeid: str, baseline: Pair, pair: Pair) -> str:
    if pair.litellm == baseline.litellm:
        # The item's id names the candidate's version; the bisect runs V1 under V1's own id.
        return (
            command(nodeid, baseline.claude_code, pair.claude_code, claude_code_range=True)
            + f" --litellm {pair.litellm}"
        )
    return command(nodeid, baseline.litellm, pair.litellm, pair.claude_code)


def blocking_items(cell: dict[str, Any]) -> list[dict[str, Any]]:
    """The candidate's items ``--bisect`` runs for: must level or security, of an offered class."""
    return [
        c
        for c in cell["checks"]
        if c["class"] in OFFERED
        and (c["level"] == "must" or c["class"] == "security")
        and c["nodeid"].startswith("suites/")
    ]


def run_for_blocking(
    grid: dict[str, Any], baseline: Pair, out: Path, suite_args: list[str], store: Path
) -> None:
    cell = candidate_cell(grid)
    items = blocking_items(cell)
    if not items:
        grid["bisect"] = {
            "ran": False,
            "why": "no must-level or security item regressed or changed",
        }
        return
    if cell["litellm"] == baseline.litellm:
        grid["bisect"] = {
            "ran": False,
            "why": "the candidate differs in Claude Code only: run the commands shown "
            "(--claude-code-range)",
        }
        return
    try:
        releases = litellm_series(baseline.litellm, cell["litellm"])
        args = [
            a for a in suite_args if a != "--no-rerun"
        ]  # the bisect reruns what moves, to name flakes
        data = Bisect(releases, [c["nodeid"] for c in items], out, args, store).run()
    except HarnessError as exc:
        grid["bisect"] = {"ran": False, "why": str(exc).splitlines()[0]}
        return
    found = {f["check"]: f for f in data["checks"]}
    for item in items:
        if f := found.get(item["nodeid"]):
            item["first_bad"] = {
                "release": f["first"],
                "monotone": f["monotone"],
                "notes": f["notes"],
                "repro": f["repro"],
            }
    grid["bisect"] = {
        "ran": True,
        "steps": len(data["steps"]),
        "wall_seconds": data["wall_seconds"],
        "releases": len(data["releases"]),
        "json": str(out / "bisect.json"),
    }
