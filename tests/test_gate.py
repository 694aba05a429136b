"""The upgrade gate: runs split into LiteLLM x Claude Code cells, the candidate judged against the
baseline, new Claude Code versions profiled during the run, young ones refused, and "newest"
resolved honestly."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.tools import envs as matrix
from harness.tools import registry
from harness.tools.user import gate
from harness.tools.user.gate import bisecting, grid
from harness.tools.user.gate.grid import Pair
from harness.verdict.model import SCHEMA

ROOT = Path(__file__).resolve().parent.parent
REQS = [
    {
        "id": i,
        "area": i.split("-")[0],
        "level": "must",
        "statement": f"{i} holds.",
        "source": "s",
        "url": "u",
    }
    for i in ("AUTH-001", "E2E-001", "MODELS-001")
]


def result(req: str, outcome: str, claude_code: str = "", name: str = "") -> dict:
    nodeid = f"suites/t.py::test_{name or req}" + (f"[cc-{claude_code}]" if claude_code else "")
    return {
        "nodeid": nodeid,
        "name": nodeid.split("::")[1],
        "requirement": req,
        "area": req.split("-")[0],
        "level": "must",
        "outcome": outcome,
        "duration": 0.1,
        "reason": "",
        "evidence": {},
        "observed": {},
        "claude_code": claude_code,
    }


def litellm_run(version: str, e2e: dict[str, str], auth: str = "pass") -> dict:
    """One LiteLLM version's run: a shared check, and one E2E check per Claude Code version."""
    results = [result("AUTH-001", auth)] + [result("E2E-001", o, cc) for cc, o in e2e.items()]
    info = {
        "label": f"LiteLLM {version}",
        "litellm_version": version,
        "python_version": "3.11",
        "suite_revision": "x",
        "config_hash": "h",
        "started_at": "2026-11-26T00:00:00+00:00",
        "catalogue_revision": "c",
        "claude_code_profiles": list(e2e),
        "deviations_file": "",
    }
    return {"schema": SCHEMA, "info": info, "requirements": REQS, "results": results}


RUNS = {
    "1.0.0": litellm_run("1.0.0", {"2.0.0": "pass", "2.1.0": "pass"}),
    "1.1.0": litellm_run("1.1.0", {"2.0.0": "pass", "2.1.0": "fail"}),
}


def test_a_cell_is_the_shared_checks_plus_its_own_columns():
    cell = grid.cell_run(RUNS["1.1.0"], "2.1.0")
    assert [(r["requirement"], r["claude_code"]) for r in cell["results"]] == [
        ("AUTH-001", ""),
        ("E2E-001", "2.1.0"),
    ]
    assert cell["info"]["label"] == "LiteLLM 1.1.0 x Claude Code 2.1.0"


def test_the_gate_fails_only_when_the_candidate_pair_regresses():
    args = (RUNS, ["1.0.0", "1.1.0"], ["2.0.0", "2.1.0"], Pair("1.0.0", "2.0.0"))
    data, _ = grid.build(*args, Pair("1.1.0", "2.1.0"))
    cells = {c["pair"]: c for row in data["rows"] for c in row["cells"]}
    assert [r["id"] for r in cells["1.1.0/2.1.0"]["regressions"]] == ["E2E-001"]
    assert cells["1.1.0/2.0.0"]["regressions"] == []
    assert cells["1.1.0/2.1.0"]["state"] == "unsafe"
    assert grid.gate_code(data) == 1
    passing, _ = grid.build(*args, Pair("1.1.0", "2.0.0"))
    assert grid.gate_code(passing) == 0


def test_a_pair_outside_the_grid_is_refused_with_the_choices():
    with pytest.raises(HarnessError, match=r"1\.0\.0, 1\.1\.0"):
        Pair.parse("9.9.9/2.0.0", ["1.0.0", "1.1.0"], ["2.0.0"])
    assert Pair.parse("1.1.0/2.0.0", ["1.0.0", "1.1.0"], ["2.0.0"]) == Pair("1.1.0", "2.0.0")


