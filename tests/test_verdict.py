"""The ranked comparison (harness.verdict): each field's order, each class, and what blocks."""

from __future__ import annotations

import datetime as dt

import pytest

from harness.verdict.classes import Verdict, Waiver, apply_waivers, classify
from harness.verdict.fields import grammar_broken, moves, status_move
from harness.verdict.runs import CheckVerdict, compare, mark_flaky

FAIL = "call failed: AssertionError"


@pytest.mark.parametrize(
    ("before", "after", "move"),
    [
        (500, 401, "better"),
        (0, 500, "better"),
        (500, 529, "better"),
        (529, 500, "worse"),
        (401, 500, "worse"),
        (400, 404, "changed"),
        (401, 200, "changed"),
        (200, 500, "changed"),
        (401, 401, None),
    ],
    ids=lambda v: str(v),
)
def test_status_order_is_4xx_then_a_specific_5xx_then_a_bare_500_then_no_answer(
    before, after, move
):
    assert status_move(before, after) == move


@pytest.mark.parametrize(
    ("order", "broken"),
    [
        (
            "message_start content_block_start content_block_delta+ content_block_stop "
            "message_delta message_stop",
            0,
        ),
        (
            "content_block_start message_start content_block_delta+ content_block_stop "
            "message_delta message_stop",
            1,
        ),
        ("message_start content_block_start content_block_delta+ error", 0),
        ("message_start content_block_start content_block_delta+ error message_stop", 2),
        ("message_start content_block_start content_block_delta+", 2),
    ],
    ids=["whole", "swapped", "error-ends-it", "stop-after-error", "cut-short"],
)
def test_stream_grammar_counts_the_rules_broken(order, broken):
    assert grammar_broken(order) == broken


def _fp(*client: str, **extra: object) -> dict:
    return {"outcome": FAIL, "client": list(client), **extra}


@pytest.mark.parametrize(
    ("before", "after", "klass"),
    [
        (
            _fp("POST /v1/messages -> 400 openai-error:invalid_request_error"),
            _fp("POST /v1/messages -> 400 anthropic-error:invalid_request_error"),
            "improved",
        ),
        (
            _fp("POST /v1/messages -> 500 text/plain"),
            _fp("POST /v1/messages -> 529 anthropic-error:overloaded_error"),
            "improved",
        ),
        (
            _fp("POST /v1/messages -> 400 anthropic-error:invalid_request_error"),
            _fp("POST /v1/messages -> 500 anthropic-error:api_error"),
            "regressed",
        ),
        (
            _fp("POST /v1/messages -> 400 anthropic-error:invalid_request_error"),
            _fp("POST /v1/messages -> 500 openai-error:api_error"),
            "regressed",
        ),
        (
            _fp("POST /v1/messages -> 400 openai-error:invalid_request_error"),
            _fp("POST /v1/messages -> 500 anthropic-error:api_error"),
            "changed",
        ),
        (
            _fp("POST /v1/messages -> 400 anthropic-error:invalid_request_error"),
            _fp("POST /v1/messages -> 404 openai-error:not_found_error"),
            "changed",
        ),
        (
            _fp(declared={"changed on the way to the provider": ["$.a: dropped", "$.b: dropped"]}),
            _fp(declared={"changed on the way to the provider": ["$.a: dropped"]}),
            "improved",
        ),
        (
            _fp(declared={"pings before message_start": 1}),
            _fp(declared={"pings before message_start": 2}),
            "changed",
        ),
        (_fp(gateway_key_at_provider=False), _fp(gateway_key_at_provider=True), "security"),
        (_fp(), _fp(network_escape=["example.com:443"]), "security"),
    ],
    ids=[
        "openai->anthropic-envelope",
        "bare-500->provider-529",
        "400->500",
        "400->500-openai",
        "status-worse-envelope-better",
        "4xx-to-other-4xx",
        "fewer-fields-lost",
        "unranked-declared",
        "key-leaked",
        "escape",
    ],
)
def test_a_failing_check_is_classed_by_its_fields(before, after, klass):
    assert classify("fail", before, "fail", after, security=False)[0] == klass


def test_a_declared_direction_ranks_a_value_the_name_alone_does_not():
    before, after = (
        _fp(declared={"betas at provider": ["a"]}),
        _fp(declared={"betas at provider": ["a", "b"]}),
    )
    assert classify("fail", before, "fail", after, False)[0] == "changed"
    assert (
        classify("fail", before, "fail", after, False, {"betas at provider": "more"})[0]
        == "improved"
    )


