"""`python -m harness bisect`: the search finds each check's first differing release in
ceil(log2 n) + 1 steps, names a series that is not monotone, and runs real steps against a synthetic
series of reference gateways."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.errors import HarnessError
from harness.tools.user.bisect.releases import between
from harness.tools.user.bisect.search import Observation, search

ROOT = Path(__file__).resolve().parents[1]
SAME, DIFF = Observation("same", "pass"), Observation("regressed", "fail", ("status: 200 → 500",))


def observer(answers: dict[str, list[Observation]], log: list[int]):
    def observe(index: int, checks: list[str]) -> dict[str, Observation]:
        log.append(index)
        return {c: answers[c][index] for c in checks}

    return observe


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 16, 31])
def test_a_single_change_is_found_within_ceil_log2_n_plus_one_steps(n):
    """With n releases after V1, every first differing release is found in at most ceil(log2 n) + 1
    steps, one more when it is V2 itself (assumed to differ until then, so it is run only to confirm
    it)."""
    for first in range(1, n + 1):
        log: list[int] = []
        answers = {"c": [SAME if i < first else DIFF for i in range(n + 1)]}
        (found,) = search(n + 1, ["c"], observer(answers, log))
        assert (found.first, found.last_same, found.monotone) == (first, first - 1, True), (
            n,
            first,
            log,
        )
        bound = math.ceil(math.log2(n)) + (1 if first < n else 2)
        assert len(log) == len(set(log)) == found.found_after <= bound, (n, first, log)


def test_checks_that_changed_in_the_same_release_share_every_step():
    log: list[int] = []
    answers = {c: [SAME] * 5 + [DIFF] * 4 for c in ("a", "b", "c")}
    found = search(9, ["a", "b", "c"], observer(answers, log))
    assert {f.first for f in found} == {5}
    assert len(log) == 4


def test_a_change_that_comes_and_goes_is_reported_as_not_monotone():
    """A step taken for one check that contradicts another's single change point marks that one not
    monotone."""
    log: list[int] = []
    a = [SAME] * 4 + [DIFF] * 5
    b = [SAME, DIFF, DIFF, SAME, SAME, SAME, SAME, DIFF, DIFF]
    found_a, found_b = search(9, ["a", "b"], observer({"a": a, "b": b}, log))
    assert (found_a.first, found_a.monotone) == (4, True)
    assert (found_b.first, found_b.monotone) == (7, False)
    assert any("differs, yet" in n for n in found_b.notes), found_b.notes
    assert sorted(found_b.tried) == sorted(set(log))


def test_a_check_that_changes_twice_is_not_monotone():
    """Another check's steps show this one differing another way later: it changed more than
    once."""
    other = Observation("changed", "fail", ("status: 500 → 400",))
    twice = [SAME, DIFF, DIFF, other, other]
    found, late = search(5, ["c", "d"], observer({"c": twice, "d": [SAME] * 4 + [DIFF]}, []))
    assert found.first == 1
    assert not found.monotone
    assert "more than once" in " ".join(found.notes)
    assert (late.first, late.monotone) == (4, True)


def test_a_flaky_answer_stops_that_checks_search_without_blaming_a_release():
    flaky = Observation("flaky", "fail")
    (found,) = search(9, ["c"], observer({"c": [SAME] * 4 + [flaky] * 5}, []))
    assert found.first is None
    assert "flaky" in " ".join(found.notes)


def test_v2_answering_as_v1_is_said_not_guessed():
    (found,) = search(4, ["c"], observer({"c": [SAME] * 4}, []))
    assert found.first is None
    assert found.notes == ["V2 answers as V1 does: nothing changed between them for this check"]
    assert found.monotone


def test_releases_are_taken_in_version_order_and_pre_releases_only_when_asked():
    versions = ["1.110.2", "1.108.10", "1.108.9", "1.109.0rc1", "1.109.0", "1.108.7", "1.107.0"]
    assert between(versions, "1.108.7", "1.109.0") == ["1.108.7", "1.108.9", "1.108.10", "1.109.0"]
    assert "1.109.0rc1" in between(versions, "1.108.7", "1.109.0", pre=True)
    with pytest.raises(HarnessError, match=r"--bad 1\.200\.0"):
        between(versions, "1.108.7", "1.200.0")
    with pytest.raises(HarnessError, match="older release"):
        between(versions, "1.109.0", "1.108.7")


# A synthetic series of nine "releases", each the reference gateway with faults switched on from one
# release: drop-beta from r4 on (COUNT-003's check changes once), no-auth at r1-r2 and again from r7
# (comes and goes).
BETAS = "suites/test_count_tokens.py::test_count_tokens_forwards_betas"
AUTH = "suites/test_auth.py::test_bad_credentials_get_401[missing-messages]"


def _faults(i: int) -> list[str]:
    return (["drop-beta"] if i >= 4 else []) + (["no-auth"] if i in (1, 2) or i >= 7 else [])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> tuple[dict, Path, list[str]]:
    folder = tmp_path_factory.mktemp("bisect")
    releases = [
        {
            "version": f"r{i}",
            "args": ["--gateway-impl", ":".join(["reference", ",".join(_faults(i))]).rstrip(":")],
        }
        for i in range(9)
    ]
    (folder / "series.yaml").write_text(yaml.safe_dump({"releases": releases}))
    command = [
        sys.executable,
        "-m",
        "harness",
        "bisect",
        BETAS,
        AUTH,
        "--good",
        "r0",
        "--bad",
        "r8",
        "--series",
        str(folder / "series.yaml"),
        "--output-dir",
        str(folder / "out"),
        "--run-store",
        str(folder / "store"),
        "--",
        "-n",
        "0",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((folder / "out" / "bisect.json").read_text()), folder, command


def test_the_first_faulty_release_of_a_synthetic_series_is_found_in_ceil_log2_n_plus_one_steps(
    synthetic,
):
    """Faults switched on from the 4th of 8 releases after V1: found, with a repro folder, after
    ceil(log2 8) + 1 steps, each a real pytest run against that release (the bisect goes on for the
    other check)."""
    data, _, _ = synthetic
    betas = next(c for c in data["checks"] if c["check"] == BETAS)
    assert (betas["first"], betas["last_same"], betas["monotone"]) == ("r4", "r3", True), betas
    assert betas["found_after_steps"] == math.ceil(math.log2(8)) + 1, data["steps"]
    assert (betas["before"]["outcome"], betas["after"]["outcome"], betas["class"]) == (
        "pass",
        "fail",
        "regressed",
    )
    assert any("anthropic-beta" in m for m in betas["moves"]), betas["moves"]
    assert betas["repro"]
    assert (Path(betas["repro"]) / "repro.py").exists()
    assert not any(s["reused"] for s in data["steps"])


def test_a_synthetic_series_that_comes_and_goes_is_reported_as_not_monotone(synthetic):
    """no-auth on at r1-r2, off, on again from r7: the bisect says it is not monotone and lists
    every release tried."""
    data, _, _ = synthetic
    auth = next(c for c in data["checks"] if c["check"] == AUTH)
    assert auth["monotone"] is False, auth
    assert any("r2 differs, yet" in n for n in auth["notes"]), auth["notes"]
    assert [t["version"] for t in auth["tried"]] == ["r0", "r2", "r3", "r4", "r6", "r7"], auth[
        "tried"
    ]
    assert [s["version"] for s in data["steps"]] == ["r0", "r4", "r2", "r3", "r6", "r7"]
    assert auth["first"] == "r7"


def test_a_repeated_bisect_reuses_every_step_run(synthetic):
    _, folder, command = synthetic
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    again = json.loads((folder / "out" / "bisect.json").read_text())
    assert again["steps"]
    assert all(s["reused"] for s in again["steps"]), again["steps"]


def test_a_bisect_stopped_mid_step_stops_its_suite_session_and_leaves_no_process(synthetic):
    """A CI runner's cancel (SIGTERM) reaches the step's pytest session, which takes its gateway
    down; nothing the bisect started outlives it."""
    import signal
    import time

    import psutil

    _, folder, command = synthetic
    fresh = [a if a != str(folder / "store") else str(folder / "store-2") for a in command]
    harness = subprocess.Popen(
        fresh, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    me = psutil.Process(harness.pid)
    deadline = time.monotonic() + 120
    while not any("pytest" in " ".join(c.cmdline()) for c in _alive(me.children(recursive=True))):
        assert time.monotonic() < deadline, "the first step never started"
        assert harness.poll() is None, harness.stderr.read() if harness.stderr else ""
        time.sleep(0.2)
    time.sleep(2)  # into the session: workers and the gateway up
    family = me.children(recursive=True)
    harness.send_signal(signal.SIGTERM)
    assert harness.wait(timeout=90) == 128 + signal.SIGTERM
    _, alive = psutil.wait_procs(family, timeout=30)
    assert not alive, [" ".join(p.cmdline()[:4]) for p in _alive(alive)]


def _alive(procs: list) -> list:
    import psutil

    out = []
    for p in procs:
        try:
            p.cmdline()
            out.append(p)
        except psutil.Error:
            continue
    return out


def test_a_claude_code_bisect_follows_a_check_whose_id_carries_the_version(tmp_path, monkeypatch):
    """Claude Code's checks carry the version in their ids ([2.1.330-...]): each step runs the check
    under its own id and is judged against V1's check of the same name; npm's releases are taken in
    version order."""
    from harness.tools import envs
    from harness.tools.user.bisect import Bisect
    from harness.tools.user.bisect import releases as series
    from harness.verdict.model import SCHEMA

    published = {
        v: None for v in ("2.1.331", "2.1.329", "2.1.330", "2.1.332", "2.2.0-beta.1", "2.0.77")
    }
    monkeypatch.setattr(series.npm_registry, "publish_times", lambda: published)
    monkeypatch.setattr(series, "install", lambda v: type("I", (), {"install_seconds": 0.0})())
    monkeypatch.setattr(series, "load_profiles", lambda: [{"version": v} for v in published])
    got = series.claude_code_series(
        "2.1.329", "2.1.332", ["--litellm-python", "py"], tmp_path / "profiles"
    )
    assert [r.version for r in got] == ["2.1.329", "2.1.330", "2.1.331", "2.1.332"]
    asked: list[list[str]] = []

    def fake_suite(target, out_dir, extra, variables=None, label=""):
        version = target[target.index("--claude-code") + 1]
        asked.append([a for a in extra if a.startswith("suites/")])
        outcome = "fail" if version >= "2.1.331" else "pass"
        run = {
            "schema": SCHEMA,
            "requirements": [
                {
                    "id": "E2E-001",
                    "level": "must",
                    "statement": "s",
                    "area": "E2E",
                    "source": "s",
                    "url": "u",
                }
            ],
            "info": {"litellm_version": "1.108.7", "label": version},
            "results": [
                {
                    "nodeid": f"suites/t.py::test_e2e[{version}-default]",
                    "requirement": "E2E-001",
                    "level": "must",
                    "outcome": outcome,
                    "claude_code": version,
                }
            ],
        }
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "compat.json").write_text(json.dumps(run))
        return out_dir / "compat.json", 0.1, int(outcome == "fail")

    monkeypatch.setattr(envs, "run_suite_with", fake_suite)
    data = Bisect(
        got, ["suites/t.py::test_e2e[2.1.329-default]"], tmp_path / "out", store=tmp_path / "s"
    ).run()
    (check,) = data["checks"]
    assert (check["check"], check["first"], check["class"]) == (
        "suites/t.py::test_e2e[2.1.329-default]",
        "2.1.331",
        "regressed",
    )
    assert ["suites/t.py::test_e2e[2.1.331-default]"] in asked, asked


def test_a_check_missing_from_a_later_step_keeps_the_answer_it_already_had():
    """A step taken for another check that does not run this one (or finds it flaky) is noted, not
    an erasure."""
    b = [SAME, SAME, DIFF, DIFF, DIFF, DIFF, DIFF, None, None]
    a = [SAME] * 8 + [DIFF]
    answers = {"a": a, "b": b}

    def observe(index: int, checks: list[str]) -> dict[str, Observation]:
        return {c: answers[c][index] for c in checks if answers[c][index] is not None}

    found_b, found_a = search(9, ["b", "a"], observe)
    assert (found_b.first, found_b.monotone) == (2, True)
    assert any("did not run" in n for n in found_b.notes), found_b.notes
    assert found_a.first == 8
