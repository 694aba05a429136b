"""The kill matrix in CI: the suite passes a correct gateway, and each broken one fails every
requirement it breaks.

The controls are one real `pytest suites/` session in a subprocess against the reference gateway
(harness/gateway/reference/), its faults switched between checks (harness.plugin.killmatrix), read
back through the run's own JSON report (harness.tools.maintainer.controls). Each faulty gateway runs
only the checks of the requirements its fault promises to kill
(harness.gateway.reference.faults.KILLS), all of them: a promise no check keeps fails here. The full
matrix, every fault against every check, is `python -m harness controls`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.gateway.reference.faults import (
    AWAITING_A_FAULT,
    FAULTS,
    JUDGES_THE_CONFIG,
    KILLS,
    UNREACHABLE,
    kill_problems,
)
from harness.tools.maintainer.controls import (
    CLEAN,
    Control,
    matrix,
    plan,
    readme_block,
    replace_block,
    run_all,
    write,
)
from harness.verdict.catalogue import catalogue

LEVELS = {"must", "should", "info"}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def control_runs() -> dict[str, Control]:
    """The clean control (every check) and each fault on its promised requirements, in one session
    on two workers: the suite's own timing checks share the machine. The matrix of this commit is
    left in reports/ (controls.html and controls.json), so CI's output shows it (issue 38)."""
    started = time.monotonic()
    runs = run_all(plan(sorted(FAULTS), LEVELS, narrow=True), workers=2)
    data = matrix(runs, LEVELS)
    data["wall_s"] = round(time.monotonic() - started, 1)
    write(ROOT / "reports", data)
    return {c.impl: c for c in runs}


def test_every_fault_promises_what_it_breaks():
    assert set(KILLS) == set(FAULTS)
    assert all(KILLS.values()), [f for f, reqs in KILLS.items() if not reqs]


def test_every_requirement_is_killed_by_a_fault_or_says_why_not():
    """The catalogue check: 100% of must-level requirements proven, or named unreachable with the
    reason."""
    levels = {r.id: r.level for r in catalogue().values()}
    assert kill_problems(levels) == []
    assert not AWAITING_A_FAULT & {r for r, level in levels.items() if level == "must"}


def test_reference_gateway_passes_every_applicable_requirement(control_runs):
    run = control_runs[CLEAN]
    assert run.failing == set(), run.tail
    assert run.exit == 0, run.tail
    assert run.passed >= 300


def test_unreachable_requirements_are_not_run_on_the_reference_gateway(control_runs):
    """A requirement named unreachable has no check the reference runs (otherwise a fault could
    reach it), unless it judges the config alone."""
    assert control_runs[CLEAN].ran & (set(UNREACHABLE) - JUDGES_THE_CONFIG) == set()


@pytest.mark.parametrize("fault", sorted(FAULTS), ids=str)
def test_broken_reference_gateway_fails_every_requirement_it_breaks(control_runs, fault):
    run = control_runs[f"{CLEAN}:{fault}"]
    assert run.exit == 1, run.tail
    missed = KILLS[fault] - run.failing
    assert not missed, (
        f"{fault} ({FAULTS[fault]}) was promised to fail {sorted(missed)}; it failed only "
        f"{sorted(run.failing)}\n{run.tail}"
    )


def test_readme_block_is_current():
    """The README's "how strong is each check" block is generated from the promises; edit those, not
    it."""
    readme = ROOT / "README.md"
    assert replace_block(readme.read_text(), readme_block()) == readme.read_text(), (
        "stale: python -m harness controls --write-readme README.md"
    )
