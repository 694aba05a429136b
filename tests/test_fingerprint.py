"""Fingerprints, deviation verdicts, recording, the file check and the outcome mapping, without a
gateway."""

from __future__ import annotations

import pytest

from harness.plugin.report import ReportCollector
from harness.protocol.client import Exchange
from harness.protocol.validators.sse import SSEEvent
from harness.tools.maintainer.deviations.record import NEW, problems, refresh
from harness.verdict.deviations import Deviation
from harness.verdict.fingerprint import envelope, event_order, exchange_summary, side_by_side
from harness.verdict.runs import compare
from harness.verdict.summary import verdict

FP = {
    "outcome": "call failed: AssertionError",
    "client": ["POST /v1/messages -> 400 openai-error:no_db_connection"],
    "provider_calls": {"anthropic": []},
    "gateway_key_at_provider": False,
}


def _ex(status: int, ctype: str, text: str) -> Exchange:
    return Exchange(
        "POST",
        "http://127.0.0.1:1/v1/messages?beta=true",
        {},
        {},
        status,
        {"content-type": ctype},
        text,
    )


@pytest.mark.parametrize(
    ("ctype", "text", "expected"),
    [
        (
            "application/json",
            '{"type":"error","error":{"type":"not_found_error","message":"m"}}',
            "anthropic-error:not_found_error",
        ),
        (
            "application/json",
            '{"error":{"message":"No connected db.","type":"no_db_connection"}}',
            "openai-error:no_db_connection",
        ),
        ("text/plain; charset=utf-8", "Internal Server Error", "text/plain"),
        ("application/json", '{"type":"message","content":[]}', "json:message"),
        ("application/json", "[1, 2]", "json list"),
        ("application/json", "{not json", "application/json (not JSON)"),
    ],
    ids=["anthropic", "openai", "text", "message", "list", "broken"],
)
def test_envelope_names_the_family_and_type_not_the_text(ctype, text, expected):
    assert envelope(_ex(400, ctype, text)) == expected


