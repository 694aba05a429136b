"""A known deviation must be the same deviation: proven with the reference gateway's faults.

For each scenario a deviations file is *recorded* (``python -m harness deviations
record``) against a gateway with one fault, then the suite runs with that file
against the same gateway (the run passes), a worse one (the check is a new
failure, the run fails) and a correct one (the deviation is fixed, the run fails).
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from harness.report.runs import compare

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Scenario:
    recorded: str  # the fault the deviation is recorded against
    worse: str  # the same check failing for a worse reason
    check: str  # -k expression selecting the check(s)
    changed_field: str  # the fingerprint field the worse failure moves


SCENARIOS = {
    "refused-becomes-accepted": Scenario("bad-key-400", "no-auth", "test_bad_credentials_get_401", "client"),
    "400-becomes-500": Scenario("openai-errors", "openai-errors,server-error-on-bad-request",
                                "test_gateway_errors_use_anthropic_envelope and malformed", "client"),
    "header-dropped-becomes-key-leaked": Scenario("drop-beta", "drop-beta,leak-key",
                                                  "test_version_and_beta_headers_reach_anthropic_provider",
                                                  "gateway_key_at_provider"),
}


def _python_m(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def record(path: Path, fault: str, select: str) -> subprocess.CompletedProcess[str]:
    return _python_m("harness", "deviations", "record", "--gateway-impl", f"reference:{fault}",
                     "--output", str(path), "--", "-k", select, "-m", "not e2e")


def run(out: Path, fault: str, select: str, deviations: Path) -> dict:
    impl = f"reference:{fault}" if fault else "reference"
    done = _python_m("pytest", "suites", "-q", "-p", "no:cacheprovider", "--tb=short", "-m", "not e2e",
                     "-k", select, "--gateway-impl", impl, "--deviations", str(deviations), "--report-dir", str(out))
    report = json.loads((out / "compat.json").read_text())
    return report | {"exit": done.returncode, "stdout": done.stdout}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict]:
    """Record each scenario's file, then run it against the same, a worse and a correct gateway."""
    files = {name: tmp_path_factory.mktemp(name) / "deviations.yaml" for name in SCENARIOS}
    with ThreadPoolExecutor(max_workers=3) as pool:  # each record is two suite runs, mostly start-up
        recorded = [pool.submit(record, files[name], s.recorded, s.check) for name, s in SCENARIOS.items()]
        for done in (f.result() for f in recorded):
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    jobs = {f"{name}/{kind}": (fault, s.check, files[name]) for name, s in SCENARIOS.items()
            for kind, fault in (("same", s.recorded), ("worse", s.worse), ("fixed", ""))}
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {key: pool.submit(run, tmp_path_factory.mktemp("run"), *job) for key, job in jobs.items()}
        out = {key: future.result() for key, future in futures.items()}
    return out | {f"{name}/file": yaml.safe_load(path.read_text()) for name, path in files.items()} | {
        f"{name}/path": path for name, path in files.items()}


def _outcomes(report: dict) -> set[str]:
    return {r["outcome"] for r in report["results"]}


@pytest.mark.parametrize("name", SCENARIOS, ids=str)
def test_recorded_file_has_a_fingerprint_per_failing_check(runs, name):
    entries = runs[f"{name}/file"]["deviations"]
    assert entries, "the faulty gateway failed nothing, so nothing was recorded"
    assert all(e["fingerprint"]["outcome"].startswith("call failed") for e in entries)


@pytest.mark.parametrize("name", SCENARIOS, ids=str)
def test_the_same_deviation_passes_the_run(runs, name):
    report = runs[f"{name}/same"]
    assert report["exit"] == 0, report["stdout"][-3000:]
    assert _outcomes(report) == {"deviation"}


@pytest.mark.parametrize("name", SCENARIOS, ids=str)
def test_a_worse_failure_of_a_known_deviation_fails_the_run(runs, name):
    report = runs[f"{name}/worse"]
    assert report["exit"] == 1, report["stdout"][-3000:]
    changed = [r for r in report["results"] if r["deviation"] == "changed"]
    assert changed
    assert all(r["outcome"] == "fail" for r in changed)
    field = SCENARIOS[name].changed_field
    assert any(r["fingerprint"].get(field) != r["recorded_fingerprint"].get(field) for r in changed)
    assert "recorded fingerprint vs observed now" in report["stdout"]


@pytest.mark.parametrize("name", SCENARIOS, ids=str)
def test_a_fixed_deviation_fails_the_run_as_fixed(runs, name):
    report = runs[f"{name}/fixed"]
    assert report["exit"] == 1, report["stdout"][-3000:]
    assert _outcomes(report) == {"fixed"}
    assert "[FIXED]" in report["stdout"]


@pytest.mark.parametrize("name", SCENARIOS, ids=str)
def test_compare_calls_a_changed_deviation_a_regression(runs, name):
    same, worse = runs[f"{name}/same"], runs[f"{name}/worse"]
    result = compare(same, worse)
    assert [c.requirement["id"] for c in result.regressions], "a worse failure went unnoticed by compare"
    assert compare(same, same).regressions == []


def test_a_worse_key_failure_is_named_security_relevant(runs):
    from harness.report.render import carried

    leaked = carried(runs["header-dropped-becomes-key-leaked/worse"])
    assert leaked["leaks"], "the leaked key is not reported"


def test_re_recording_the_same_gateway_confirms_the_file_and_leaves_it_untouched(runs):
    s = SCENARIOS["400-becomes-500"]
    path = runs["400-becomes-500/path"]
    before = path.read_bytes()
    done = record(path, s.recorded, s.check)
    assert done.returncode == 0, done.stdout[-2000:]
    assert done.stdout.startswith("confirmed")
    assert path.read_bytes() == before
