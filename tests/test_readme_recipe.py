"""The README's GitHub Actions recipe works as written: its `run:` steps run here, verbatim, job by
job.

The recipe is a job matrix: one `suite` job per LiteLLM version keeps its run (`--runs-only`), and
the `gate` job judges from those runs (`--judge`). Here the matrix's values run one after the other
in this checkout, which leaves the runs where the artifacts would put them, and the verdict is then
compared with one local gate over the same pairs: judging separately produced runs must not change
the answer.

Only the suite's selection is narrowed, through pytest's own ``PYTEST_ADDOPTS`` (which the gate's
inner pytest honours), and the benchmark runs one repeat instead of three
(``CC_GATEWAY_BENCH_REPEATS``), so the recipe's versions, environments, grid and benchmark are all
real but the run stays short.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NARROW = "-k 'test_claude_code_default_model_is_routable or test_streamed_text_arrives_whole'"
ENV = {**os.environ, "PYTEST_ADDOPTS": NARROW, "CC_GATEWAY_BENCH_REPEATS": "1"}


def recipe() -> dict[str, Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    workflows = [yaml.safe_load(b) for b in blocks if "dev.py gate" in b]
    assert len(workflows) == 1, (
        "the README has exactly one GitHub Actions recipe that runs the gate"
    )
    return dict(workflows[0])


def steps(job: str) -> list[dict[str, Any]]:
    return list(recipe()["jobs"][job]["steps"])


def matrix_values() -> list[str]:
    return [str(v) for v in recipe()["jobs"]["suite"]["strategy"]["matrix"]["litellm"]]


def run_step(command: str, codes: tuple[int, ...] = (0, 1)) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=1800,
    )
    # The gate's own verdict is 0 or 1; anything else means the recipe itself broke. A matrix job
    # judges nothing, so it exits 0: a 1 there is a crash (Python's exit code for an uncaught
    # exception), not a verdict.
    assert done.returncode in codes, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_the_recipe_caches_where_the_gate_keeps_its_environments():
    cache = next(s for s in steps("suite") if str(s.get("uses", "")).startswith("actions/cache"))
    paths = set(cache["with"]["path"].split())
    from harness.claude_code.cli import CACHE as CLAUDE_CODE_CACHE
    from harness.tools.envs import CACHE as LITELLM_CACHE

    assert {str(p.relative_to(ROOT)) for p in (LITELLM_CACHE, CLAUDE_CODE_CACHE)} | {
        ".venv"
    } <= paths


def test_the_judging_job_downloads_where_the_matrix_jobs_upload():
    uploaded = next(
        s for s in steps("suite") if str(s.get("uses", "")).startswith("actions/upload-artifact")
    )
    downloaded = next(
        s for s in steps("gate") if str(s.get("uses", "")).startswith("actions/download-artifact")
    )
    assert uploaded["with"]["path"] == downloaded["with"]["path"]
    assert downloaded["with"]["merge-multiple"] is True
    assert recipe()["jobs"]["gate"]["needs"] == "suite"


@pytest.fixture(scope="module")
def judged() -> tuple[dict[str, Any], int]:
    """Every matrix job's run steps (each value in turn), then the judging job's; its grid and exit
    code."""
    shutil.rmtree(ROOT / "reports/gate", ignore_errors=True)
    for value in matrix_values():
        for step in steps("suite"):
            if "run" in step:
                done = run_step(step["run"].replace("${{ matrix.litellm }}", value), codes=(0,))
                assert "run kept at" in done.stdout, (
                    f"the {value} job kept no run:\n{done.stdout[-3000:]}"
                )
    done = None
    for step in steps("gate"):
        if "run" in step:
            done = run_step(step["run"])
    assert done is not None, "the judging job runs something"
    return json.loads((ROOT / "reports/gate/gate.json").read_text()), done.returncode


def test_the_recipes_run_steps_work_as_written(judged):
    data, code = judged
    assert data["exit_code"] == code, "the recipe's exit code is the gate's verdict"
    assert len(data["rows"]) == 2, "two LiteLLM rows: the pinned one and the newest installable"
    assert all(c["counts"] for row in data["rows"] for c in row["cells"]), "every cell ran checks"
    assert sorted(data["bench"]) == sorted(row["litellm"] for row in data["rows"]), (
        f"each version benchmarked; {_bench_errors()}"
    )
    assert {b["repeats"] for b in data["bench"].values()} == {1}, (
        "CC_GATEWAY_BENCH_REPEATS set the default"
    )
    assert (ROOT / "reports/gate/gate.html").exists()


def test_judging_the_matrix_jobs_runs_gives_the_local_gates_verdict(judged, tmp_path):
    """One `dev.py gate` over the same pairs, in one process, reaches the same verdict as the
    matrix."""
    data, code = judged
    versions = [row["litellm"] for row in data["rows"]]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "gate",
            "--litellm",
            *versions,
            "--claude-code",
            "2.1.332",
            "--baseline",
            data["baseline"],
            "--no-rerun",
            "--bench-repeats",
            "0",
            "--output-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=1800,
    )
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    local = json.loads((tmp_path / "gate.json").read_text())
    assert (local["baseline"], local["candidate"]) == (data["baseline"], data["candidate"])
    assert done.returncode == code == local["exit_code"]
    assert _cells(local) == _cells(data)


def _cells(grid: dict[str, Any]) -> dict[str, Any]:
    return {
        (row["litellm"], c["claude_code"]): (c["verdict"], c["counts"], c.get("classes"))
        for row in grid["rows"]
        for c in row["cells"]
    }


def _bench_errors() -> dict[str, str]:
    """What broke a matrix job's benchmark, from the runs the jobs kept."""
    runs = [json.loads(p.read_text()) for p in (ROOT / "reports/gate/runs").rglob("gate-run.json")]
    return {r["info"]["litellm_version"]: r["bench_error"] for r in runs if "bench_error" in r}