def test_event_order_collapses_deltas_and_ignores_pings():
    names = [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "ping",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert event_order(names) == (
        "message_start content_block_start content_block_delta+ content_block_stop "
        "message_delta message_stop"
    )


def test_a_swapped_stream_has_another_fingerprint():
    def stream(*names: str) -> Exchange:
        ex = _ex(200, "text/event-stream", "")
        ex.events = [SSEEvent(n, {"type": n}, "{}") for n in names]
        return ex

    good = stream(
        "message_start", "content_block_start", "content_block_delta", "content_block_stop"
    )
    swapped = stream(
        "content_block_start", "message_start", "content_block_delta", "content_block_stop"
    )
    assert exchange_summary(good) != exchange_summary(swapped)
    assert exchange_summary(good).startswith("POST /v1/messages -> 200 sse [message_start")


@pytest.mark.parametrize(
    ("observed", "verdict"),
    [
        (FP, "same"),
        (
            {**FP, "client": ["POST /v1/messages -> 400 anthropic-error:authentication_error"]},
            "improved",
        ),
        ({**FP, "client": ["POST /v1/messages -> 200 json:message"]}, "changed"),
        ({**FP, "client": ["POST /v1/messages -> 500 anthropic-error:api_error"]}, "changed"),
        ({**FP, "gateway_key_at_provider": True}, "security"),
        ({**FP, "unscripted": ["anthropic POST /v1/messages"]}, "regressed"),
        ({**FP, "outcome": "call failed: KeyError"}, "regressed"),
        ({"outcome": "passed"}, "fixed"),
    ],
    ids=[
        "same",
        "anthropic-envelope",
        "accepted",
        "5xx-but-anthropic",
        "key-leaked",
        "new-unscripted-request",
        "crash-not-assertion",
        "passes",
    ],
)
def test_a_listed_check_is_judged_by_its_fingerprint(observed, verdict):
    assert Deviation("t.py::x", "ERR-001", "o", FP).judge(observed)[0] == verdict


def test_on_a_security_requirement_a_move_that_is_not_plainly_better_is_security():
    entry = Deviation("t.py::x", "AUTH-003", "o", FP)
    assert (
        entry.judge({**FP, "client": ["POST /v1/messages -> 200 json:message"]}, security=True)[0]
        == "security"
    )
    improved = {**FP, "client": ["POST /v1/messages -> 400 anthropic-error:authentication_error"]}
    assert entry.judge(improved, security=True)[0] == "improved"


def test_an_entry_without_fingerprint_never_confirms_a_failure():
    assert Deviation("t.py::x", "AUTH-003", "o").judge(FP)[0] == "changed"


def test_side_by_side_shows_only_the_fields_that_moved():
    text = side_by_side(FP, {**FP, "gateway_key_at_provider": True})
    assert "gateway_key_at_provider" in text
    assert "recorded: false" in text
    assert "observed: true" in text
    assert "client" not in text


def _result(nodeid: str, outcome: str, fp: dict | None = None, req: str = "AUTH-003") -> dict:
    return {
        "nodeid": f"suites/{nodeid}",
        "name": nodeid.split("::")[-1],
        "requirement": req,
        "level": "must",
        "outcome": outcome,
        "fingerprint": fp or {},
        "evidence": {"failure": "E   AssertionError: boom"},
    }


def test_record_keeps_explanations_adds_new_ones_and_drops_fixed_entries():
    existing = [
        Deviation("t.py::a[*]", "AUTH-003", "explained", None),
        Deviation("t.py::gone", "AUTH-003", "was broken", FP),
        Deviation("t.py::not-run", "AUTH-003", "kept", FP),
    ]
    run = {
        "results": [
            _result("t.py::a[1]", "fail", FP),
            _result("t.py::a[2]", "fail", FP),
            _result("t.py::gone", "pass", {"outcome": "passed"}),
            _result("t.py::new", "fail", FP),
        ]
    }
    out = refresh(existing, [run])
    by_check = {e["check"]: e for e in out.entries}
    assert set(by_check) == {"t.py::a[1]", "t.py::a[2]", "t.py::new", "t.py::not-run"}
    assert by_check["t.py::a[1]"]["observed"] == "explained"
    assert by_check["t.py::new"]["observed"].startswith(NEW)
    assert by_check["t.py::a[1]"]["fingerprint"] == FP
    assert out.removed == ["t.py::gone"]
    assert out.added == ["t.py::new"]
    assert out.untouched == 1


def test_record_refuses_a_fingerprint_that_differs_between_runs():
    first = {"results": [_result("t.py::a", "fail", FP)]}
    second = {"results": [_result("t.py::a", "fail", {**FP, "client": ["other"]})]}
    out = refresh([], [first, second])
    assert out.unstable == ["t.py::a"]
    assert out.entries == []


def _file(tmp_path, body: str):
    path = tmp_path / "d.yaml"
    path.write_text(body)
    return path


CHECKS = {"t.py::a[1]": "AUTH-003", "t.py::a[2]": "AUTH-003", "t.py::b": "ERR-001"}


def test_check_accepts_a_recorded_file(tmp_path):
    path = _file(
        tmp_path,
        "deviations:\n- {check: 't.py::b', requirement: ERR-001, observed: x, "
        "fingerprint: {outcome: 'call failed: AssertionError'}}\n",
    )
    assert problems(path, CHECKS) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("- {check: 't.py::b', requirement: ERR-001, observed: x}", "no fingerprint"),
        (
            "- {check: 't.py::zz', requirement: ERR-001, observed: x, fingerprint: {outcome: o}}",
            "matches no check",
        ),
        (
            "- {check: 't.py::a[*]', requirement: AUTH-003, observed: x, "
            "fingerprint: {outcome: o}}\n"
            "- {check: 't.py::a[1]', requirement: AUTH-003, observed: x, "
            "fingerprint: {outcome: o}}",
            "listed by 2 entries",
        ),
        (
            "- {check: 't.py::b', requirement: AUTH-003, observed: x, fingerprint: {outcome: o}}",
            "states ERR-001",
        ),
        (
            "- {check: 't.py::b', requirement: ERR-001, observed: x, fingerprint: {client: []}}",
            "has no outcome",
        ),
    ],
    ids=["no-fingerprint", "no-such-check", "listed-twice", "wrong-requirement", "hand-written"],
)
def test_check_names_each_broken_rule(tmp_path, body, problem):
    found = problems(_file(tmp_path, "deviations:\n" + body + "\n"), CHECKS)
    assert any(problem in p for p in found), found


