"""STREAM: streamed replies keep their content, shape, usage and timing through the gateway.

Every streamed response in every suite is also run through the grammar validator
by the client; these checks add what the grammar cannot see.
"""

from __future__ import annotations

import json

import pytest

from harness.fakes import (
    Recorded,
    RedactedThinking,
    Reply,
    StreamError,
    Text,
    Thinking,
    ToolUse,
    Usage,
    recorded,
)
from harness.gateway.configs import OPENAI_MODEL, SONNET
from harness.plugin.provider_clock import timing
from harness.protocol.client import message_body
from harness.protocol.validators import validate_stream

from .support.asserts import (
    PROMPT_EVENT_GAP_S,
    PROMPT_STREAMS,
    PROVIDER_PARAMS,
    assert_opens_with_message_start,
    assert_status,
)
from .support.pacing import best_try

PROVIDERS = {"anthropic": SONNET, "openai": OPENAI_MODEL}


def _exchange(
    gateway, anthropic_provider, openai_provider, provider: str, reply: Reply, **body_extra
):
    if provider == "openai":
        openai_provider.script_generation(reply)
    else:
        anthropic_provider.script("messages", reply)
    ex = gateway.messages(message_body(PROVIDERS[provider], stream=True, **body_extra))
    assert_status(ex, 200)
    return ex


def _stream(
    gateway, anthropic_provider, openai_provider, provider: str, reply: Reply, **body_extra
):
    ex = _exchange(gateway, anthropic_provider, openai_provider, provider, reply, **body_extra)
    assert ex.stream is not None, (
        f"expected an SSE stream, observed content-type {ex.headers.get('content-type')}"
    )
    return ex.stream


@pytest.mark.req("STREAM-001")
@pytest.mark.parametrize("provider", PROVIDER_PARAMS)
def test_streamed_text_arrives_whole(gateway, anthropic_provider, openai_provider, provider):
    """A streamed text reply arrives as a grammatical stream with the provider's text."""
    text = "The quick brown fox jumps over the lazy dog."
    stream = _stream(
        gateway, anthropic_provider, openai_provider, provider, Reply(blocks=(Text(text),))
    )
    assert [b.type for b in stream.blocks] == ["text"]
    assert stream.text == text


@pytest.mark.req("STREAM-013")
@pytest.mark.settings_sensitive  # a ping first was seen on defaults only (num_retries)
@pytest.mark.parametrize("provider", PROVIDER_PARAMS)
def test_prompt_stream_opens_with_message_start(
    gateway, anthropic_provider, openai_provider, provider, observe
):
    """A stream that starts promptly opens with message_start, with no ping ahead of it, however it
    is read."""
    reply = Reply.text("hello", delay=PROMPT_EVENT_GAP_S)
    streams = [
        _stream(gateway, anthropic_provider, openai_provider, provider, reply)
        for _ in range(PROMPT_STREAMS)
    ]
    assert_opens_with_message_start(streams, observe)


TOOL_INPUT = {
    "command": "ls -la /tmp",
    "description": "List files",
    "timeout": 120,
    "flags": ["a", "l"],
    "nested": {"quote": 'he said "hi"', "unicode": "café ✓"},
}


@pytest.mark.req("STREAM-002")
@pytest.mark.parametrize("provider", PROVIDER_PARAMS)
def test_streamed_tool_input_equals_provider_arguments(
    gateway, anthropic_provider, openai_provider, provider
):
    """A streamed tool_use block's joined partial_json equals the provider's tool arguments."""
    reply = Reply(
        blocks=(ToolUse("Bash", TOOL_INPUT, id="toolu_01StreamToolArgs00000001", chunks=5),),
        stop_reason="tool_use",
    )
    stream = _stream(gateway, anthropic_provider, openai_provider, provider, reply)
    tools = [b for b in stream.blocks if b.type == "tool_use"]
    assert len(tools) == 1
    assert tools[0].start.get("name") == "Bash"
    assert tools[0].start.get("id") == "toolu_01StreamToolArgs00000001"
    assert json.loads(tools[0].partial_json or "{}") == TOOL_INPUT


@pytest.mark.req("STREAM-003")
def test_streamed_thinking_keeps_its_signature(gateway, anthropic_provider, openai_provider):
    """A thinking block streams with its thinking text and its signature_delta preserved."""
    thinking = Thinking(
        "First, consider the question carefully.", signature="EqQBCgIYAhIMsignatureXYZ=="
    )
    stream = _stream(
        gateway,
        anthropic_provider,
        openai_provider,
        "anthropic",
        Reply(blocks=(thinking, Text("Answer."))),
    )
    assert [b.type for b in stream.blocks] == ["thinking", "text"]
    assert stream.blocks[0].thinking == thinking.thinking
    assert stream.blocks[0].signature == thinking.signature


