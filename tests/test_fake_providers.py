"""The fake providers answer from their script, in their own wire format, and journal everything."""

from __future__ import annotations

import itertools
import json
import time

import httpx
import pytest

from harness.fakes import (
    FakeAnthropic,
    Fault,
    HttpError,
    ModelList,
    RawSSE,
    Recorded,
    RedactedThinking,
    Reply,
    StreamError,
    Text,
    Thinking,
    TokenCount,
    ToolUse,
    UnexpectedRequestError,
    Usage,
    recorded,
)
from harness.protocol.validators import check_stream, validate_error, validate_message
from harness.protocol.validators.sse import iter_sse

VERSION = {"anthropic-version": "2023-06-01"}
BODY = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 10,
    "messages": [{"role": "user", "content": "hi"}],
}


def post(url: str, **kwargs) -> httpx.Response:
    """A POST as an Anthropic client sends it: with the anthropic-version header the real API
    requires."""
    return httpx.post(url, headers={**VERSION, **kwargs.pop("headers", {})}, **kwargs)


def post_stream(url: str, body: dict) -> list:
    with (
        httpx.Client(trust_env=False, headers=VERSION) as client,
        client.stream("POST", url, json=body) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(iter_sse(response))


@pytest.mark.lenient_provider("the journal test sends made-up anthropic-beta values")
def test_journal_records_method_path_query_headers_and_body(anthropic_provider):
    anthropic_provider.script("messages", Reply.text("hi"))
    post(
        anthropic_provider.url + "/v1/messages?beta=true",
        json=BODY,
        headers={"anthropic-beta": "a,b", "x-api-key": "k"},
    )
    got = anthropic_provider.last("messages")
    assert (got.method, got.path, got.query) == ("POST", "/v1/messages", {"beta": ["true"]})
    assert got.header("Anthropic-Beta") == "a,b"
    assert got.header("x-api-key") == "k"
    assert got.body == BODY


def test_unscripted_request_is_answered_with_an_error_and_fails_the_test():
    provider = FakeAnthropic().start()
    try:
        response = post(provider.url + "/v1/messages", json=BODY)
        assert response.status_code == 501
        assert response.json()["type"] == "error"
        assert len(provider.unexpected) == 1
        with pytest.raises(UnexpectedRequestError, match="nobody scripted"):
            provider.assert_no_unexpected()
    finally:
        provider.stop()


def test_unknown_route_is_journalled_as_unexpected():
    provider = FakeAnthropic().start()
    try:
        assert httpx.get(provider.url + "/v2/nothing").status_code == 501
        assert provider.unexpected[0].route is None
    finally:
        provider.stop()


def test_scripting_an_unknown_route_is_refused(anthropic_provider):
    with pytest.raises(ValueError, match="has no route 'chat'"):
        anthropic_provider.script("chat", Reply.text("x"))


def test_reply_is_used_the_scripted_number_of_times(anthropic_provider):
    anthropic_provider.script("messages", Reply.text("first"), times=2)
    anthropic_provider.script("messages", Reply.text("then"), times=None)
    texts = [
        post(anthropic_provider.url + "/v1/messages", json=BODY).json()["content"][0]["text"]
        for _ in range(4)
    ]
    assert texts == ["first", "first", "then", "then"]


SCENARIOS = {
    "text": Reply(blocks=(Text("Hello there, friend"),)),
    "tool-use": Reply(
        blocks=(ToolUse("get_weather", {"city": "Paris", "days": 3}, chunks=4),),
        stop_reason="tool_use",
    ),
    "thinking": Reply(blocks=(Thinking("Let me think."), Text("42"))),
    "redacted-thinking": Reply(blocks=(RedactedThinking(), Text("ok"))),
    "several-blocks": Reply(
        blocks=(Text("a"), ToolUse("f", {}), ToolUse("g", {"x": [1, 2]})), stop_reason="tool_use"
    ),
    "cache-usage": Reply(
        usage=Usage(5, 9, cache_creation_input_tokens=100, cache_read_input_tokens=200)
    ),
}


@pytest.mark.parametrize("reply", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_anthropic_stream_is_grammatical_and_matches_json(anthropic_provider, reply):
    anthropic_provider.script("messages", reply, times=2)
    events = post_stream(anthropic_provider.url + "/v1/messages", {**BODY, "stream": True})
    stream = check_stream(events)
    assert stream.ok, [str(v) for v in stream.violations]
    message = validate_message(post(anthropic_provider.url + "/v1/messages", json=BODY).json())
    assert [b.type for b in stream.blocks] == [b.type for b in message.content]
    assert stream.stop_reason == message.stop_reason
    assert stream.usage["cache_read_input_tokens"] == message.usage.cache_read_input_tokens


def test_tool_arguments_arrive_in_several_input_json_deltas(anthropic_provider):
    anthropic_provider.script("messages", SCENARIOS["tool-use"])
    stream = check_stream(
        post_stream(anthropic_provider.url + "/v1/messages", {**BODY, "stream": True})
    )
    assert len(stream.blocks[0].deltas) == 4
    assert json.loads(stream.blocks[0].partial_json) == {"city": "Paris", "days": 3}


def test_thinking_stream_carries_its_signature(anthropic_provider):
    anthropic_provider.script("messages", SCENARIOS["thinking"])
    stream = check_stream(
        post_stream(anthropic_provider.url + "/v1/messages", {**BODY, "stream": True})
    )
    assert stream.blocks[0].signature == Thinking("x").signature


def test_http_error_uses_the_provider_envelope_and_headers(anthropic_provider):
    anthropic_provider.script(
        "messages", HttpError(429, "rate_limit_error", "slow down", headers=(("retry-after", "7"),))
    )
    response = post(anthropic_provider.url + "/v1/messages", json=BODY)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert validate_error(response.json(), 429).error.message == "slow down"


def test_mid_stream_error_event_ends_the_stream(anthropic_provider):
    anthropic_provider.script("messages", Reply(stream_error=StreamError(after_events=4)))
    stream = check_stream(
        post_stream(anthropic_provider.url + "/v1/messages", {**BODY, "stream": True})
    )
    assert stream.ok
    assert stream.types[-1] == "error"
    assert "message_stop" not in stream.types


def test_delay_spaces_the_events_out(anthropic_provider):
    anthropic_provider.script("messages", Reply(blocks=(Text("a b c"),), delay=0.05))
    post_stream(anthropic_provider.url + "/v1/messages", {**BODY, "stream": True})
    # On the fake's own clock: arrival at this client also carries the machine's load (the tests run
    # side by side).
    emitted = anthropic_provider.last("messages").emitted_at
    gaps = [b - a for a, b in itertools.pairwise(emitted)]
    assert len(gaps) >= 3
    assert min(gaps) >= 0.045, gaps


def test_raw_transcript_is_replayed_verbatim(anthropic_provider):
    text = recorded.transcript("tool_use_response")
    anthropic_provider.script("messages", RawSSE(text))
    events = post_stream(anthropic_provider.url + "/v1/messages", {**BODY, "stream": True})
    assert [e.raw for e in events] == [e.raw for e in check_stream(text).events]


def test_an_answer_kept_for_some_requests_waits_for_one(anthropic_provider):
    anthropic_provider.script(
        "messages", Reply.text("main turn"), when=lambda r: bool(r.body.get("tools"))
    )
    anthropic_provider.script("messages", Reply.text("anything else"))
    tool = {"name": "Read", "description": "read a file", "input_schema": {"type": "object"}}
    side = post(anthropic_provider.url + "/v1/messages", json=BODY)
    main = post(anthropic_provider.url + "/v1/messages", json={**BODY, "tools": [tool]})
    assert "anything else" in side.text
    assert "main turn" in main.text


def test_count_tokens_and_models(anthropic_provider):
    anthropic_provider.script("count_tokens", TokenCount(42))
    anthropic_provider.script("models", ModelList(("a", "b")))
    assert post(anthropic_provider.url + "/v1/messages/count_tokens", json=BODY).json() == {
        "input_tokens": 42
    }
    assert [m["id"] for m in httpx.get(anthropic_provider.url + "/v1/models").json()["data"]] == [
        "a",
        "b",
    ]


def test_openai_chat_completion_json_and_stream(openai_provider):
    reply = Reply(
        blocks=(Text("hi there"), ToolUse("f", {"a": 1})),
        stop_reason="tool_use",
        usage=Usage(3, 4, cache_read_input_tokens=2),
    )
    openai_provider.script("chat", reply, times=2)
    url = openai_provider.url + "/v1/chat/completions"
    body = post(url, json={"model": "gpt-4o", "messages": []}).json()
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == '{"a": 1}'
    assert body["usage"]["prompt_tokens_details"]["cached_tokens"] == 2
    events = post_stream(url, {"model": "gpt-4o", "messages": [], "stream": True})
    assert events[-1].data == "[DONE]"
    assert (
        "".join(e.data["choices"][0]["delta"].get("content") or "" for e in events[:-2])
        == "hi there"
    )


def test_openai_responses_json_and_stream(openai_provider):
    openai_provider.script("responses", Reply(blocks=(Text("yo"), ToolUse("f", {}))), times=2)
    url = openai_provider.url + "/v1/responses"
    body = post(url, json={"model": "gpt-4o", "input": "x"}).json()
    assert [o["type"] for o in body["output"]] == ["message", "function_call"]
    events = post_stream(url, {"model": "gpt-4o", "input": "x", "stream": True})
    assert events[0].event == "response.created"
    assert events[-1].data["response"]["status"] == "completed"
    assert [e.data["sequence_number"] for e in events] == list(range(len(events)))


def test_openai_error_uses_openai_envelope(openai_provider):
    openai_provider.script("chat", HttpError(401, "invalid_api_key", "bad key"))
    response = post(
        openai_provider.url + "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "message": "bad key",
            "type": "invalid_api_key",
            "param": None,
            "code": "invalid_api_key",
        }
    }


def test_reset_forgets_script_and_journal(make_anthropic_provider):
    make_anthropic_provider.script("messages", Reply.text("x"))
    make_anthropic_provider.reset()
    assert make_anthropic_provider.received() == []
    assert post(make_anthropic_provider.url + "/v1/messages", json=BODY).status_code == 501
    make_anthropic_provider.reset()


# -- as strict as the real provider -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "status", "kind", "wording"),
    [
        (
            {**BODY, "model": "claude-sonnet-9-9"},
            {},
            404,
            "not_found_error",
            "model: claude-sonnet-9-9",
        ),
        ("{not json", {}, 400, "invalid_request_error", "error parsing the body"),
        ([1, 2], {}, 400, "invalid_request_error", "error parsing the body"),
        (
            {k: v for k, v in BODY.items() if k != "max_tokens"},
            {},
            400,
            "invalid_request_error",
            "max_tokens: Field required",
        ),
        (
            BODY,
            {"anthropic-beta": "interleaved-thinking-2025-05-14,made-up-2099-01-01"},
            400,
            "invalid_request_error",
            "Unexpected value(s) `made-up-2099-01-01` for the `anthropic-beta` header",
        ),
    ],
    ids=["unknown-model", "malformed", "not-an-object", "no-max-tokens", "unknown-beta"],
)
def test_the_fake_anthropic_refuses_what_anthropic_refuses(
    anthropic_provider, body, headers, status, kind, wording
):
    anthropic_provider.script("messages", Reply.text("should not be sent"), optional=True)
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    response = post(anthropic_provider.url + "/v1/messages", content=content, headers=headers)
    assert response.status_code == status
    error = validate_error(response.json(), status)
    assert error.error.type == kind
    assert wording in error.error.message
    assert anthropic_provider.last().answer.startswith("refused by provider rule")


