"""The fuzz invariants catch what they must: fed broken answers, each names the invariant broken."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given, settings

from harness.fakes.journal import RecordedRequest
from suites.support.fuzzing import Case, broken_invariants, header_mistakes, valid_cases

KEY, UPSTREAM = "sk-gw-test-key", "sk-ant-upstream"
BODY = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
ENVELOPE = {"type": "error", "error": {"type": "invalid_request_error", "message": "no"}}


def _case(kind: str = "valid", body: dict | None = None) -> Case:
    body = BODY if body is None else body
    return Case(kind, json.dumps(body).encode(), [], body)


def _at_provider(body: dict, headers: dict[str, str] | None = None) -> RecordedRequest:
    return RecordedRequest(
        "POST", "/v1/messages", {}, headers or {}, json.dumps(body).encode(), "messages"
    )


def _names(case: Case, response: httpx.Response, received: list[RecordedRequest]) -> list[str]:
    return [name for name, _ in broken_invariants(case, response, received, KEY, UPSTREAM)]


def test_a_valid_request_answered_and_delivered_intact_breaks_nothing():
    assert _names(_case(), httpx.Response(200, json={"ok": True}), [_at_provider(BODY)]) == []


@pytest.mark.parametrize(
    ("case", "response", "received", "broken"),
    [
        (_case(), httpx.Response(400, json=ENVELOPE), [], "a valid request refused"),
        (
            _case(),
            httpx.Response(200, json={}),
            [_at_provider({**BODY, "max_tokens": 6})],
            "a valid body changed on the way",
        ),
        (
            _case("wrong-type"),
            httpx.Response(500, text="Internal Server Error"),
            [],
            "a 5xx for a client mistake (wrong-type)",
        ),
        (
            _case("invalid-json"),
            httpx.Response(400, json={"error": {"message": "bad", "code": "400"}}),
            [],
            "a 4xx outside Anthropic's envelope (invalid-json)",
        ),
        (
            _case("junk-header"),
            httpx.Response(400, json={**ENVELOPE, "echo": KEY}),
            [],
            "a key echoed in a response",
        ),
        (
            _case("junk-header"),
            httpx.Response(200, headers={"x-debug": UPSTREAM}),
            [],
            "a key echoed in a response",
        ),
        (
            _case(),
            httpx.Response(200, json={}),
            [_at_provider(BODY, {"x-api-key": KEY})],
            "the gateway key reached the provider",
        ),
    ],
    ids=[
        "valid-refused",
        "valid-changed",
        "5xx",
        "openai-envelope",
        "key-in-body",
        "key-in-header",
        "key-upstream",
    ],
)
def test_each_broken_answer_is_named(case, response, received, broken):
    assert broken in _names(case, response, received)


def test_a_mistake_refused_in_anthropics_envelope_breaks_nothing():
    assert _names(_case("wrong-type"), httpx.Response(400, json=ENVELOPE), []) == []


@settings(max_examples=50, deadline=None)
@given(case=valid_cases("m") | header_mistakes("m"))
def test_generated_cases_are_what_they_say(case):
    if case.valid:
        assert json.loads(case.body) == case.sent
    assert case.headers, "every case carries Claude Code's headers"
