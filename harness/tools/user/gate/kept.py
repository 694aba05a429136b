"""Kept runs: a matrix job's run of one LiteLLM version (``--runs-only``), and the judging job's
gathering of them (``--judge``), refused when the jobs' selections differ (docs/gate.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.errors import HarnessError


def say(text: str) -> None:
    print(f"gate: {text}", flush=True)


# one LiteLLM version's run as a matrix job leaves it: the run, its benchmark, its facts
RUN_FILE = "gate-run.json"


def keep_runs(
    out: Path,
    runs: dict[str, dict[str, Any]],
    walls: dict[str, float],
    installs: dict[str, Any],
    selection: dict[str, Any],
) -> int:
    """``--runs-only``: each version's run where the judging job will find it (``--judge``), nothing
    judged.

    Each keeps what decided its results besides the version (``selection``): the judging job refuses
    runs whose selections differ, as a stored baseline is never reused under another key."""
    for version, run in runs.items():
        path = out / "runs" / version / RUN_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(
                {
                    **run,
                    "gate": {
                        "suite_seconds": walls[version],
                        "selection": selection,
                        "install": installs.get(version, {}),
                    },
                }
            )
        )
        say(f"LiteLLM {version}: run kept at {path} for the judging job (--judge)")
    return 0


def gathered(
    dirs: list[Path],
) -> tuple[dict[str, dict[str, Any]], list[str], dict[str, Any], dict[str, float]]:
    """``--judge``: the runs the matrix jobs kept, by LiteLLM version, in version order."""
    runs: dict[str, dict[str, Any]] = {}
    for path in sorted(p for d in dirs for p in ([d] if d.is_file() else d.rglob(RUN_FILE))):
        run = json.loads(path.read_text())
        version = str(run["info"].get("litellm_version") or path.parent.name)
        if version in runs:
            raise HarnessError(
                f"--judge: two runs of LiteLLM {version} ({path} and another); keep one per version"
            )
        runs[version] = run
    if not runs:
        raise HarnessError(
            f"--judge: no {RUN_FILE} under {' '.join(map(str, dirs))}; "
            "the matrix jobs write one each with --runs-only"
        )
    _same_selection(runs)
    # The gate's environments take only releases (1.108.7, 1.108.7.post1): their numbers order them.
    order = sorted(runs, key=lambda v: tuple(int(n) for n in re.findall(r"\d+", v)))
    installs = {v: runs[v].get("gate", {}).get("install", {}) for v in order}
    walls = {v: float(runs[v].get("gate", {}).get("suite_seconds", 0.0)) for v in order}
    return {v: runs[v] for v in order}, order, installs, walls


def _same_selection(runs: dict[str, dict[str, Any]]) -> None:
    """Runs made from other suite sources, catalogues, Claude Code columns or arguments are not
    comparable."""
    chosen = {v: r.get("gate", {}).get("selection") for v, r in runs.items()}
    known = {v: s for v, s in chosen.items() if s is not None}
    if not known:
        return  # runs kept before selections were recorded
    first, reference = next(iter(known.items()))
    for version, selected in known.items():
        differs = sorted(
            k for k in set(selected) | set(reference) if selected.get(k) != reference.get(k)
        )
        if differs:
            parts = "; ".join(f"{k}: {reference.get(k)!r} vs {selected.get(k)!r}" for k in differs)
            raise HarnessError(
                f"--judge: the runs of LiteLLM {first} and {version} were made with different "
                f"selections ({parts}); run every matrix job from the same commit and arguments"
            )
