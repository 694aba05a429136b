"""Validators for what a gateway sends back: the stream grammar and the SDK's body shapes."""

from __future__ import annotations

from harness.protocol.validators.bodies import (
    BodyShapeError,
    event_shape_violations,
    validate_error,
    validate_message,
    validate_model_list,
    validate_token_count,
)
from harness.protocol.validators.sse import SSEEvent, parse_sse
from harness.protocol.validators.stream import (
    RULES,
    StreamGrammarError,
    StreamResult,
    Violation,
    assert_valid_stream,
    validate_stream,
)


def check_stream(events: list[SSEEvent] | str) -> StreamResult:
    """The grammar plus the SDK's event shapes; never raises."""
    result = validate_stream(events)
    result.violations.extend(event_shape_violations(result.events))
    return result


__all__ = [
    "RULES",
    "BodyShapeError",
    "SSEEvent",
    "StreamGrammarError",
    "StreamResult",
    "Violation",
    "assert_valid_stream",
    "check_stream",
    "parse_sse",
    "validate_error",
    "validate_message",
    "validate_model_list",
    "validate_stream",
    "validate_token_count",
]