def test_a_claude_code_release_younger_than_min_age_is_refused():
    now = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    times = {"2.1.332": now - dt.timedelta(days=2), "2.1.330": now - dt.timedelta(days=6)}
    assert registry.refuse_if_too_new("2.1.330", 3, times, now) == pytest.approx(6)
    with pytest.raises(
        HarnessError, match=r"2\.1\.332 was published .* 2\.0 day\(s\) ago.*minimum age of 3"
    ):
        registry.refuse_if_too_new("2.1.332", 3, times, now)
    with pytest.raises(HarnessError, match="not published on npm"):
        registry.refuse_if_too_new("9.9.9", 3, times, now)


def test_newest_passes_over_releases_that_do_not_install_and_says_why(tmp_path):
    def build(version: str) -> matrix.Environment:
        if version == "1.82.8":
            matrix.supplychain.refuse_compromised("litellm", version)
        if version == "1.83.0":
            raise HarnessError("installing LiteLLM 1.83.0 failed:\nResolutionImpossible")
        return matrix.Environment(version, tmp_path / "python", 0.0, "litellm[proxy]")

    newest = matrix.newest_installable(["1.83.0", "1.82.8", "1.82.6"], build=build)
    assert newest.environment.version == "1.82.6"
    assert [p.split(":")[0] for p in newest.passed_over] == ["1.83.0", "1.82.8"]
    assert "compromised" in newest.passed_over[1]


def _fake_profile(version: str) -> dict:
    base = json.loads((ROOT / "harness/claude_code/profiles/2.0.77.json").read_text())
    return {**base, "version": version, "betas": [*base["betas"], f"new-beta-{version}"]}


def test_the_gate_captures_an_unprofiled_version_and_writes_the_grid(tmp_path, monkeypatch):
    """Everything but the suite itself is real: the split, the verdicts, the profile diff, the
    pages."""
    captured = []

    def fake_capture(version: str, directory: Path):
        captured.append(version)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{version}.json").write_text(json.dumps(_fake_profile(version)))
        return directory / f"{version}.json", {}

    def fake_suite(env, out_dir: Path, extra: list[str], variables=None):
        assert extra.count("--claude-code") == 2  # one run per LiteLLM version carries both columns
        assert variables
        assert str(tmp_path) in variables["CC_GATEWAY_PROFILES"]
        out_dir.mkdir(parents=True)
        path = out_dir / "compat.json"
        run = litellm_run(env.version, {"2.0.77": "pass", "9.0.0": "fail"})
        run["info"]["gateways"] = {
            "default": {"config_yaml": "model_list: []\n", "env": {}, "files": {}}
        }
        run["results"][-1]["repro"] = {
            "gateway": "default",
            "exchanges": [],
            "provider_answers": [],
            "facts": {"client": [], "provider": []},
        }
        path.write_text(json.dumps(run))
        return path, 1.0, 1

    monkeypatch.setattr(gate.command, "capture", fake_capture)
    monkeypatch.setattr(
        gate.command, "install", lambda v: type("I", (), {"install_seconds": 0.0})()
    )
    monkeypatch.setattr(
        gate.command.matrix,
        "environment",
        lambda v: matrix.Environment(v, tmp_path / v / "bin/python", 0.0, "litellm[proxy]"),
    )
    monkeypatch.setattr(gate.command.matrix, "run_suite", fake_suite)
    monkeypatch.delenv("CC_GATEWAY_PROFILES", raising=False)
    before = dict(os.environ)
    code = gate.run(
        gate.Options(
            ["1.0.0", "1.1.0"],
            ["2.0.77", "9.0.0"],
            tmp_path / "gate",
            baseline="1.0.0/2.0.77",
            bench_repeats=0,
            store=tmp_path / "store",
        )
    )
    assert captured == ["9.0.0"], "only the version without a profile is captured"
    assert dict(os.environ) == before, "the gate leaves the environment as it found it"
    assert code == 1
    page = (tmp_path / "gate/gate.html").read_text()
    assert 'href="cells/litellm-1.1.0-cc-9.0.0.html"' in page
    assert "+ new-beta-9.0.0" in page, "the profile diff sits beside the verdict"
    data = json.loads((tmp_path / "gate/gate.json").read_text())
    assert data["claude_code_facts"]["9.0.0"]["profile"].startswith("captured by this gate run")
    assert (tmp_path / "gate/matrix.html").exists()
    link = "repro/1.1.0/E2E-001-test_E2E-001-cc-9.0.0"
    assert f'href="{link}/README.md"' in page, "a failing cell links its repro folder"
    assert (tmp_path / "gate" / link / "repro.py").exists()