def test_count_tokens_needs_no_max_tokens(anthropic_provider):
    anthropic_provider.script("count_tokens", TokenCount(3))
    body = {k: v for k, v in BODY.items() if k != "max_tokens"}
    assert post(anthropic_provider.url + "/v1/messages/count_tokens", json=body).json() == {
        "input_tokens": 3
    }


@pytest.mark.lenient_provider("proves that a check can loosen the fake, and that it says so")
def test_a_check_may_loosen_the_fake_on_purpose(anthropic_provider):
    anthropic_provider.script("messages", Reply.text("accepted"))
    response = post(
        anthropic_provider.url + "/v1/messages", json={**BODY, "model": "claude-sonnet-9-9"}
    )
    assert response.status_code == 200


def test_a_recording_is_never_second_guessed(anthropic_provider):
    anthropic_provider.script("messages", Recorded("anthropic/sdk-basic-response"))
    response = post(anthropic_provider.url + "/v1/messages", json={"model": "claude-3-opus-latest"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "status", "wording"),
    [
        (
            "/v1/chat/completions",
            {"model": "gpt-9", "messages": []},
            404,
            "The model `gpt-9` does not exist",
        ),
        ("/v1/responses", {"model": "gpt-4o"}, 400, "Missing required parameter: 'input'"),
        ("/v1/chat/completions", {"messages": []}, 400, "Missing required parameter: 'model'"),
    ],
    ids=["unknown-model", "responses-without-input", "no-model"],
)
def test_the_fake_openai_refuses_what_openai_refuses(openai_provider, path, body, status, wording):
    openai_provider.script_generation(Reply.text("should not be sent"), optional=True)
    response = post(openai_provider.url + path, json=body)
    assert response.status_code == status
    assert wording in response.json()["error"]["message"]


