"""Checks side by side (harness.plugin.scheduling): one report from many workers, units, and the
worker count."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.plugin import scheduling as parallel
from harness.plugin.durations import DurationLog

ROOT = Path(__file__).resolve().parents[1]


def test_workers_facts_fold_into_the_controllers():
    into: dict = {"providers": "scripted"}
    parallel.merge_facts(
        into,
        {
            "litellm_version": "1.108.7",
            "gateways": {"default": 1},
            "config_texts": {"a": "x"},
            "settings": {"profile": "isolated", "applied": {"num_retries": 0}},
        },
    )
    parallel.merge_facts(
        into,
        {
            "litellm_version": "9.9.9",
            "gateways": {"deployed": 2},
            "config_texts": {"b": "y"},
            "settings": {"profile": "isolated", "applied": {"request_timeout": 30}},
        },
    )
    assert into["litellm_version"] == "1.108.7", "the first worker's fact stands"
    assert into["gateways"] == {"default": 1, "deployed": 2}
    assert into["config_texts"] == {"a": "x", "b": "y"}
    assert into["settings"] == {
        "profile": "isolated",
        "applied": {"num_retries": 0, "request_timeout": 30},
    }


@pytest.mark.parametrize(
    ("nodeid", "unit"),
    [
        ("suites/test_stream.py::test_x[anthropic]", "suites/test_stream.py::test_x[anthropic]"),
        ("tests/test_controls.py::test_y", "tests/test_controls.py"),
    ],
    ids=["a-check-is-its-own-unit", "a-self-test-module-is-one-unit"],
)
def test_what_one_worker_runs_whole(nodeid, unit):
    assert parallel.unit(nodeid) == unit


def test_a_run_inside_a_worker_stays_in_one_process(monkeypatch, pytestconfig):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    assert parallel.pytest_xdist_auto_num_workers(pytestconfig) == 0
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    monkeypatch.setattr(pytestconfig.option, "collectonly", False)
    assert 1 <= parallel.pytest_xdist_auto_num_workers(pytestconfig) <= parallel.MAX_WORKERS


def test_two_workers_write_one_report_with_every_check_and_the_run_facts(tmp_path):
    select = "test_streamed_text_arrives_whole or test_count_tokens_returns_an_integer"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites",
            "-q",
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
            "--gateway-impl",
            "reference",
            "-k",
            select,
            "--report-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "bringing up nodes" in done.stdout, "the run was distributed"
    report = json.loads((tmp_path / "compat.json").read_text())
    outcomes = sorted(r["outcome"] for r in report["results"])
    assert outcomes == ["pass", "pass", "skipped", "skipped"], (
        "the reference gateway has no OpenAI route"
    )
    assert report["info"]["config_hash"], "the workers' configs reached the controller"
    assert report["info"]["litellm_version"] != "unknown"


class _Cache:
    def __init__(self, durations: dict[str, float]) -> None:
        self.durations = durations

    def get(self, key: str, default: object) -> object:
        return self.durations if key == parallel.DURATIONS else default


def test_a_fresh_clone_orders_by_the_committed_seed_and_a_checkout_by_its_own_last_run(
    monkeypatch, pytestconfig
):
    seed = parallel.read_seed()
    monkeypatch.setattr(pytestconfig, "cache", _Cache({}), raising=False)
    assert parallel.known_durations(pytestconfig) == seed, (
        "no run yet: the seed orders the first one"
    )
    slowest = max(seed, key=seed.__getitem__)
    monkeypatch.setattr(pytestconfig, "cache", _Cache({slowest: 0.1}), raising=False)
    assert parallel.known_durations(pytestconfig)[slowest] == 0.1, "this checkout's own run wins"


def test_the_seed_keeps_only_existing_checks_long_enough_to_move_the_order():
    durations = {"suites/a.py::x": 3.14159, "suites/a.py::short": 0.4, "suites/gone.py::y": 50.0}
    assert parallel.seed_from(durations, {"suites/a.py::x", "suites/a.py::short"}) == {
        "suites/a.py::x": 3.1
    }


def test_the_committed_seed_names_checks_that_exist_and_the_self_tests_that_run_the_suite():
    from harness.tools.maintainer.deviations.record import collected_node_ids

    seed = parallel.read_seed()
    stale = sorted(set(seed) - collected_node_ids())
    assert stale == [], (
        f"renamed or removed; refresh with `python -m harness durations --save`: {stale[:5]}"
    )
    modules = {parallel.unit(k) for k in seed}
    assert {"tests/test_readme_recipe.py", "tests/test_controls.py"} <= modules, (
        "the longest units are seeded"
    )


def _collected(*args: str) -> list[str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "suites",
            "--collect-only",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_a_shuffle_seed_gives_every_worker_the_same_new_order():
    plain, once, again = _collected(), _collected("--shuffle", "5"), _collected("--shuffle", "5")
    assert once == again, "workers collect separately and must agree on the order"
    assert sorted(once) == sorted(plain), "the same checks, none lost or added"
    assert once != plain, "the order changed"


def test_a_shuffle_keeps_each_self_test_module_whole(monkeypatch, pytestconfig):
    monkeypatch.setattr(pytestconfig.option, "shuffle", 3)
    items = [SimpleNamespace(nodeid=f"tests/test_{m}.py::t{n}") for m in "abcd" for n in range(3)]
    items += [SimpleNamespace(nodeid=f"suites/test_s.py::c{n}") for n in range(6)]
    before = [i.nodeid for i in items]
    parallel.pytest_collection_modifyitems(pytestconfig, items)  # type: ignore[arg-type]
    modules = [i.nodeid.split("::")[0] for i in items if i.nodeid.startswith("tests/")]
    assert len([m for m, _ in itertools.groupby(modules)]) == 4, f"a module was split: {modules}"
    assert [i.nodeid for i in items] != before


def test_a_skipped_check_leaves_its_known_duration_alone_and_a_known_deviation_counts():
    log = DurationLog()
    for report in (
        SimpleNamespace(nodeid="suites/a.py::skipped", skipped=True, duration=0.01),
        SimpleNamespace(
            nodeid="suites/a.py::skipped", skipped=False, duration=0.01
        ),  # its teardown
        SimpleNamespace(nodeid="suites/a.py::xfail", skipped=True, duration=4.0, wasxfail="known"),
        SimpleNamespace(nodeid="suites/a.py::ran", skipped=False, duration=2.0),
    ):
        log.pytest_runtest_logreport(report)  # type: ignore[arg-type]
    assert log.seconds == {"suites/a.py::xfail": 4.0, "suites/a.py::ran": 2.0}


QUEUE = [
    "tests/test_controls.py",
    "suites/test_resilience.py::TestSharedSilence",
    "suites/test_fuzz.py::test_f[a]",
    "suites/test_errors.py::test_e[429]",
    "suites/test_stream.py::test_s[openai]",
]
WAITING = {"suites/test_resilience.py::TestSharedSilence", "suites/test_errors.py::test_e[429]"}


def test_a_waiting_lane_never_takes_a_computing_check_and_a_working_lane_takes_them_first(
    monkeypatch,
):
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    lanes = parallel.Lanes(WAITING, workers=8)
    assert [lanes.lane(f"gw{n}") for n in range(8)] == ["working"] * 2 + ["prompt"] * 2 + [
        "waiting"
    ] * 4
    assert lanes.pick("gw0", QUEUE) == "suites/test_fuzz.py::test_f[a]", (
        "computing checks first, longest first"
    )
    assert lanes.pick("gw7", QUEUE) == "suites/test_resilience.py::TestSharedSilence"
    computing_left = ["suites/test_fuzz.py::test_f[a]", "suites/test_stream.py::test_s[openai]"]
    assert lanes.pick("gw7", computing_left) is None, (
        "a waiting lane leaves computing checks to the working lanes"
    )
    assert lanes.pick("gw3", computing_left) is None, "and so does a prompt lane"
    assert lanes.pick("gw4", QUEUE) == "suites/test_resilience.py::TestSharedSilence", (
        "a waiting lane never self-tests"
    )
    assert lanes.pick("gw1", sorted(WAITING)) == sorted(WAITING)[0], (
        "a working lane with nothing to compute waits"
    )


def test_self_tests_and_timed_checks_go_to_the_prompt_lanes_at_full_priority(monkeypatch):
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    timed = "suites/test_resilience.py::test_leaving[anthropic]"
    lanes = parallel.Lanes(WAITING, workers=8, timed={timed})
    assert lanes.pick("gw2", [*QUEUE, timed]) == "tests/test_controls.py", (
        "the harness's own tests first"
    )
    assert lanes.pick("gw2", [*QUEUE[1:], timed]) == timed, "then the timed checks"
    assert lanes.pick("gw2", QUEUE[1:]) == "suites/test_resilience.py::TestSharedSilence", (
        "then the waiting ones"
    )
    assert lanes.pick("gw7", [timed, "tests/test_controls.py"]) is None, (
        "never at the lower priority"
    )


def test_without_waiting_checks_or_spare_workers_every_worker_is_a_working_lane(monkeypatch):
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    assert parallel.Lanes(set(), workers=8).lane("gw7") == "working", "no check waits"
    assert parallel.Lanes(WAITING, workers=2).lane("gw1") == "working", (
        "no worker beyond one a core"
    )
    assert parallel.Lanes(set(), workers=8).pick("gw7", QUEUE) == QUEUE[0], (
        "longest first, as without lanes"
    )


class _Item:
    def __init__(self, markers: tuple[str, ...] = (), fixtures: tuple[str, ...] = ()) -> None:
        self.markers, self.fixturenames = markers, fixtures

    def get_closest_marker(self, name: str) -> object:
        return name if name in self.markers else None


@pytest.mark.parametrize(
    ("item", "waits"),
    [
        (_Item(fixtures=("gateway", "fresh_model")), True),
        (_Item(markers=("e2e",)), True),
        (_Item(markers=("slow",)), True),
        (_Item(markers=("waits",)), True),
        (_Item(fixtures=("gateway",)), False),
        (_Item(markers=("timed",), fixtures=("fresh_model",)), False),
    ],
    ids=[
        "scripts-provider-faults",
        "runs-the-cli",
        "waits-out-a-silence",
        "says-so",
        "computes",
        "timed",
    ],
)
def test_a_check_waits_when_it_scripts_faults_runs_the_cli_waits_out_a_silence_or_says_so_unless_timed(  # noqa: E501
    item, waits
):
    assert parallel.waits(item) is waits  # type: ignore[arg-type]