def test_claude_code_option_deselects_other_versions_checks():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "--claude-code",
            "2.0.77",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    ids = done.stdout.splitlines()
    assert any("cc-2.0.77" in i for i in ids)
    assert not [i for i in ids if "cc-2.1.332" in i or "cc-1.0.128" in i]
    assert any("test_request_without_credentials" in i or "test_auth" in i for i in ids), (
        "shared checks stay"
    )


def test_a_new_claude_code_version_is_held_to_another_versions_entry_by_fingerprint():
    from types import SimpleNamespace

    from harness.plugin.deviations import _by_versionless_check, _listed_for_another_claude_code
    from harness.verdict.deviations import Deviation

    fp = {"outcome": "failed", "client": ["POST /v1/messages -> 200"]}
    known = [
        Deviation("test_fields.py::test_f[cc-2.0.77-thinking-json]", "FIELDS-001", "old", fp),
        Deviation("test_fields.py::test_f[cc-2.1.332-thinking-json]", "FIELDS-001", "dropped", fp),
    ]
    known = _by_versionless_check(known)
    item = SimpleNamespace(
        nodeid="suites/test_fields.py::test_f[cc-2.1.330-thinking-json]",
        user_properties=[("claude_code", "2.1.330")],
    )
    entry = _listed_for_another_claude_code(known, item)
    assert entry is not None
    assert entry.observed.startswith("dropped [listed for Claude Code 2.1.332")
    assert entry.judge(fp)[0] == "same"
    assert entry.judge({**fp, "client": ["POST /v1/messages -> 500"]})[0] == "changed", (
        "a different failure is new"
    )
    other = SimpleNamespace(
        nodeid="suites/test_fields.py::test_f[cc-2.1.330-system-json]",
        user_properties=[("claude_code", "2.1.330")],
    )
    assert _listed_for_another_claude_code(known, other) is None


def test_the_gate_refuses_a_compromised_litellm_before_installing_anything(tmp_path, monkeypatch):
    monkeypatch.setattr(
        gate.command,
        "install",
        lambda v: pytest.fail("Claude Code was installed before the refusal"),
    )
    with pytest.raises(HarnessError, match="published compromised"):
        gate.run(
            gate.Options(["1.108.7", "1.82.8"], ["2.1.332"], tmp_path / "gate", bench_repeats=0)
        )


