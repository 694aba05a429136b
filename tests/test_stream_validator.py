"""The stream grammar validator accepts what the API sends and rejects every single break of it."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stream_strategies import STRUCTURAL, structural_positions, to_events, valid_streams

from harness.fakes import recorded
from harness.protocol.validators import (
    RULES,
    SSEEvent,
    StreamGrammarError,
    assert_valid_stream,
    check_stream,
    validate_stream,
)

RECORDED_VALID = list(recorded.VALID)


def ev(data: dict) -> SSEEvent:
    return to_events([(data["type"], data)])[0]


def text_stream() -> list[SSEEvent]:
    return to_events(
        [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": "msg_1",
                        "type": "message",
                        "role": "assistant",
                        "content": [],
                        "model": "m",
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": 1, "output_tokens": 1},
                    },
                },
            ),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": "Hi"},
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": 2},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
    )


@pytest.mark.parametrize("name", RECORDED_VALID, ids=str)
def test_recorded_transcript_is_accepted(name: str):
    result = check_stream(recorded.transcript(name))
    assert result.ok, [str(v) for v in result.violations]


def test_incomplete_transcript_is_rejected_naming_the_rule():
    text = recorded.transcript(recorded.BROKEN)
    with pytest.raises(StreamGrammarError, match=r"\[blocks-closed-before-message-delta\]"):
        assert_valid_stream(text)


def test_recorded_tool_use_arguments_are_reassembled():
    result = validate_stream(recorded.transcript("tool_use_response"))
    assert json.loads(result.blocks[1].partial_json) == {"location": "Paris"}
    assert result.stop_reason == "tool_use"


@given(valid_streams())
def test_generated_valid_stream_is_accepted(events):
    result = check_stream(events)
    assert result.ok, [str(v) for v in result.violations]


def _assert_rejected(events: list[SSEEvent]) -> None:
    assert not validate_stream(events).ok, "a broken stream was accepted"


@given(valid_streams(), st.data())
def test_dropping_a_structural_event_is_rejected(events, data):
    i = data.draw(st.sampled_from(structural_positions(events)))
    _assert_rejected(events[:i] + events[i + 1 :])


@given(valid_streams(), st.data())
def test_duplicating_a_structural_event_is_rejected(events, data):
    # The docs allow "one or more" message_delta events, so a second one is no break.
    positions = [i for i in structural_positions(events) if events[i].type != "message_delta"]
    i = data.draw(st.sampled_from(positions))
    _assert_rejected([*events[: i + 1], events[i], *events[i + 1 :]])


def _swappable(events: list[SSEEvent]) -> list[int]:
    """Adjacent pairs whose order matters: not two deltas of one block, and no ping."""
    out = []
    for i in range(len(events) - 1):
        a, b = events[i].type, events[i + 1].type
        if "ping" in (a, b) or a == b == "content_block_delta":
            continue
        out.append(i)
    return out


@given(valid_streams().filter(lambda es: bool(_swappable(es))), st.data())
def test_reordering_two_events_is_rejected(events, data):
    i = data.draw(st.sampled_from(_swappable(events)))
    swapped = [*events[:i], events[i + 1], events[i], *events[i + 2 :]]
    _assert_rejected(swapped)


@given(
    valid_streams().filter(lambda es: any(e.type.startswith("content_block") for e in es)),
    st.data(),
)
def test_changing_a_block_index_is_rejected(events, data):
    positions = [i for i, e in enumerate(events) if e.type.startswith("content_block")]
    i = data.draw(st.sampled_from(positions))
    mutated = copy.deepcopy(events[i].data)
    mutated["index"] += data.draw(st.sampled_from([-1, 1, 7]))
    _assert_rejected([*events[:i], ev(mutated), *events[i + 1 :]])


WRONG_DELTA = {
    "text_delta": {"type": "input_json_delta", "partial_json": "{}"},
    "input_json_delta": {"type": "text_delta", "text": "x"},
    "thinking_delta": {"type": "text_delta", "text": "x"},
    "signature_delta": {"type": "input_json_delta", "partial_json": "{}"},
}


@given(
    valid_streams().filter(lambda es: any(e.type == "content_block_delta" for e in es)), st.data()
)
def test_mismatching_a_delta_type_is_rejected(events, data):
    positions = [i for i, e in enumerate(events) if e.type == "content_block_delta"]
    i = data.draw(st.sampled_from(positions))
    mutated = copy.deepcopy(events[i].data)
    mutated["delta"] = WRONG_DELTA[mutated["delta"]["type"]]
    result = validate_stream([*events[:i], ev(mutated), *events[i + 1 :]])
    assert "delta-type-matches-block" in result.rules_broken()


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (lambda es: [ev({"type": "ping"}), es[1], es[0], *es[2:]], "first-event-is-message-start"),
        (lambda es: es[:-1], "stream-is-terminated"),
        (lambda es: [*es, ev({"type": "content_block_stop", "index": 0})], "message-stop-is-last"),
        (
            lambda es: [
                *es[:4],
                ev({"type": "message_delta", "delta": {"stop_reason": None}, "usage": {}}),
                es[5],
            ],
            "message-delta-has-stop-reason",
        ),
        (
            lambda es: [SSEEvent("message_begin", es[0].data, es[0].raw), *es[1:]],
            "event-name-matches-type",
        ),
        (
            lambda es: [es[0], SSEEvent("content_block_start", "not json", "not json"), *es[1:]],
            "data-is-json-object",
        ),
        (
            lambda es: [
                *es[:3],
                ev({"type": "error", "error": {"type": "overloaded_error", "message": "x"}}),
                *es[3:],
            ],
            "error-ends-stream",
        ),
        (lambda es: [*es[:3], ev({"type": "error", "detail": "boom"})], "error-event-shape"),
        (
            lambda es: [
                *es[:4],
                ev(
                    {
                        "type": "content_block_start",
                        "index": 1,
                        "content_block": {"type": "text", "text": ""},
                    }
                ),
                *es[4:],
            ],
            "blocks-closed-before-message-delta",
        ),
        (
            lambda es: [
                *es[:5],
                ev(
                    {
                        "type": "content_block_start",
                        "index": 1,
                        "content_block": {"type": "text", "text": ""},
                    }
                ),
                *es[5:],
            ],
            "no-content-after-message-delta",
        ),
        (
            lambda es: [
                *es[:2],
                ev(
                    {
                        "type": "content_block_start",
                        "index": 1,
                        "content_block": {"type": "text", "text": ""},
                    }
                ),
                *es[2:],
            ],
            "one-block-open-at-a-time",
        ),
    ],
    ids=[
        "block-before-message-start",
        "no-message-stop",
        "event-after-stop",
        "null-stop-reason",
        "wrong-event-name",
        "non-json-data",
        "event-after-error",
        "bad-error-event",
        "unclosed-block",
        "block-after-delta",
        "two-open-blocks",
    ],
)
def test_specific_break_names_its_rule(mutate, rule):
    result = validate_stream(mutate(text_stream()))
    assert rule in result.rules_broken(), [str(v) for v in result.violations]
    assert rule in RULES


def test_tool_input_that_is_not_json_is_rejected():
    events = text_stream()
    events[1] = ev(
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        }
    )
    events[2] = ev(
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"a": '},
        }
    )
    assert "tool-input-is-json" in validate_stream(events).rules_broken()


def test_mid_stream_error_ends_a_valid_stream():
    events = [
        *text_stream()[:3],
        ev({"type": "error", "error": {"type": "overloaded_error", "message": "o"}}),
    ]
    result = validate_stream(events)
    assert result.ok
    assert result.error == {"type": "overloaded_error", "message": "o"}


def test_unknown_event_type_is_tolerated_and_noted():
    events = text_stream()
    events.insert(2, ev({"type": "future_event", "x": 1}))
    result = validate_stream(events)
    assert result.ok
    assert any("future_event" in n for n in result.notes)


def test_sdk_shape_check_rejects_a_message_start_without_message():
    events = text_stream()
    events[0] = ev({"type": "message_start"})
    assert "event-shape" in check_stream(events).rules_broken()


def test_grammar_error_message_carries_the_transcript():
    with pytest.raises(StreamGrammarError) as info:
        assert_valid_stream(text_stream()[:-1])
    assert "event: content_block_delta" in str(info.value)
    assert "[stream-is-terminated]" in str(info.value)


def test_every_rule_is_documented():
    structural_rules = {
        "first-event-is-message-start",
        "message-stop-is-last",
        "block-index-contiguous",
    }
    assert structural_rules <= set(RULES)
    assert {
        "message_start",
        "content_block_start",
        "content_block_stop",
        "message_delta",
        "message_stop",
    } == STRUCTURAL


def test_pings_before_message_start_are_counted_not_refused():
    """The docs allow pings anywhere and the SDKs drop them, so a leading ping is counted for
    STREAM-013."""
    events = [ev({"type": "ping"}), ev({"type": "ping"}), *text_stream()]
    result = validate_stream(events)
    assert result.ok, result.violations
    assert result.leading_pings == 2
    assert validate_stream(text_stream()).leading_pings == 0
