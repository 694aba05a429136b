"""Hypothesis strategies for valid Messages streams, and single mutations that must break them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from harness.fakes.anthropic import message_events
from harness.fakes.script import Block, RedactedThinking, Reply, Text, Thinking, ToolUse, Usage
from harness.protocol.validators.sse import SSEEvent

STRUCTURAL = frozenset(
    {"message_start", "content_block_start", "content_block_stop", "message_delta", "message_stop"}
)

_words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | _words,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_words, inner, max_size=3),
    max_leaves=6,
)

texts = st.builds(
    lambda parts: Text("".join(parts), chunks=tuple(parts)),
    st.lists(_words, min_size=1, max_size=5),
)
tool_uses = st.builds(
    ToolUse,
    name=st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
    input=st.dictionaries(_words, _json_values, max_size=4),
    chunks=st.integers(1, 5),
)
thinkings = st.builds(
    Thinking, thinking=_words, signature=st.from_regex(r"[A-Za-z0-9+/]{8,40}", fullmatch=True)
)
redacted = st.builds(RedactedThinking, data=st.from_regex(r"[A-Za-z0-9+/]{8,40}", fullmatch=True))
blocks: st.SearchStrategy[Block] = st.one_of(texts, tool_uses, thinkings, redacted)
usages = st.builds(Usage, *(st.integers(0, 10_000) for _ in range(4)))
replies = st.builds(
    Reply,
    blocks=st.lists(blocks, min_size=0, max_size=5).map(tuple),
    stop_reason=st.sampled_from(
        ["end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"]
    ),
    usage=usages,
)


def to_events(pairs: list[tuple[str, dict[str, Any]]]) -> list[SSEEvent]:
    return [SSEEvent(name, data, json.dumps(data)) for name, data in pairs]


@st.composite
def valid_streams(draw: st.DrawFn) -> list[SSEEvent]:
    """A stream the real API could send: rendered from a random reply, with pings sprinkled in."""
    events = to_events(message_events(draw(replies), "claude-sonnet-4-5-20250929"))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(1, len(events) - 1))
        events.insert(at, SSEEvent("ping", {"type": "ping"}, '{"type": "ping"}'))
    return events


def structural_positions(events: list[SSEEvent]) -> list[int]:
    return [i for i, e in enumerate(events) if e.type in STRUCTURAL]
