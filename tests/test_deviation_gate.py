"""The verdict ranks harm, proven with the reference gateway's faults: one scenario per class.

For each scenario a deviations file is *recorded* (``python -m harness deviations record``)
against a gateway with one set of faults, then the suite runs with that file against another:

- the check improves, or is fixed: good news, the run passes and says the file is stale;
- it regresses, changes, or moves on a security dimension: the run fails, with each moved field's
  arrow;
- a gateway that answers differently on a second run: the check is flaky, never passed;
- ``deviations accept`` takes the good news and refuses a security change; a re-run is then SAFE.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from harness.tools.user.gate import grid
from harness.tools.user.gate.grid import Pair
from harness.verdict.runs import compare

ROOT = Path(__file__).resolve().parents[1]
ERRORS = "gateway_errors_use_anthropic_envelope or client_mistake_never"


@dataclass(frozen=True)
class Scenario:
    recorded: str | None  # the faults the deviations file is recorded against (None: an empty file)
    now: str  # the faults the suite then runs against
    check: str  # -k expression selecting the check(s)
    classes: frozenset[str]  # the classes the run must show (besides "same")
    exit: int  # pytest's exit code with the recorded file
    field: str = ""  # a fingerprint field whose arrow the run must show


SCENARIOS = {
    "improved-and-fixed": Scenario(
        "openai-errors,server-error-on-bad-request",
        "openai-errors",
        ERRORS,
        frozenset({"improved", "fixed"}),
        0,
        "client[0].status: 500 → 400 (↑ better)",
    ),
    "regressed": Scenario(
        "openai-errors",
        "openai-errors,server-error-on-bad-request",
        "gateway_errors_use_anthropic_envelope and malformed",
        frozenset({"regressed"}),
        1,
        "client[0].status: 400 → 500 (↓ worse)",
    ),
    "changed": Scenario(
        "unknown-model-400",
        "openai-errors",
        "test_unknown_model_gets_404",
        frozenset({"changed"}),
        1,
        "client[0].status: 400 → 404 (~ changed)",
    ),
    "security-refused-becomes-accepted": Scenario(
        "bad-key-400",
        "no-auth",
        "test_bad_credentials_get_401",
        frozenset({"security"}),
        1,
        "client[0].status: 400 → ",
    ),
    "security-key-leaked": Scenario(
        "drop-beta",
        "drop-beta,leak-key",
        "test_version_and_beta_headers_reach_anthropic_provider",
        frozenset({"security"}),
        1,
        "gateway_key_at_provider: false → true (↓ worse)",
    ),
    "flaky": Scenario(
        None,
        "alternate-errors",
        "gateway_errors_use_anthropic_envelope",
        frozenset({"flaky"}),
        1,
        "first run: new failure; second run: same",
    ),
}


# Where each selection's checks live: a run collects that file alone, not the whole suite (seconds
# each).
WHERE = {
    ERRORS: "suites/test_errors.py",
    "client_mistake_never": "suites/test_errors.py",
    "gateway_errors_use_anthropic_envelope and malformed": "suites/test_errors.py",
    "gateway_errors_use_anthropic_envelope": "suites/test_errors.py",
    "test_unknown_model_gets_404": "suites/test_route.py",
    "test_bad_credentials_get_401": "suites/test_auth.py",
    "test_version_and_beta_headers_reach_anthropic_provider": "suites/test_pipe.py",
    "quickstart_master_key_placement_never": "suites/test_auth.py",
}


def _python_m(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def record(path: Path, scenario: Scenario) -> subprocess.CompletedProcess[str] | None:
    if scenario.recorded is None:
        path.write_text("deviations: []\n")
        return None
    return _python_m(
        "harness",
        "deviations",
        "record",
        "--gateway-impl",
        f"reference:{scenario.recorded}",
        "--output",
        str(path),
        "--",
        WHERE[scenario.check],
        "-k",
        scenario.check,
        "-m",
        "not e2e",
    )


def run(out: Path, faults: str, select: str, deviations: Path, *extra: str) -> dict:
    impl = f"reference:{faults}" if faults else "reference"
    done = _python_m(
        "pytest",
        WHERE[select],
        "-q",
        "-p",
        "no:cacheprovider",
        "--tb=short",
        "-m",
        "not e2e",
        "-n",
        "0",
        "-k",
        select,
        "--gateway-impl",
        impl,
        "--deviations",
        str(deviations),
        "--report-dir",
        str(out),
        *extra,
    )
    report = json.loads((out / "compat.json").read_text())
    return report | {"exit": done.returncode, "stdout": done.stdout}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict]:
    """Record each scenario's file, then run the suite against the scenario's other gateway with
    it."""
    files = {name: tmp_path_factory.mktemp(name) / "deviations.yaml" for name in SCENARIOS}
    with ThreadPoolExecutor(max_workers=3) as pool:  # each is mostly start-up
        recorded = [pool.submit(record, files[name], s) for name, s in SCENARIOS.items()]
        for done in (f.result() for f in recorded):
            assert done is None or done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    jobs = {name: (s.now, s.check, files[name]) for name, s in SCENARIOS.items()}
    jobs["changed/warn"] = (*jobs["changed"], "--changes", "warn")
    empty = tmp_path_factory.mktemp("empty") / "none.yaml"
    empty.write_text("deviations: []\n")
    jobs["sibling/base"] = ("server-error-on-bad-json", "client_mistake_never", empty)
    jobs["sibling/candidate"] = ("server-error-on-bad-request", "client_mistake_never", empty)
    jobs["quickstart/refuses"] = ("", "quickstart_master_key_placement_never", empty)
    jobs["quickstart/open"] = ("quickstart-open", "quickstart_master_key_placement_never", empty)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            key: pool.submit(run, tmp_path_factory.mktemp("run"), *job) for key, job in jobs.items()
        }
        out = {key: future.result() for key, future in futures.items()}
    return out | {f"{name}/path": path for name, path in files.items()}


def _classes(report: dict) -> set[str]:
    return set(report["verdict"]["counts"]) - {"same"}


@pytest.mark.parametrize("name", SCENARIOS, ids=str)
def test_each_class_is_seen_with_its_exit_code_and_arrows(runs, name):
    scenario, report = SCENARIOS[name], runs[name]
    assert _classes(report) == scenario.classes, report["stdout"][-3000:]
    assert report["exit"] == scenario.exit, report["stdout"][-3000:]
    arrows = [m for c in report["verdict"]["checks"] for m in c["moves"]]
    assert any(scenario.field in a for a in arrows), arrows
    banner = (
        "NOT SAFE"
        if scenario.classes & {"regressed", "security"}
        else ("CHANGES TO REVIEW" if scenario.classes & {"changed", "flaky"} else "SAFE")
    )
    assert banner in report["stdout"], report["stdout"][-3000:]


def test_good_news_passes_the_run_and_marks_the_file_stale(runs):
    report = runs["improved-and-fixed"]
    assert {r["outcome"] for r in report["results"]} == {"deviation", "fixed", "pass"}
    assert "good news" in report["stdout"]
    assert "deviations file is stale" in report["stdout"]


def test_an_unreviewed_change_fails_unless_warned(runs):
    assert runs["changed"]["exit"] == 1
    warned = runs["changed/warn"]
    assert warned["exit"] == 0, warned["stdout"][-3000:]
    assert re.search(r"SAFE, \d+ CHANGES TO REVIEW", warned["stdout"]), warned["stdout"][-2000:]


def test_a_flaky_check_is_never_passed(runs):
    flaky = [r for r in runs["flaky"]["results"] if r["flaky"]]
    assert flaky
    assert all(r["outcome"] == "fail" for r in flaky)


def test_accept_takes_the_good_news_and_a_rerun_is_safe(runs, tmp_path):
    path = runs["improved-and-fixed/path"]
    before = yaml.safe_load(path.read_text())["deviations"]
    run_json = tmp_path / "run.json"
    run_json.write_text(json.dumps(runs["improved-and-fixed"]))
    done = _python_m("harness", "deviations", "accept", "--run", str(run_json), "--file", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| improved |" in done.stdout, "the markdown summary lists what moved"
    assert "| fixed |" in done.stdout
    after = yaml.safe_load(path.read_text())["deviations"]
    assert len(after) < len(before), "fixed entries are gone"
    again = run(tmp_path / "again", SCENARIOS["improved-and-fixed"].now, ERRORS, path)
    assert again["exit"] == 0, again["stdout"][-3000:]
    assert again["verdict"]["state"] == "SAFE"
    assert _classes(again) == set()


@pytest.mark.parametrize(
    "name", ["security-refused-becomes-accepted", "security-key-leaked"], ids=str
)
def test_accept_and_record_refuse_a_security_change(runs, name, tmp_path):
    path = runs[f"{name}/path"]
    text = path.read_text()
    run_json = tmp_path / "run.json"
    run_json.write_text(json.dumps(runs[name]))
    done = _python_m(
        "harness",
        "deviations",
        "accept",
        "--run",
        str(run_json),
        "--file",
        str(path),
        "--class",
        "improved,fixed,changed,regressed",
    )
    assert done.returncode == 1
    assert "only a waiver" in done.stdout
    assert path.read_text() == text, "a refused accept writes nothing"
    asked = _python_m(
        "harness",
        "deviations",
        "accept",
        "--run",
        str(run_json),
        "--file",
        str(path),
        "--class",
        "security",
    )
    assert asked.returncode == 2
    assert "waiver" in asked.stderr
    scenario = SCENARIOS[name]
    rerecord = _python_m(
        "harness",
        "deviations",
        "record",
        "--gateway-impl",
        f"reference:{scenario.now}",
        "--output",
        str(path),
        "--",
        WHERE[scenario.check],
        "-k",
        scenario.check,
        "-m",
        "not e2e",
    )
    assert rerecord.returncode == 1, rerecord.stdout
    assert "security changes, NOT recorded" in rerecord.stdout
    assert yaml.safe_load(path.read_text())["deviations"] == yaml.safe_load(text)["deviations"]


def test_a_waiver_with_a_reason_and_an_expiry_lets_a_security_change_through(runs, tmp_path):
    name = "security-key-leaked"
    data = yaml.safe_load(runs[f"{name}/path"].read_text())
    data["waivers"] = [
        {
            "check": "test_pipe.py::*",
            "reason": "test: accepted until the vendor fix",
            "expires": "2999-01-01",
        }
    ]
    waived = tmp_path / "waived.yaml"
    waived.write_text(yaml.safe_dump(data))
    report = run(tmp_path / "out", SCENARIOS[name].now, SCENARIOS[name].check, waived)
    assert report["exit"] == 0, report["stdout"][-3000:]
    assert "security change waived until 2999-01-01" in json.dumps(report["results"])


def test_a_check_that_breaks_beside_a_deviating_sibling_is_regressed_in_compare_and_the_gate(runs):
    """ERR-005 already deviates on the baseline (bad JSON gets a 500); the candidate also answers
    every other client mistake with a 500. By requirement the cell is "fail" both times; by check,
    those went pass -> fail. ERR-005 is info-level (a client mistake Claude Code never sends,
    docs/impact.md): regressed, named, and not blocking; ``--fail-on-should`` does not reach it
    either."""
    base, cand = runs["sibling/base"], runs["sibling/candidate"]
    assert {r["outcome"] for r in base["results"]} == {"pass", "fail"}, (
        "the sibling deviates on the baseline"
    )
    result = compare(base, cand)
    (err005,) = [c for c in result.changes if c.requirement["id"] == "ERR-005"]
    assert (err005.base, err005.candidate, err005.klass) == ("fail", "fail", "regressed")
    assert err005.requirement["level"] == "info"
    assert result.verdict.exit_code() == 0
    base["info"] |= {"litellm_version": "1.0.0", "claude_code_profiles": []}
    cand["info"] |= {"litellm_version": "1.1.0", "claude_code_profiles": []}
    data, _ = grid.build(
        {"1.0.0": base, "1.1.0": cand},
        ["1.0.0", "1.1.0"],
        ["2.1.332"],
        Pair("1.0.0", "2.1.332"),
        Pair("1.1.0", "2.1.332"),
    )
    assert grid.candidate_cell(data)["classes"]["regressed"] >= 4
    assert grid.gate_code(data) == 0


def test_re_recording_the_same_gateway_confirms_the_file_and_leaves_it_untouched(runs):
    path = runs["regressed/path"]
    before = path.read_bytes()
    done = record(path, SCENARIOS["regressed"])
    assert done is not None
    assert done.returncode == 0, done.stdout[-2000:]
    assert done.stdout.startswith("confirmed")
    assert path.read_bytes() == before


def test_a_leaked_key_is_named_security_relevant_in_the_report(runs):
    from harness.verdict.summary import carried

    assert carried(runs["security-key-leaked"])["leaks"], "the leaked key is not reported"


def test_the_quickstarts_config_on_a_gateway_that_starts_open_fails_the_run_and_the_gate(runs):
    """AUTH-008 on the quickstart's own config (master_key under litellm_settings): the reference
    gateway refuses to start; with the quickstart-open fault it starts and serves without a key, as
    an open proxy."""
    refuses, opened = runs["quickstart/refuses"], runs["quickstart/open"]
    assert refuses["exit"] == 0, refuses["stdout"][-2000:]
    assert opened["exit"] == 1
    assert "NOT SAFE  (1 security)" in opened["stdout"]
    result = compare(refuses, opened)
    assert [c.requirement["id"] for c in result.of_class("security")] == ["AUTH-008"]
    refuses["info"] |= {"litellm_version": "1.0.0", "claude_code_profiles": []}
    opened["info"] |= {"litellm_version": "1.1.0", "claude_code_profiles": []}
    data, _ = grid.build(
        {"1.0.0": refuses, "1.1.0": opened},
        ["1.0.0", "1.1.0"],
        ["2.1.332"],
        Pair("1.0.0", "2.1.332"),
        Pair("1.1.0", "2.1.332"),
    )
    assert grid.candidate_cell(data)["verdict"] == "NOT SAFE"
    assert grid.gate_code(data) == 1
