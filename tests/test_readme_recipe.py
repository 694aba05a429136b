"""The README's GitHub Actions recipe works as written: its `run:` steps run here, verbatim.

Only the suite's selection is narrowed, through pytest's own ``PYTEST_ADDOPTS`` (which the gate's inner
pytest honours), and the benchmark runs one repeat instead of three (``CC_GATEWAY_BENCH_REPEATS``), so the
recipe's versions, environments, grid and benchmark are all real but the run stays short.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
NARROW = "-k 'test_claude_code_default_model_is_routable or test_streamed_text_arrives_whole'"


def recipe() -> dict[str, Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    workflows = [yaml.safe_load(b) for b in blocks if "dev.py gate" in b]
    assert len(workflows) == 1, "the README has exactly one GitHub Actions recipe that runs the gate"
    return dict(workflows[0])


def steps() -> list[dict[str, Any]]:
    return list(recipe()["jobs"]["gate"]["steps"])


def test_the_recipe_caches_where_the_gate_keeps_its_environments():
    cache = next(s for s in steps() if str(s.get("uses", "")).startswith("actions/cache"))
    paths = set(cache["with"]["path"].split())
    from harness.protocol.claude_cli import CACHE as CLAUDE_CODE_CACHE
    from harness.tools.envs import CACHE as LITELLM_CACHE
    assert {str(p.relative_to(ROOT)) for p in (LITELLM_CACHE, CLAUDE_CODE_CACHE)} | {".venv"} <= paths


def test_the_recipes_run_steps_work_as_written():
    runs = [s["run"] for s in steps() if "run" in s]
    assert runs, "the recipe runs something"
    for command in runs:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=ROOT, capture_output=True, text=True,
                              env={**os.environ, "PYTEST_ADDOPTS": NARROW, "CC_GATEWAY_BENCH_REPEATS": "1"},
                              timeout=1800)
        # The gate's own verdict is 0 or 1; anything else means the recipe itself broke.
        assert done.returncode in (0, 1), f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    data = json.loads((ROOT / "reports/gate/gate.json").read_text())
    assert data["exit_code"] == done.returncode, "the recipe's exit code is the gate's verdict"
    assert len(data["rows"]) == 2, "two LiteLLM rows: the pinned one and the newest installable"
    assert all(c["counts"] for row in data["rows"] for c in row["cells"]), "every cell ran checks"
    assert sorted(data["bench"]) == sorted(row["litellm"] for row in data["rows"]), "each version benchmarked"
    assert {b["repeats"] for b in data["bench"].values()} == {1}, "CC_GATEWAY_BENCH_REPEATS set the default"
    assert (ROOT / "reports/gate/gate.html").exists()