@pytest.mark.req("STREAM-004")
def test_redacted_thinking_passes_through_verbatim(gateway, anthropic_provider, openai_provider):
    """A redacted_thinking block passes through verbatim."""
    block = RedactedThinking("EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP==")
    stream = _stream(
        gateway, anthropic_provider, openai_provider, "anthropic", Reply(blocks=(block, Text("ok")))
    )
    assert [b.type for b in stream.blocks] == ["redacted_thinking", "text"]
    assert stream.blocks[0].start.get("data") == block.data


@pytest.mark.req("STREAM-005")
@pytest.mark.parametrize("provider", PROVIDER_PARAMS)
def test_several_blocks_arrive_in_order(gateway, anthropic_provider, openai_provider, provider):
    """Several blocks in one reply arrive in order, each with its own index."""
    reply = Reply(
        blocks=(
            Text("Reading two files."),
            ToolUse("Read", {"file_path": "/a"}, id="toolu_01A"),
            ToolUse("Read", {"file_path": "/b"}, id="toolu_01B"),
        ),
        stop_reason="tool_use",
    )
    stream = _stream(gateway, anthropic_provider, openai_provider, provider, reply)
    assert [b.type for b in stream.blocks] == ["text", "tool_use", "tool_use"]
    assert [json.loads(b.partial_json) for b in stream.blocks[1:]] == [
        {"file_path": "/a"},
        {"file_path": "/b"},
    ]


@pytest.mark.req("STREAM-006")
@pytest.mark.parametrize("provider", PROVIDER_PARAMS)
def test_stream_usage_is_what_the_provider_reported(
    gateway, anthropic_provider, openai_provider, provider, observe
):
    """Stream usage (input, output, cache read, cache creation) is what the provider reported."""
    creation = 300 if provider == "anthropic" else 0  # OpenAI has no cache-creation count
    usage = Usage(
        input_tokens=25,
        output_tokens=17,
        cache_creation_input_tokens=creation,
        cache_read_input_tokens=400,
    )
    stream = _stream(gateway, anthropic_provider, openai_provider, provider, Reply(usage=usage))
    observe("usage", stream.usage)
    observed = {
        k: stream.usage.get(k, 0)
        for k in (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
        )
    }
    assert observed == {
        "input_tokens": 25,
        "output_tokens": 17,
        "cache_read_input_tokens": 400,
        "cache_creation_input_tokens": creation,
    }


@pytest.mark.req("STREAM-007")
def test_mid_stream_error_reaches_the_client_without_invented_stop(
    gateway, anthropic_provider, openai_provider
):
    """A mid-stream error event reaches the client, and no message_stop is invented after it."""
    reply = Reply(
        blocks=(Text("partial answer that will be cut"),),
        stream_error=StreamError(after_events=5, type="overloaded_error", message="Overloaded"),
    )
    stream = _stream(gateway, anthropic_provider, openai_provider, "anthropic", reply)
    assert stream.error is not None, f"no error event reached the client; events: {stream.types}"
    assert stream.error.get("type") == "overloaded_error"
    assert "message_stop" not in stream.types


@pytest.mark.req("STREAM-008")
@pytest.mark.parametrize("provider", PROVIDER_PARAMS)
def test_paced_events_arrive_as_they_are_produced(
    gateway, anthropic_provider, openai_provider, provider, observe
):
    """With 200 ms between provider events, text arrives in order and no event is held back more
    than one gap."""
    gap = 0.2
    pieces = ("one", " two", " three", " four", " five", " six")

    def attempt() -> list[float]:
        stream = _stream(
            gateway,
            anthropic_provider,
            openai_provider,
            provider,
            Reply(blocks=(Text("".join(pieces), chunks=pieces),), delay=gap),
        )
        assert stream.text == "".join(pieces)
        arrivals = _text_arrivals(stream, pieces)
        return [round(a - arrivals[0], 3) for a in arrivals]

    def lateness(offsets: list[float]) -> float:
        return max(abs(o - i * gap) for i, o in enumerate(offsets)) - gap

    offsets = best_try(attempt, lateness, observe, "lateness beyond one gap (s)")
    observe("arrival offsets (s)", offsets, volatile=True)
    late = [(i, o) for i, o in enumerate(offsets) if abs(o - i * gap) > gap]
    assert late == [], f"expected piece i at ~{gap}*i s after the first; observed offsets {offsets}"


