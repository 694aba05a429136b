"""What the gate writes and tells: the candidate's answer, the Claude Code profile diffs, a repro
folder per failing check, each cell's run and page, the grid's JSON and page, and the verdict in
the terminal."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from harness.claude_code import load_profiles
from harness.report.render import render_gate, render_html
from harness.tools.user import repro
from harness.tools.user.gate import grid
from harness.tools.user.gate.grid import Pair
from harness.tools.user.gate.kept import say
from harness.tools.user.profile_diff import profile_diff, render
from harness.verdict import deviations, problems
from harness.verdict.runs import BAD


def profile_diffs(versions: list[str], baseline: str, candidate: str) -> list[dict[str, Any]]:
    """What changed between consecutive Claude Code versions, and from the baseline's to the
    candidate's."""
    profiles = {p["version"]: p for p in load_profiles()}
    pairs = list(itertools.pairwise(versions))
    if baseline != candidate and (baseline, candidate) not in pairs:
        pairs.insert(0, (baseline, candidate))
    return [
        {
            "old": a,
            "new": b,
            "changes": [c.line() for c in profile_diff(profiles[a], profiles[b])],
            "text": render(profiles[a], profiles[b]),
        }
        for a, b in pairs
        if a in profiles and b in profiles
    ]


def candidate_answer(
    runs: dict[str, dict[str, Any]], baseline: Pair, candidate: Pair
) -> dict[str, Any] | None:
    """What the candidate's Claude Code users will meet, told through the baseline's causes
    (docs/impact.md)."""
    run, causes = runs.get(candidate.litellm), deviations.file_for("litellm", baseline.litellm)
    if run is None or not causes.exists():
        return None
    return problems.from_run(run, causes, candidate.claude_code).to_json()


def print_verdict(data: dict[str, Any]) -> None:
    """The answer in the terminal: the candidate's class counts and its top moved checks, then the
    page."""
    cell = grid.candidate_cell(data)
    print(f"\n{data['candidate']} against {data['baseline']}: {cell['text']}", flush=True)
    for line in cell["details"]:
        print(f"  {line}", flush=True)
    why = (
        "a regression, new failure or security change"
        if cell["verdict"] == "NOT SAFE"
        else "changes to review (--changes warn lets them through)"
        if data["exit_code"]
        else "nothing blocks"
    )
    print(f"exit {data['exit_code']}: {why}", flush=True)


def attach_repros(out: Path, runs: dict[str, dict[str, Any]], data: dict[str, Any]) -> None:
    """A repro folder for every failing or deviating check, once per LiteLLM run; each cell links
    its own."""
    folders: dict[tuple[str, str], str] = {}
    for version, run in runs.items():
        for result in run["results"]:
            if result["outcome"] not in BAD or not result.get("repro"):
                continue
            dest = out / "repro" / version / repro.folder_name(result)
            repro.write_folder(run, result, dest)
            folders[version, result["nodeid"]] = str(dest.relative_to(out))
    for row in data["rows"]:
        for cell in row["cells"]:
            own = {n: folders.get((row["litellm"], n)) for n in cell["bad_checks"]}
            cell["repros"] = {n: path for n, path in own.items() if path}
    say(f"{len(folders)} repro folder(s) under {out / 'repro'}")


def write(
    out: Path, data: dict[str, Any], cells: dict[str, dict[str, Any]], baseline: Pair
) -> None:
    """Each cell's run and its own matrix (against the baseline), the whole matrix, the grid JSON
    and page."""
    (out / "cells").mkdir(exist_ok=True)
    base = cells[baseline.key]
    for key, cell in cells.items():
        pair = Pair(*key.split("/", 1))
        (out / "cells" / f"{pair.slug}.json").write_text(json.dumps(cell, indent=1))
        (out / "cells" / f"{pair.slug}.html").write_text(
            render_html([cell] if pair == baseline else [base, cell])
        )
    (out / "matrix.html").write_text(render_html(list(cells.values())))
    (out / "gate.json").write_text(json.dumps(data, indent=1))
    (out / "gate.html").write_text(render_gate(data))
    say(
        f"wrote {out / 'gate.html'} (grid), {out / 'matrix.html'} (every pair, per requirement), "
        f"{out / 'gate.json'}; exit {data['exit_code']} "
        f"({'the candidate regresses' if data['exit_code'] else 'no regression'} "
        f"vs {data['baseline']})"
    )
