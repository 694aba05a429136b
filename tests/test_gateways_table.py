"""One table across gateways (harness.verdict.gateways, issue 41): cells, profiles, verdicts."""

from __future__ import annotations

from typing import Any

from harness.verdict import gateways

REQS = [
    {"id": "AUTH-001", "area": "AUTH", "level": "must", "statement": "auth"},
    {"id": "STREAM-001", "area": "STREAM", "level": "must", "statement": "stream"},
    {"id": "BEDROCK-001", "area": "BEDROCK", "level": "must", "statement": "bedrock"},
    {"id": "PROTO-001", "area": "PROTO", "level": "should", "statement": "proto"},
]


def _run(gateway: str, outcomes: dict[str, str]) -> dict[str, Any]:
    results = [
        {
            "requirement": rid,
            "name": f"test_{rid}",
            "outcome": outcome,
            "reason": f"not applicable to {gateway}: needs bedrock" if outcome == "skipped" else "",
        }
        for rid, outcome in outcomes.items()
    ]
    return {
        "info": {"label": gateway, "gateway": gateway},
        "requirements": REQS,
        "results": results,
    }


def test_cells_say_pass_fail_not_applicable_or_unknown():
    run = _run("a", {"AUTH-001": "pass", "STREAM-001": "deviation", "BEDROCK-001": "skipped"})
    assert gateways.cell(run, "AUTH-001").state == "pass"
    assert gateways.cell(run, "STREAM-001").state == "fail"
    na = gateways.cell(run, "BEDROCK-001")
    assert (na.state, na.detail) == ("n/a", "not applicable to a: needs bedrock")
    assert gateways.cell(run, "PROTO-001").state == "unknown"


def test_core_conformance_and_profiles_per_gateway():
    good = _run("good", {"AUTH-001": "pass", "STREAM-001": "pass", "BEDROCK-001": "pass"})
    bad = _run("bad", {"AUTH-001": "fail", "STREAM-001": "pass", "BEDROCK-001": "skipped"})
    rows = gateways.table([good, bad])
    assert [r.profile for r in rows] == ["core", "core", "bedrock", "protocol fidelity"]
    v_good, v_bad = gateways.verdicts([good, bad], rows)
    assert (v_good["core"], v_good["claimed"], v_good["met"]) == (True, ["bedrock"], ["bedrock"])
    assert (v_bad["core"], v_bad["core_failing"], v_bad["claimed"]) == (False, 1, [])


def test_disagreement_and_a_requirement_failing_on_every_gateway_are_flagged():
    a = _run("a", {"AUTH-001": "pass", "STREAM-001": "fail"})
    b = _run("b", {"AUTH-001": "fail", "STREAM-001": "fail"})
    a_newer = _run("a", {"AUTH-001": "fail", "STREAM-001": "fail"})
    rows = {r.requirement["id"]: r for r in gateways.table([a, b])}
    assert rows["AUTH-001"].disagree
    assert not rows["AUTH-001"].fails_everywhere
    assert rows["STREAM-001"].fails_everywhere
    # Two versions of one gateway are not two gateways.
    same = {r.requirement["id"]: r for r in gateways.table([a_newer, a_newer])}
    assert not same["STREAM-001"].fails_everywhere
    assert "review the requirement" in gateways.markdown([a, b], list(rows.values()))