def test_outcomes_decide_before_fields():
    ok, bad = {"outcome": "passed"}, _fp("POST /v1/messages -> 500 text/plain")
    assert classify("pass", ok, "fail", bad, False)[0] == "regressed"
    assert classify("fail", bad, "pass", ok, False)[0] == "fixed"
    assert classify("absent", None, "fail", bad, False)[0] == "new failure"
    assert classify("pass", ok, "fail", bad, True)[0] == "security"
    crashed = {**_fp(), "outcome": "call failed: TimeoutError"}
    assert classify("fail", _fp(), "fail", crashed, False)[0] == "regressed", (
        "an assertion never covers a crash"
    )


def test_a_passing_check_whose_key_leaked_is_security_even_though_it_passes():
    klass, moved = classify(
        "pass",
        {"outcome": "passed", "gateway_key_at_provider": False},
        "pass",
        {"outcome": "passed", "gateway_key_at_provider": True},
        security=False,
    )
    assert klass == "security"
    assert [m.arrow() for m in moved] == ["gateway_key_at_provider: false → true (↓ worse)"]


@pytest.mark.parametrize("level", ["must", "should", "info"])
def test_security_blocks_at_every_level_and_a_regression_only_at_must(level):
    security = CheckVerdict("t::a", "R-1", level, "security", "pass", "pass")
    regressed = CheckVerdict("t::b", "R-2", level, "regressed", "pass", "fail")
    assert security.blocks()
    assert regressed.blocks() == (level == "must")
    assert regressed.blocks(fail_on_should=True) == (level in ("must", "should"))


def test_changes_block_unless_warned_and_the_banner_says_which():
    changed = CheckVerdict("t::a", "R-1", "must", "changed", "fail", "fail")
    fixed = CheckVerdict("t::b", "R-2", "must", "fixed", "fail", "pass")
    assert Verdict([changed, fixed]).exit_code() == 1
    warned = Verdict([changed, fixed], changes="warn")
    assert warned.exit_code() == 0
    assert warned.state() == "SAFE, 1 CHANGES TO REVIEW"
    assert Verdict([fixed]).state() == "SAFE"
    assert (
        Verdict([CheckVerdict("t::c", "R-3", "info", "security", "pass", "pass"), fixed]).state()
        == "NOT SAFE"
    )


def test_a_waiver_lets_a_security_change_through_only_until_it_expires():
    check = CheckVerdict("suites/t.py::a[x]", "AUTH-005", "info", "security", "pass", "pass")
    waiver = Waiver("t.py::a[*]", "vendor fix due; tracked in TICKET-1", dt.date(2026, 12, 31))
    apply_waivers([check], [waiver], today=dt.date(2026, 12, 3))
    assert check.waived is waiver
    assert not check.blocks()
    apply_waivers([check], [waiver], today=dt.date(2027, 1, 1))
    assert check.blocks(), "an expired waiver accepts nothing"


def _run(*results: dict) -> dict:
    reqs = [{"id": "ERR-001", "area": "ERR", "level": "must", "statement": "s", "security": False}]
    return {"info": {"label": "x"}, "requirements": reqs, "results": list(results)}


def _result(nodeid: str, outcome: str, fp: dict) -> dict:
    return {
        "nodeid": nodeid,
        "name": nodeid,
        "requirement": "ERR-001",
        "level": "must",
        "outcome": outcome,
        "fingerprint": fp,
    }


def test_a_check_that_breaks_beside_a_deviating_sibling_is_regressed_not_unchanged():
    deviating = _result("t::a[1]", "deviation", _fp("POST /v1/messages -> 500 text/plain"))
    base = _run(deviating, _result("t::a[2]", "pass", {"outcome": "passed"}))
    cand = _run(deviating, _result("t::a[2]", "fail", _fp("POST /v1/messages -> 500 text/plain")))
    (change,) = compare(base, cand).changes
    assert change.klass == "regressed"
    assert compare(base, cand).verdict.exit_code() == 1


def test_two_runs_that_disagree_make_a_check_flaky():
    first = [CheckVerdict("t::a", "R", "must", "regressed", "pass", "fail")]
    mark_flaky(first, [CheckVerdict("t::a", "R", "must", "same", "pass", "pass")])
    assert first[0].klass == "flaky"
    agree = [CheckVerdict("t::b", "R", "must", "regressed", "pass", "fail")]
    mark_flaky(agree, [CheckVerdict("t::b", "R", "must", "regressed", "pass", "fail")])
    assert agree[0].klass == "regressed"


def test_moves_list_every_differing_field_outcome_first():
    before = _fp("POST /v1/messages -> 400 openai-error:x", unscripted=["a"])
    after = {"outcome": "passed", "client": ["POST /v1/messages -> 200 json:message"]}
    assert [m.field for m in moves(before, after)] == [
        "outcome",
        "client[0].status",
        "client[0].body",
        "unscripted",
    ]