def _stub_suite(
    monkeypatch,
    tmp_path: Path,
    calls: list[tuple[str, int]],
    ran_twice: bool = False,
    argv: list[list[str]] | None = None,
) -> None:
    """The suite replaced by a run per version; each call recorded as (version, node ids it was
    narrowed to). With ``ran_twice``, the candidate's session reran its moved check itself, and the
    runs agreed."""

    def fake_suite(env, out_dir: Path, extra: list[str], variables=None):
        calls.append((env.version, sum(a.startswith("suites/") for a in extra)))
        if argv is not None:
            argv.append(list(extra))
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "compat.json"
        run = litellm_run(env.version, {"2.1.0": "pass" if env.version == "1.0.0" else "fail"})
        for r in run["results"]:
            r["ran_twice"] = ran_twice and r["outcome"] == "fail" and "--no-rerun" not in extra
        path.write_text(json.dumps(run))
        return path, 1.0, 1

    monkeypatch.setattr(
        gate.command, "install", lambda v: type("I", (), {"install_seconds": 0.0})()
    )
    monkeypatch.setattr(
        gate.command.matrix,
        "environment",
        lambda v: matrix.Environment(v, tmp_path / v / "bin/python", 0.0, "litellm[proxy]"),
    )
    monkeypatch.setattr(gate.command.matrix, "run_suite", fake_suite)
    monkeypatch.setattr(gate.command, "prepare_claude_code", lambda *a: {})


def test_a_one_candidate_gate_with_a_stored_baseline_costs_one_suite_run(tmp_path, monkeypatch):
    calls: list[tuple[str, int]] = []
    _stub_suite(monkeypatch, tmp_path, calls)
    options = gate.Options(
        ["1.0.0", "1.1.0"], ["2.1.0"], tmp_path / "gate", bench_repeats=0, store=tmp_path / "s"
    )
    assert gate.run(options) == 1
    assert calls == [("1.0.0", 0), ("1.1.0", 0), ("1.1.0", 1)], (
        "both versions, then the moved check once more"
    )
    calls.clear()
    assert gate.run(options) == 1
    assert calls == [("1.1.0", 0), ("1.1.0", 1)], "the baseline's stored run is reused"
    data = json.loads((tmp_path / "gate/gate.json").read_text())
    assert data["suite_seconds"]["1.0.0"] == 0.0
    other = gate.Options(
        ["1.0.0", "1.1.0"],
        ["2.1.0"],
        tmp_path / "gate2",
        bench_repeats=0,
        store=tmp_path / "s",
        pytest_args=["-k", "auth"],
    )
    calls.clear()
    gate.run(other)
    assert calls[0] == ("1.0.0", 0), (
        "other pytest arguments make another key: the baseline runs again"
    )
    monkeypatch.setenv("PYTEST_ADDOPTS", "-k auth")
    calls.clear()
    gate.run(options)
    assert calls[0] == ("1.0.0", 0), (
        "PYTEST_ADDOPTS narrows a run too: a narrowed run is never a full baseline"
    )


def test_a_gate_judged_from_runs_kept_by_separate_jobs_equals_the_local_gate(tmp_path, monkeypatch):
    calls: list[tuple[str, int]] = []
    _stub_suite(monkeypatch, tmp_path, calls)
    for version in ("1.0.0", "1.1.0"):  # one matrix job each, in its own output folder
        job = gate.Options(
            [version],
            ["2.1.0"],
            tmp_path / f"job-{version}",
            bench_repeats=0,
            store=tmp_path / f"s-{version}",
            runs_only=True,
        )
        assert gate.run(job) == 0
    assert not (tmp_path / "job-1.1.0" / "gate.json").exists(), "a matrix job judges nothing"
    calls.clear()
    judged = gate.Options(
        ["ignored"],
        ["2.1.0"],
        tmp_path / "judged",
        bench_repeats=0,
        judge=[tmp_path / "job-1.0.0", tmp_path / "job-1.1.0"],
    )
    code = gate.run(judged)
    assert calls == [], "the judging job runs nothing"
    local = gate.Options(
        ["1.0.0", "1.1.0"],
        ["2.1.0"],
        tmp_path / "local",
        bench_repeats=0,
        store=tmp_path / "s-local",
        rerun=False,
    )
    assert gate.run(local) == code == 1
    got, want = (json.loads((tmp_path / d / "gate.json").read_text()) for d in ("judged", "local"))
    assert (
        (got["baseline"], got["candidate"])
        == (want["baseline"], want["candidate"])
        == ("1.0.0/2.1.0", "1.1.0/2.1.0")
    )
    assert [row["cells"] for row in got["rows"]] == [row["cells"] for row in want["rows"]]


