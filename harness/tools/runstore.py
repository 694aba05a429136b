"""Stored runs: a gate of one candidate pays for one suite run (the baseline's is reused when
valid), and a sweep or a bisect repeated pays for none.

A run is valid for a later gate only when everything that decides its results is the same: the
LiteLLM version, the Claude Code versions and the other pytest arguments (a file argument by its
content), the suite's source (the commit, and any uncommitted change to it) and the catalogue.
The key is a hash of those; a stored run is read back only under the key it was written with.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.verdict.catalogue import catalogue_revision
from harness.verdict.runs import load_run

ROOT = Path(__file__).resolve().parents[2]
STORE = ROOT / ".cache" / "gate-runs"
# Hypothesis's example database under suites/ is rewritten by every fuzz run: it is data the run
# keeps, not the suite's source, and a run beside the gate must not change the gate's keys.
SOURCE = ["harness", "suites", "cassettes", "pyproject.toml", ":(exclude)suites/fuzz-examples"]


def suite_source() -> str:
    """The commit plus a hash of any uncommitted change to the suite's source ("unknown" outside
    git)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=30
        )
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", *SOURCE], cwd=ROOT, capture_output=True, timeout=60
        )
        new = subprocess.run(
            ["git", "ls-files", "--others", "--exclude-standard", "--", *SOURCE],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode:
        return "unknown"
    dirty = (
        hashlib.sha256(diff.stdout + new.stdout).hexdigest()[:12]
        if diff.stdout or new.stdout
        else "clean"
    )
    return f"{head.stdout.strip()}+{dirty}"


def _arg_identity(arg: str) -> str:
    path = Path(arg)
    if path.is_file():
        return f"{arg}#{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"
    return arg


def selection(pytest_args: list[str]) -> dict[str, Any]:
    """Everything but the LiteLLM version that decides a run's results: runs judged together must
    share it."""
    # PYTEST_ADDOPTS narrows a run as surely as its arguments do (the README recipe's test narrows
    # it so).
    return {
        "suite": suite_source(),
        "catalogue": catalogue_revision(),
        "arguments": [_arg_identity(a) for a in pytest_args],
        "PYTEST_ADDOPTS": os.environ.get("PYTEST_ADDOPTS", ""),
    }


def key(litellm: str, pytest_args: list[str]) -> str:
    """The run's key; empty when the suite's source cannot be told (then nothing is stored or
    reused)."""
    chosen = selection(pytest_args)
    if chosen["suite"] == "unknown":
        return ""
    parts = [
        litellm,
        chosen["suite"],
        chosen["catalogue"],
        *chosen["arguments"],
        f"PYTEST_ADDOPTS={chosen['PYTEST_ADDOPTS']}",
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def store(folder: Path, run_key: str, run: dict[str, Any]) -> None:
    if not run_key:
        return
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{run_key}.json.tmp"
    tmp.write_text(json.dumps({**run, "info": {**run["info"], "run_key": run_key}}))
    tmp.replace(folder / f"{run_key}.json")  # never a half-written run under a valid key


def find(folder: Path, run_key: str) -> dict[str, Any] | None:
    path = folder / f"{run_key}.json"
    if not run_key or not path.exists():
        return None
    run = load_run(path)
    if run["info"].get("run_key") != run_key:
        return None
    run["info"]["reused_from"] = str(path)
    return run


def given(path: Path, litellm: str) -> dict[str, Any]:
    """``--baseline-run``: a run from an earlier job; refused when it is not of the baseline's
    version."""
    run = load_run(path)
    if run["info"].get("litellm_version") != litellm:
        raise HarnessError(
            f"{path} is a run of LiteLLM {run['info'].get('litellm_version')}, not of the "
            f"baseline's {litellm}: pass the baseline's own run, or none"
        )
    run["info"]["reused_from"] = str(path)
    return run
