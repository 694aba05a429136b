"""A harness failure is the harness's: a proxy that dies during its start is retried once, then its
checks are classed ``harness error`` (never ``new failure`` or ``regressed``), the verdict reads NOT
JUDGED and the run exits 3 (issue 38)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from suite_run import run_suite

from harness.verdict.classes import HARNESS_EXIT, CheckVerdict, Verdict
from harness.verdict.runs import check_verdicts, own_class

ROOT = Path(__file__).resolve().parents[1]
CHECKS = [
    "suites/test_pipe.py::test_messages_json_reaches_anthropic_provider",
    "suites/test_pipe.py::test_messages_stream_reaches_anthropic_provider",
]
# A stand-in for the LiteLLM interpreter: everything passes through, except that the proxy itself
# dies on its way up the way the exit-code-3 starts did (uvicorn's startup failure), and counts each
# attempt.
DYING_PYTHON = """#!/bin/sh
for arg in "$@"; do
  if [ "$arg" = "litellm.proxy.proxy_cli" ]; then
    echo attempt >> "{count}"
    echo "ERROR:    Application startup failed. Exiting."
    echo "INFO:     Application shutdown complete."
    exit 3
  fi
done
exec "{python}" "$@"
"""


def _dying_python(tmp_path: Path) -> tuple[Path, Path]:
    count = tmp_path / "attempts"
    script = tmp_path / "python"
    script.write_text(DYING_PYTHON.format(count=count, python=sys.executable))
    script.chmod(0o755)
    return script, count


def _run(python: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The checks against ``python`` as the LiteLLM interpreter, with exec'd proxies."""
    return run_suite(
        *args, "--litellm-python", str(python), "--proxy-launch", "exec", "--report-dir", str(out)
    )


def test_a_proxy_that_dies_starting_is_retried_once_then_its_checks_are_harness_errors(tmp_path):
    python, count = _dying_python(tmp_path)
    out = tmp_path / "report"
    done = _run(python, out, *CHECKS, "--no-rerun")
    assert done.returncode == HARNESS_EXIT, done.stdout[-3000:]
    assert count.read_text().count("attempt") == 2, "the start was not retried exactly once"
    run = json.loads((out / "compat.json").read_text())
    results = {r["nodeid"]: r for r in run["results"]}
    assert set(results) == set(CHECKS)
    for r in results.values():
        assert "exited during startup with code 3" in r["harness_error"]
    assert run["verdict"]["state"] == "NOT JUDGED: 2 harness errors"
    assert run["verdict"]["counts"] == {"harness error": 2}
    assert "NOT JUDGED: 2 harness errors" in done.stdout


DYING_ONCE_PYTHON = """#!/bin/sh
for arg in "$@"; do
  if [ "$arg" = "litellm.proxy.proxy_cli" ] && [ ! -e "{count}" ]; then
    echo attempt >> "{count}"
    echo "ERROR:    Application startup failed. Exiting."
    exit 3
  fi
done
exec "{python}" "$@"
"""


def test_a_start_retried_once_is_judged_and_counted_in_the_report(tmp_path):
    count = tmp_path / "attempts"
    python = tmp_path / "python"
    python.write_text(DYING_ONCE_PYTHON.format(count=count, python=sys.executable))
    python.chmod(0o755)
    out = tmp_path / "report"
    done = _run(python, out, CHECKS[0])
    assert done.returncode == 0, done.stdout[-3000:]
    run = json.loads((out / "compat.json").read_text())
    assert len(run["info"]["proxy_starts_retried"]) == 1
    assert "1 proxy start(s) failed once and were retried" in done.stdout
    assert "proxy starts retried once: 1" in (out / "compat.html").read_text()


def _result(outcome: str, **extra: object) -> dict:
    return {
        "nodeid": "suites/t.py::x",
        "requirement": "PIPE-001",
        "level": "must",
        "outcome": outcome,
        "fingerprint": {"outcome": "setup failed: ProxyStartError"},
        **extra,
    }


def test_a_harness_error_is_never_a_gateway_class_in_a_run_or_against_a_baseline():
    errored = _result("error", harness_error="LiteLLM exited during startup with code 3")
    assert own_class(errored, security=True) == "harness error"
    run = {"requirements": [{"id": "PIPE-001", "security": False}], "results": [_result("pass")]}
    (verdict,) = check_verdicts(run, {**run, "results": [errored]})
    assert verdict.klass == "harness error"
    assert own_class(_result("error"), security=False) == "new failure", (
        "a teardown error stays the gateway's"
    )


def test_harness_errors_alone_are_not_judged_and_exit_3_while_a_regression_still_blocks():
    def check(klass: str) -> CheckVerdict:
        return CheckVerdict("suites/t.py::x", "PIPE-001", "must", klass, "pass", "fail")  # type: ignore[arg-type]

    alone = Verdict([check("harness error"), check("same")])
    assert (alone.state(), alone.exit_code()) == ("NOT JUDGED: 1 harness error", HARNESS_EXIT)
    both = Verdict([check("harness error"), check("regressed")])
    assert (both.state(), both.exit_code()) == ("NOT SAFE", 1)


def _clone(tmp_path: Path) -> Path:
    clone = tmp_path / "second"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{ROOT}", str(clone)],
        check=True,
        timeout=120,
    )
    return clone


def _outcomes(cwd: Path, out: Path) -> tuple[int, dict[str, str], str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites/test_passthrough.py",
            "-p",
            "no:cacheprovider",
            "-q",
            "--no-rerun",
            "--report-dir",
            str(out),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    run = json.loads((out / "compat.json").read_text())
    return (
        done.returncode,
        {r["nodeid"]: r["outcome"] for r in run["results"]},
        run["verdict"]["state"],
    )


def test_a_second_checkout_run_with_the_first_ones_environment_is_judged_by_its_own_files(tmp_path):
    """One judgement from any checkout: `python -m pytest` in a second clone, with the first clone's
    environment (its editable install maps the suites' package to the first), judges the second's
    checks by the second's catalogue and deviations, as the first judges its own."""
    here = _outcomes(ROOT, tmp_path / "first")
    there = _outcomes(_clone(tmp_path), tmp_path / "there")
    assert there == here
    assert here[0] == 0
    assert "deviation" in here[1].values()


def test_the_installed_plugin_refuses_to_judge_another_checkout_naming_both(tmp_path):
    """`pytest` (the console script) imports the harness the environment installed: in another
    checkout it refuses, naming both places and the fix, rather than judge one checkout's checks by
    the other's files."""
    clone = _clone(tmp_path)
    pytest_script = Path(sys.executable).with_name("pytest")
    done = subprocess.run(
        [
            str(pytest_script),
            "suites/test_stream.py",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 4, done.stdout[-2000:] + done.stderr[-2000:]
    said = " ".join((done.stdout + done.stderr).split())
    assert f"loads the harness from {ROOT}" in said
    assert f"runs in the checkout {clone.resolve()}" in said
    assert f"pip install -e {clone.resolve()}" in said