def test_judging_refuses_runs_kept_with_other_arguments(tmp_path, monkeypatch):
    calls: list[tuple[str, int]] = []
    _stub_suite(monkeypatch, tmp_path, calls)
    for version, narrowed in (("1.0.0", []), ("1.1.0", ["-k", "auth"])):
        gate.run(
            gate.Options(
                [version],
                ["2.1.0"],
                tmp_path / f"job-{version}",
                bench_repeats=0,
                store=tmp_path / f"s-{version}",
                runs_only=True,
                pytest_args=narrowed,
            )
        )
    judged = gate.Options(
        ["ignored"],
        ["2.1.0"],
        tmp_path / "judged",
        bench_repeats=0,
        judge=[tmp_path / "job-1.0.0", tmp_path / "job-1.1.0"],
    )
    with pytest.raises(HarnessError, match=r"different selections \(arguments: "):
        gate.run(judged)


def test_judging_nothing_says_what_the_matrix_jobs_write(tmp_path):
    with pytest.raises(HarnessError, match=r"no gate-run\.json under"):
        gate.run(gate.Options(["x"], ["2.1.0"], tmp_path / "g", bench_repeats=0, judge=[tmp_path]))


def test_baseline_run_from_an_earlier_job_is_used_and_must_be_the_baselines_version(
    tmp_path, monkeypatch
):
    calls: list[tuple[str, int]] = []
    _stub_suite(monkeypatch, tmp_path, calls)
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps(litellm_run("1.0.0", {"2.1.0": "pass"})))
    options = gate.Options(
        ["1.0.0", "1.1.0"],
        ["2.1.0"],
        tmp_path / "gate",
        bench_repeats=0,
        store=tmp_path / "s",
        baseline_run=earlier,
    )
    assert gate.run(options) == 1
    assert [v for v, _ in calls] == ["1.1.0", "1.1.0"]
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(litellm_run("0.9.0", {"2.1.0": "pass"})))
    with pytest.raises(HarnessError, match=r"not of the baseline's 1\.0\.0"):
        gate.run(
            gate.Options(
                ["1.0.0", "1.1.0"], ["2.1.0"], tmp_path / "g", bench_repeats=0, baseline_run=wrong
            )
        )


def test_a_check_whose_second_run_disagrees_is_flaky_in_the_gate():
    base = litellm_run("1.0.0", {"2.1.0": "pass"})
    first = litellm_run("1.1.0", {"2.1.0": "fail"})
    second = litellm_run("1.1.0", {"2.1.0": "pass"})
    args = (
        {"1.0.0": base, "1.1.0": first},
        ["1.0.0", "1.1.0"],
        ["2.1.0"],
        Pair("1.0.0", "2.1.0"),
        Pair("1.1.0", "2.1.0"),
    )
    data, _ = grid.build(*args, reruns={"1.1.0": second})
    assert grid.candidate_cell(data)["classes"] == {"flaky": 1, "same": 1}
    assert grid.gate_code(data) == 1
    warned, _ = grid.build(*args, grid.Rules(changes="warn"), reruns={"1.1.0": second})
    assert grid.gate_code(warned) == 0
    assert grid.candidate_cell(warned)["verdict"] == "SAFE, 1 CHANGES TO REVIEW"


def test_a_moved_check_that_ran_twice_in_its_own_session_is_not_run_again(tmp_path, monkeypatch):
    calls: list[tuple[str, int]] = []
    _stub_suite(monkeypatch, tmp_path, calls, ran_twice=True)
    options = gate.Options(
        ["1.0.0", "1.1.0"], ["2.1.0"], tmp_path / "gate", bench_repeats=0, store=tmp_path / "s"
    )
    assert gate.run(options) == 1
    assert calls == [("1.0.0", 0), ("1.1.0", 0)], (
        "the candidate's own session confirmed it: no third session"
    )