def _text_arrivals(stream, pieces: tuple[str, ...]) -> list[float]:
    """When the client had received each provider piece of text (arrival time of the completing
    event)."""
    targets = [len("".join(pieces[: i + 1])) for i in range(len(pieces))]
    arrivals, seen = [], 0
    for event in stream.events:
        delta = event.data.get("delta", {}) if isinstance(event.data, dict) else {}
        if delta.get("type") == "text_delta":
            seen += len(delta.get("text", ""))
            while len(arrivals) < len(targets) and seen >= targets[len(arrivals)]:
                arrivals.append(event.at)
    return arrivals


STOP_CASES = {
    "end_turn": (Reply.text("done", stop_reason="end_turn"), {}),
    "tool_use": (Reply(blocks=(ToolUse("Read", {"file_path": "/x"}),), stop_reason="tool_use"), {}),
    "max_tokens": (Reply.text("cut off", stop_reason="max_tokens"), {}),
    "stop_sequence": (
        Reply.text("up to the", stop_reason="stop_sequence", stop_sequence="###"),
        {"stop_sequences": ["###"]},
    ),
}


@pytest.mark.req("STREAM-009")
@pytest.mark.needs("openai")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(
    "config",
    [
        pytest.param("default", id="responses-api", marks=pytest.mark.gateway("default")),
        pytest.param(
            "openai-chat", id="chat-completions", marks=pytest.mark.gateway("openai-chat")
        ),
    ],
)
@pytest.mark.parametrize("expected", STOP_CASES, ids=str)
def test_openai_finish_reason_maps_to_stop_reason(
    gateway, openai_provider, expected, config, stream, observe
):
    """For an OpenAI-routed model the finish reason maps to the Anthropic stop_reason."""
    reply, extra = STOP_CASES[expected]
    openai_provider.script_generation(reply)
    ex = gateway.messages(message_body(OPENAI_MODEL, stream=stream, **extra))
    assert_status(ex, 200)
    observed = ex.stream.stop_reason if ex.stream else ex.json().get("stop_reason")
    observe("stop_reason", observed)
    assert observed == expected


@pytest.mark.req("STREAM-010")
@pytest.mark.parametrize("name", recorded.STREAMS, ids=recorded.stream_id)
def test_recorded_stream_survives_the_unified_endpoint(gateway, anthropic_provider, name):
    """A recorded Anthropic stream reaches the client through /v1/messages with the same content."""
    text = recorded.transcript(name)
    expected = validate_stream(text)
    anthropic_provider.script("messages", Recorded(recorded.cassette_name(name)))
    ex = gateway.messages(message_body(SONNET, stream=True))
    assert_status(ex, 200)
    got = ex.stream
    assert got is not None
    assert [b.type for b in got.blocks] == [b.type for b in expected.blocks]
    assert got.text == expected.text
    assert [b.partial_json for b in got.blocks] == [b.partial_json for b in expected.blocks]
    assert got.stop_reason == expected.stop_reason


ADDED_BOUND_MS = 500.0


@pytest.mark.req("STREAM-011")
@pytest.mark.parametrize("provider", PROVIDER_PARAMS)
def test_gateway_adds_little_delay_to_the_first_event_and_holds_none_back(
    gateway, anthropic_provider, openai_provider, provider, observe
):
    """On the provider's clock the gateway adds at most 500 ms to the first event and holds none
    back longer."""
    pieces = tuple(f" piece{i}" for i in range(10))
    fake = openai_provider if provider == "openai" else anthropic_provider

    def attempt():
        reply = Reply(blocks=(Text("".join(pieces), chunks=pieces),), delay=0.1)
        ex = _exchange(gateway, anthropic_provider, openai_provider, provider, reply)
        found = timing(ex, fake.received()[-1])
        assert found is not None, "no provider stream or no client events to compare"
        return found

    def over(found) -> float:
        return max(found.first_event_added_ms, found.max_held_back_ms) - ADDED_BOUND_MS

    found = best_try(attempt, over, observe, "over the bound (ms)")
    observe("first event added (ms)", found.first_event_added_ms, volatile=True)
    observe("max held back (ms)", found.max_held_back_ms, volatile=True)
    assert found.first_event_added_ms <= ADDED_BOUND_MS
    assert found.max_held_back_ms <= ADDED_BOUND_MS, f"held back: {found.pairs}"
