"""The report is built from pytest's reports and renders every requirement with its outcome."""

from __future__ import annotations

import pytest

from harness.plugin.report import ReportCollector
from harness.report.render import render_html
from harness.verdict.catalogue import catalogue


def fake_report(
    nodeid: str, when: str, outcome: str, req: str = "PIPE-001", **extra
) -> pytest.TestReport:
    report = pytest.TestReport(
        nodeid,
        ("f.py", 1, "t"),
        {},
        outcome,
        "boom" if outcome == "failed" else None,
        when,
        user_properties=[("req", req), ("area", "PIPE"), ("level", "must")],
    )
    for key, value in extra.items():
        setattr(report, key, value)
    return report


@pytest.fixture
def collector(pytestconfig, tmp_path):
    return ReportCollector(pytestconfig, tmp_path)


def test_outcomes_are_mapped_from_each_phase(collector):
    collector.pytest_runtest_logreport(fake_report("a", "setup", "passed"))
    collector.pytest_runtest_logreport(fake_report("a", "call", "passed"))
    collector.pytest_runtest_logreport(fake_report("b", "call", "failed", req="PIPE-002"))
    collector.pytest_runtest_logreport(
        fake_report("c", "call", "skipped", req="PIPE-003", wasxfail="known")
    )
    collector.pytest_runtest_logreport(fake_report("d", "setup", "failed", req="PIPE-004"))
    outcomes = {r.nodeid: (r.outcome, r.reason) for r in collector.build().results}
    assert outcomes == {
        "a": ("pass", ""),
        "b": ("fail", ""),
        "c": ("deviation", "known"),
        "d": ("error", ""),
    }


def test_a_teardown_error_is_not_hidden_by_a_passing_call(collector):
    collector.pytest_runtest_logreport(fake_report("a", "call", "passed"))
    collector.pytest_runtest_logreport(fake_report("a", "teardown", "failed"))
    assert collector.build().results[0].outcome == "error"


def test_html_lists_every_requirement_and_marks_uncovered_ones(collector):
    collector.pytest_runtest_logreport(fake_report("a", "call", "failed"))
    html = render_html([collector.build().to_json()])
    for req in catalogue():
        assert f'data-req="{req}"' in html
    assert 'class="cell fail"' in html
    assert "not covered" in html
    assert "<script src" not in html, "the report is self-contained"
    assert "<link" not in html, "the report is self-contained"


def test_footer_gives_how_many_requirements_a_fault_proves(collector):
    run = collector.build().to_json()
    proven = run["info"]["proven"]["must"]
    assert proven["killed"] + proven["unreachable"] == proven["requirements"]
    html = render_html([run])
    assert (
        f"{proven['killed']} of {proven['requirements']} must-level requirements proven to fail "
        "on a fault" in html
    )