def test_the_candidates_suite_reruns_in_session_what_moved_against_the_baselines_run(
    tmp_path, monkeypatch
):
    calls: list[tuple[str, int]] = []
    argv: list[list[str]] = []
    _stub_suite(monkeypatch, tmp_path, calls, argv=argv)
    options = gate.Options(
        ["1.1.0", "1.0.0"],
        ["2.1.0"],
        tmp_path / "gate",
        bench_repeats=0,
        store=tmp_path / "s",
        baseline="1.0.0/2.1.0",
        candidate="1.1.0/2.1.0",
    )
    gate.run(options)
    assert [v for v, _ in calls[:2]] == ["1.0.0", "1.1.0"], (
        "the baseline runs first, whatever the order given"
    )
    assert "--rerun-against" not in argv[0]
    against = Path(argv[1][argv[1].index("--rerun-against") + 1])
    assert json.loads(against.read_text())["info"]["litellm_version"] == "1.0.0"
    assert "--no-rerun" not in argv[1]


def test_a_check_its_own_session_found_flaky_is_flaky_against_the_baseline():
    base = litellm_run("1.0.0", {"2.1.0": "pass"})
    cand = litellm_run("1.1.0", {"2.1.0": "fail"})
    cand["results"][1]["flaky"] = "first run: new failure; second run: same"
    data, _ = grid.build(
        {"1.0.0": base, "1.1.0": cand},
        ["1.0.0", "1.1.0"],
        ["2.1.0"],
        Pair("1.0.0", "2.1.0"),
        Pair("1.1.0", "2.1.0"),
    )
    assert grid.candidate_cell(data)["classes"] == {"flaky": 1, "same": 1}


def test_only_the_suites_moved_checks_run_a_second_time():
    from harness.verdict.classes import CheckVerdict

    checks = [
        CheckVerdict("bench::overhead", "PERF-OVERHEAD", "should", "regressed", "pass", "fail"),
        CheckVerdict(
            "suites/test_auth.py::test_x[a]", "AUTH-001", "must", "regressed", "pass", "fail"
        ),
        CheckVerdict("suites/test_auth.py::test_y", "AUTH-001", "must", "same", "pass", "pass"),
    ]
    assert gate.rerunnable(checks) == ["suites/test_auth.py::test_x[a]"]


def test_the_fuzz_example_database_is_not_part_of_the_suites_source():
    """Every fuzz run rewrites it; a run beside a matrix job must not change the job's key or
    selection."""
    from harness.tools import runstore

    before = runstore.suite_source()
    stray = ROOT / "suites" / "fuzz-examples" / "zz-written-by-a-fuzz-run"
    stray.write_text("x")
    try:
        assert runstore.suite_source() == before
    finally:
        stray.unlink()


def test_each_regressed_item_offers_the_bisect_that_names_its_release():
    """A LiteLLM row's item bisects LiteLLM's releases; a Claude Code column's on one LiteLLM,
    Claude Code's."""
    baseline = Pair("1.0.0", "2.1.0")
    data, _ = grid.build(
        RUNS, ["1.0.0", "1.1.0"], ["2.0.0", "2.1.0"], baseline, Pair("1.1.0", "2.1.0")
    )
    bisecting.offer(data, baseline)
    cells = {c["pair"]: c for row in data["rows"] for c in row["cells"]}
    (item,) = cells["1.1.0/2.1.0"]["checks"]
    assert item["class"] == "regressed"
    assert item["bisect"] == (
        "python -m harness bisect 'suites/t.py::test_E2E-001[cc-2.1.0]' --good 1.0.0 "
        "--bad 1.1.0 --claude-code 2.1.0"
    )
    older = Pair("1.0.0", "2.0.0")
    assert bisecting.bisect_command(
        "suites/t.py::test_E2E-001[cc-2.1.0]", older, Pair("1.0.0", "2.1.0")
    ).endswith(
        "'suites/t.py::test_E2E-001[cc-2.1.0]' --good 2.0.0 --bad 2.1.0 "
        "--claude-code-range --litellm 1.0.0"
    )
    assert "bisect" not in {
        k for c in cells.values() for x in c["checks"] if x["class"] == "fixed" for k in x
    }


