"""Repro folders: written from a real failing run, they replay the failure on their own, and tell a
change.

The failure is the reference gateway's ``drop-beta`` fault, not a bug of the installed LiteLLM: the
test holds whatever LiteLLM fixes next.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.tools.user.repro import replay

ROOT = Path(__file__).resolve().parent.parent
CHECK = "suites/test_count_tokens.py::test_count_tokens_forwards_betas"
FAULTY = "reference:drop-beta"
# The interpreter the venv was made from: it has no harness and no litellm, so the folder must stand
# alone.
BARE_PYTHON = getattr(sys, "_base_executable", sys.executable)


@pytest.fixture(scope="module")
def repro_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder written by `harness repro` from a run where COUNT-003 failed (the gateway dropped
    the betas)."""
    run_dir = tmp_path_factory.mktemp("run")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            CHECK,
            "-q",
            "-p",
            "no:cacheprovider",
            "--no-deviations",
            "-n",
            "0",
            "--gateway-impl",
            FAULTY,
            "--report-dir",
            str(run_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )
    run = json.loads((run_dir / "compat.json").read_text())
    assert run["results"][0]["outcome"] == "fail", (
        f"{CHECK} should fail on {FAULTY}: {run['results'][0]}"
    )
    out = tmp_path_factory.mktemp("repro")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "repro",
            "COUNT-003",
            "--run",
            str(run_dir / "compat.json"),
            "-o",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (written,) = out.iterdir()
    alone = tmp_path_factory.mktemp("elsewhere") / written.name
    shutil.copytree(written, alone)  # away from the repository: nothing may point back into it
    return alone


def _replay(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BARE_PYTHON, "-I", "repro.py", "--python", sys.executable],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_folder_holds_what_a_maintainer_needs(repro_folder):
    names = {p.name for p in repro_folder.iterdir()}
    assert {
        "README.md",
        "config.yaml",
        "repro.py",
        "repro.json",
        "request.sh",
        "request-0.json",
    } <= names
    readme = (repro_folder / "README.md").read_text()
    assert "COUNT-003" in readme
    assert "assert set() == {" in readme, (
        "expected vs observed is in the README (no beta reached the provider)"
    )
    assert "reference gateway (reference+drop-beta" in readme, "it says which gateway it starts"
    assert "litellm: reference+drop-beta" in readme, "the gateway it ran against, fault included"
    assert "sk-repro-master-key" in (repro_folder / "request.sh").read_text()
    assert "{PROVIDER_PORT}" in (repro_folder / "config.yaml").read_text()


def test_the_folder_reproduces_the_failure_on_its_own(repro_folder):
    done = _replay(repro_folder)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "REPRODUCED" in done.stdout


def test_the_folder_says_when_the_gateway_behaves_differently(repro_folder, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(repro_folder, changed)
    data = json.loads((changed / "repro.json").read_text())
    data["facts"]["provider"][0]["headers"]["anthropic-beta"] = "every-beta-forwarded"
    (changed / "repro.json").write_text(json.dumps(data))
    done = _replay(changed)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BEHAVIOUR CHANGED" in done.stdout
    assert "anthropic-beta" in done.stdout


def test_differences_name_each_fact_that_moved():
    then = replay.facts(
        [replay.answer_facts(200, {"content-type": "application/json"}, b'{"input_tokens": 9}')],
        [replay.provider_facts("POST", "/v1/messages", {"anthropic-beta": "a"}, b'{"model": "m"}')],
    )
    now = replay.facts(
        [
            replay.answer_facts(
                500,
                {"content-type": "application/json"},
                b'{"type": "error", "error": {"type": "api_error"}}',
            )
        ],
        [],
    )
    moved = replay.differences(then, now)
    assert "provider: 1 exchange(s) when the check failed, 0 now" in moved
    assert any(m.startswith("client #0 status: then 200, now 500") for m in moved)
    assert replay.differences(then, then) == []


def test_start_up_and_token_calls_are_not_part_of_a_checks_facts():
    got = replay.facts(
        [],
        [
            replay.provider_facts("POST", "/token", {}, b""),
            replay.provider_facts("POST", "/v1/messages", {}, b"{}"),
        ],
    )
    assert [r["request"] for r in got["provider"]] == ["POST /v1/messages"]
