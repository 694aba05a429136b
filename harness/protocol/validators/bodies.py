"""Shape checks for non-stream bodies, error bodies and stream events, using the SDK's own types.

The official ``anthropic`` SDK's pydantic models are what Claude Code's sibling
clients parse responses with, so a body they reject is a body a client may choke on.
"""

from __future__ import annotations

import json
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import pydantic

from harness.protocol.validators.sse import SSEEvent
from harness.protocol.validators.stream import Violation

if TYPE_CHECKING:
    from anthropic.types import Message, MessageTokensCount


@cache
def sdk_types() -> ModuleType:
    """The SDK's types, imported on first use: about 1.7 CPU-seconds, which a process that validates
    nothing (a collection, the xdist controller, a command of the harness) need not pay."""
    import anthropic.types

    return anthropic.types


# Anthropic's documented status → error type table (API docs, "Errors").
ERROR_TYPE_FOR_STATUS: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}

DOCUMENTED_ERROR_TYPES = frozenset(ERROR_TYPE_FOR_STATUS.values())


class ErrorObject(pydantic.BaseModel):
    type: str
    message: str


class ErrorEnvelope(pydantic.BaseModel):
    """Anthropic's error envelope. Local rather than the SDK's union, which lags the docs
    (SDK 2.14 lacks ``request_too_large``)."""

    type: Literal["error"]
    error: ErrorObject
    request_id: str | None = None


class ModelEntry(pydantic.BaseModel):
    """The ``/v1/models`` entry fields Claude Code reads. Newer SDKs require more
    (capabilities, lifecycle) than the gateway protocol asks a gateway to send."""

    type: Literal["model"]
    id: str
    display_name: str
    created_at: str


EVENT_TYPES = (
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
)


@cache
def event_model(event_type: str) -> type[pydantic.BaseModel]:
    """The SDK's model of a stream event (RawMessageStartEvent for message_start ...)."""
    name = "Raw" + "".join(part.title() for part in event_type.split("_")) + "Event"
    model: type[pydantic.BaseModel] = getattr(sdk_types(), name)
    return model


# Block and delta types every SDK release since 0.40 knows; newer ones (compaction,
# fallback, ...) are left to the grammar, so an older SDK does not cry wolf.
SDK_BLOCKS = frozenset({"text", "tool_use", "server_tool_use", "thinking", "redacted_thinking"})
SDK_DELTAS = frozenset(
    {"text_delta", "input_json_delta", "thinking_delta", "signature_delta", "citations_delta"}
)


class BodyShapeError(AssertionError):
    """A body does not have the shape the Anthropic API documents."""

    def __init__(self, what: str, body: Any, detail: str) -> None:
        shown = json.dumps(body, indent=1)[:2000] if not isinstance(body, str) else body[:2000]
        super().__init__(f"{what}: {detail}\n--- body ---\n{shown}")


def _validate(model: type[pydantic.BaseModel], what: str, body: Any) -> Any:
    if not isinstance(body, dict):
        raise BodyShapeError(what, body, f"expected a JSON object, got {type(body).__name__}")
    try:
        return model.model_validate(body)
    except pydantic.ValidationError as exc:
        raise BodyShapeError(what, body, str(exc)) from None


def validate_message(body: Any) -> Message:
    """A non-stream ``/v1/messages`` response."""
    message: Message = _validate(sdk_types().Message, "not an Anthropic Message", body)
    if body.get("type") != "message" or body.get("role") != "assistant":
        raise BodyShapeError(
            "not an Anthropic Message", body, "type must be 'message' and role 'assistant'"
        )
    return message


def validate_error(body: Any, status: int | None = None) -> ErrorEnvelope:
    """An error body in Anthropic's envelope; with ``status``, also its documented type."""
    error: ErrorEnvelope = _validate(ErrorEnvelope, "not an Anthropic error envelope", body)
    if error.error.type not in DOCUMENTED_ERROR_TYPES:
        raise BodyShapeError(
            "not an Anthropic error envelope",
            body,
            f"error.type {error.error.type!r} is not a documented Anthropic error type",
        )
    if status is not None and status in ERROR_TYPE_FOR_STATUS:
        expected = ERROR_TYPE_FOR_STATUS[status]
        if error.error.type != expected:
            raise BodyShapeError(
                "error type does not match the HTTP status",
                body,
                f"status {status} documents type {expected!r}, body says {error.error.type!r}",
            )
    return error


def validate_token_count(body: Any) -> MessageTokensCount:
    count: MessageTokensCount = _validate(
        sdk_types().MessageTokensCount, "not a count_tokens response", body
    )
    if not isinstance(body.get("input_tokens"), int):
        raise BodyShapeError("not a count_tokens response", body, "input_tokens must be an integer")
    return count


def validate_model_list(body: Any) -> list[ModelEntry]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise BodyShapeError(
            "not an Anthropic model list", body, "expected an object with a `data` list"
        )
    return [_validate(ModelEntry, "not an Anthropic model entry", item) for item in body["data"]]


def _sdk_knows(data: dict[str, Any]) -> bool:
    block = data.get("content_block")
    delta = data.get("delta")
    if data.get("type") == "content_block_start":
        return isinstance(block, dict) and block.get("type") in SDK_BLOCKS
    if data.get("type") == "content_block_delta":
        return isinstance(delta, dict) and delta.get("type") in SDK_DELTAS
    return data.get("type") in EVENT_TYPES


def event_shape_violations(events: list[SSEEvent]) -> list[Violation]:
    """Check each stream event the SDK knows against the SDK's own event model."""
    found = []
    for i, event in enumerate(events):
        data = event.data
        if not isinstance(data, dict) or not _sdk_knows(data):
            continue
        try:
            event_model(data["type"]).model_validate(data)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            found.append(Violation("event-shape", i, f"{data['type']}: {where}: {first['msg']}"))
    return found