# -- transport faults (RESIL) ---------------------------------------------------------------------


def test_a_silent_fake_notices_the_client_hanging_up(anthropic_provider):
    anthropic_provider.script("messages", Fault("silence", Reply.text("too late"), seconds=5.0))
    with pytest.raises(httpx.ReadTimeout):
        post(anthropic_provider.url + "/v1/messages", json=BODY, timeout=0.5)
    left = time.monotonic()
    deadline = left + 3
    while anthropic_provider.last().peer_gone_at is None and time.monotonic() < deadline:
        time.sleep(0.05)
    gone = anthropic_provider.last().peer_gone_at
    assert gone is not None
    assert gone - left < 0.5


def test_a_silent_fake_answers_after_its_silence(anthropic_provider):
    anthropic_provider.script("messages", Fault("silence", Reply.text("late"), seconds=0.5))
    started = time.monotonic()
    response = post(anthropic_provider.url + "/v1/messages", json=BODY, timeout=5)
    assert response.json()["content"][0]["text"] == "late"
    assert time.monotonic() - started >= 0.5


def test_dropping_mid_body_truncates_the_answer(anthropic_provider):
    anthropic_provider.script(
        "messages", Fault("drop-body", Reply.text("a long enough answer to cut"))
    )
    with pytest.raises(httpx.RemoteProtocolError):
        post(anthropic_provider.url + "/v1/messages", json=BODY, timeout=5)
    assert anthropic_provider.last().fault == "drop-body"


def test_dropping_mid_stream_sends_only_the_first_events(anthropic_provider):
    anthropic_provider.script("messages", Fault("drop-stream", Reply.text("cut short"), after=2))
    events = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST",
            anthropic_provider.url + "/v1/messages",
            json={**BODY, "stream": True},
            headers=VERSION,
            timeout=5,
        ) as response,
    ):
        events.extend(e.event for e in iter_sse(response))
    assert events == ["message_start", "ping"]


def test_a_client_leaving_a_stream_is_noticed(anthropic_provider):
    pieces = tuple(f" w{i}" for i in range(30))
    anthropic_provider.script(
        "messages", Reply(blocks=(Text("".join(pieces), chunks=pieces),), delay=0.05)
    )
    with httpx.stream(
        "POST",
        anthropic_provider.url + "/v1/messages",
        json={**BODY, "stream": True},
        headers=VERSION,
        timeout=5,
    ) as response:
        next(response.iter_lines())
    time.sleep(0.5)
    sent = anthropic_provider.last()
    assert sent.peer_gone_at is not None
    assert len(sent.emitted_at) < len(sent.response_pauses)