def test_gate_bisect_writes_the_first_bad_release_into_the_cell(tmp_path, monkeypatch):
    calls: list[tuple[str, int]] = []
    _stub_suite(monkeypatch, tmp_path, calls)
    asked: list[list[str]] = []

    class FakeBisect:
        def __init__(self, releases, checks, out, args, store):
            asked.append(checks)

        def run(self):
            return {
                "steps": [{}] * 3,
                "wall_seconds": 9.0,
                "releases": ["1.0.0", "1.0.1", "1.1.0"],
                "checks": [
                    {
                        "check": asked[0][0],
                        "first": "1.0.1",
                        "monotone": True,
                        "notes": [],
                        "repro": None,
                    }
                ],
            }

    monkeypatch.setattr(bisecting, "litellm_series", lambda good, bad: [good, bad])
    monkeypatch.setattr(bisecting, "Bisect", FakeBisect)
    options = gate.Options(
        ["1.0.0", "1.1.0"],
        ["2.1.0"],
        tmp_path / "gate",
        bench_repeats=0,
        store=tmp_path / "s",
        bisect=True,
    )
    assert gate.run(options) == 1
    assert asked == [["suites/t.py::test_E2E-001[cc-2.1.0]"]], (
        "only the must-level item that regressed"
    )
    data = json.loads((tmp_path / "gate/gate.json").read_text())
    (item,) = grid.candidate_cell(data)["checks"]
    assert item["first_bad"]["release"] == "1.0.1"
    assert data["bisect"]["steps"] == 3
    page = (tmp_path / "gate/gate.html").read_text()
    assert "first changed in <b>1.0.1</b>" in page
    assert "python -m harness bisect" in page


def test_a_benchmark_that_breaks_costs_the_gate_nothing_but_its_figures(tmp_path, monkeypatch):
    """A matrix job whose benchmark raised once lost its suite run (the exception ended the job
    before it kept the run); the run is kept, the error said, the benchmark's figures missing."""

    def broken(*args, **kwargs):
        raise ConnectionError("the proxy went away")

    kept = _kept_after_bench(monkeypatch, tmp_path, broken)
    assert kept["bench_error"] == "ConnectionError: the proxy went away"
    assert "bench" not in kept


def test_a_benchmark_that_lost_a_connection_is_tried_once_more(tmp_path, monkeypatch):
    """A lost connection is the harness's accident: the benchmark runs a second time before it is
    reported."""
    attempts = iter([OSError(9, "Bad file descriptor"), ValueError("the second attempt ran")])

    def flaky(*args, **kwargs):
        raise next(attempts)

    kept = _kept_after_bench(monkeypatch, tmp_path, flaky)
    assert kept["bench_error"] == "ValueError: the second attempt ran"


def _kept_after_bench(monkeypatch, tmp_path, bench_run) -> dict:
    """A matrix job's kept run, its benchmark being ``bench_run``."""
    calls: list[tuple[str, int]] = []
    _stub_suite(monkeypatch, tmp_path, calls)
    monkeypatch.setattr(gate.command.bench, "run", bench_run)
    options = gate.Options(
        ["1.0.0"],
        ["2.1.0"],
        tmp_path / "job",
        bench_repeats=1,
        store=tmp_path / "s",
        runs_only=True,
    )
    assert gate.run(options) == 0
    return json.loads((tmp_path / "job/runs/1.0.0/gate-run.json").read_text())