def _run(results: list[dict], label: str = "LiteLLM x") -> dict:
    reqs = [
        {"id": "AUTH-003", "area": "AUTH", "level": "must", "statement": "s", "security": True},
        {"id": "ERR-001", "area": "ERR", "level": "must", "statement": "s", "security": False},
    ]
    return {"info": {"label": label}, "requirements": reqs, "results": results}


def test_compare_flags_a_deviation_whose_fingerprint_changed():
    base = _run([_result("t.py::a[1]", "deviation", FP)])
    same = _run([_result("t.py::a[1]", "deviation", FP)])
    moved = _run(
        [
            _result(
                "t.py::a[1]", "deviation", {**FP, "client": ["POST /v1/messages -> 500 text/plain"]}
            )
        ]
    )
    assert compare(base, same).regressions == []
    (change,) = compare(base, moved).regressions
    assert change.requirement["id"] == "AUTH-003"
    assert change.klass == "security", "worse on a security requirement"
    assert any("client[0].status: 400 → 500 (↓ worse)" in d for d in change.detail), change.detail


def test_banner_is_never_green_while_must_deviations_stand():
    banner = verdict(
        [_run([_result("t.py::a[1]", "deviation", FP), _result("t.py::b", "pass", req="ERR-001")])]
    )
    assert banner["state"] == "caution"
    assert banner["verdict"] == "SAFE"
    assert "not an all-clear" in banner["text"]
    assert "1 security-relevant" in banner["text"]
    assert any("AUTH-003" in line for line in banner["details"])
    clean = verdict([_run([_result("t.py::b", "pass", req="ERR-001")])])
    assert clean["state"] == "safe"


def _report(when: str, outcome: str, **extra) -> pytest.TestReport:
    props = [("req", "AUTH-003"), ("area", "AUTH"), ("level", "must"), *extra.pop("props", [])]
    report = pytest.TestReport(
        "suites/t.py::a",
        ("t.py", 1, "a"),
        {},
        outcome,
        "E   boom" if outcome != "passed" else None,
        when,
        user_properties=props,
    )
    for key, value in extra.items():
        setattr(report, key, value)
    return report


def test_a_teardown_failure_after_a_deviation_is_an_error_never_skipped(tmp_path, pytestconfig):
    collector = ReportCollector(pytestconfig, tmp_path)
    collector.pytest_runtest_logreport(_report("setup", "passed"))
    collector.pytest_runtest_logreport(
        _report(
            "call",
            "skipped",
            wasxfail="known deviation: x",
            props=[("fingerprint", FP), ("deviation", "deviation")],
        )
    )
    collector.pytest_runtest_logreport(_report("teardown", "failed"))
    result = collector.results["suites/t.py::a"]
    assert result.outcome == "error"
    assert result.fingerprint == FP


def test_a_fixed_deviation_is_reported_as_fixed(tmp_path, pytestconfig):
    collector = ReportCollector(pytestconfig, tmp_path)
    collector.pytest_runtest_logreport(
        _report(
            "call", "passed", props=[("fingerprint", {"outcome": "passed"}), ("deviation", "fixed")]
        )
    )
    assert collector.results["suites/t.py::a"].outcome == "fixed"
