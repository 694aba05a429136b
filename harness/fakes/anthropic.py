"""The fake Anthropic Messages API, and the rendering of a script into its wire format."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from harness.fakes.journal import RecordedRequest, WireResponse
from harness.fakes.script import (
    Block,
    Echo,
    HttpError,
    ModelList,
    RawJSON,
    RawMessage,
    RawSSE,
    RedactedThinking,
    Reply,
    Scripted,
    Text,
    Thinking,
    TokenCount,
    ToolUse,
)
from harness.fakes.server import FakeProvider
from harness.fakes.wire import SSE_HEADERS, sse_chunks

Event = tuple[str, dict[str, Any]]


def _block_start(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": ""}
    if isinstance(block, ToolUse):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": {}}
    if isinstance(block, Thinking):
        return {"type": "thinking", "thinking": "", "signature": ""}
    return {"type": "redacted_thinking", "data": block.data}


def _block_final(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": block.text}
    if isinstance(block, ToolUse):
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    if isinstance(block, Thinking):
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    return {"type": "redacted_thinking", "data": block.data}


def _block_deltas(block: Block) -> list[dict[str, Any]]:
    if isinstance(block, Text):
        return [{"type": "text_delta", "text": piece} for piece in block.pieces()]
    if isinstance(block, ToolUse):
        return [{"type": "input_json_delta", "partial_json": p} for p in block.json_pieces()]
    if isinstance(block, Thinking):
        # A signature-only block (thinking omitted) streams its signature_delta alone, as the
        # API does when it leaves the thinking text out (LiteLLM PR #38809).
        text = [{"type": "thinking_delta", "thinking": block.thinking}] if block.thinking else []
        return [*text, {"type": "signature_delta", "signature": block.signature}]
    assert isinstance(block, RedactedThinking)
    return []


def usage_dict(reply: Reply) -> dict[str, Any]:
    u = reply.usage
    out: dict[str, Any] = {
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
    }
    if u.cache_ttl_split is not None:
        five, hour = u.cache_ttl_split
        out["cache_creation"] = {
            "ephemeral_5m_input_tokens": five,
            "ephemeral_1h_input_tokens": hour,
        }
    if u.web_search_requests:
        out["server_tool_use"] = {"web_search_requests": u.web_search_requests}
    return out


def message_json(reply: Reply, model: str) -> dict[str, Any]:
    """The non-streamed Messages response for ``reply``."""
    return {
        "id": reply.message_id,
        "type": "message",
        "role": "assistant",
        "model": reply.model or model,
        "content": [_block_final(b) for b in reply.blocks],
        "stop_reason": reply.stop_reason,
        "stop_sequence": reply.stop_sequence,
        "usage": usage_dict(reply),
    }


def message_events(reply: Reply, model: str) -> list[Event]:
    """The Messages stream for ``reply``, event by event, in the documented grammar."""
    start_usage = {**usage_dict(reply), "output_tokens": 1}
    head = {**message_json(reply, model), "content": [], "stop_reason": None, "usage": start_usage}
    events: list[Event] = [("message_start", {"type": "message_start", "message": head})]
    events += [("ping", {"type": "ping"})] * (1 + reply.pings)
    for index, block in enumerate(reply.blocks):
        start = {
            "type": "content_block_start",
            "index": index,
            "content_block": _block_start(block),
        }
        events.append(("content_block_start", start))
        for delta in _block_deltas(block):
            events.append(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {"stop_reason": reply.stop_reason, "stop_sequence": reply.stop_sequence}
    events.append(
        ("message_delta", {"type": "message_delta", "delta": delta, "usage": usage_dict(reply)})
    )
    events.append(("message_stop", {"type": "message_stop"}))
    if reply.stream_error is not None:
        err = reply.stream_error
        events = events[: err.after_events]
        events.append(
            ("error", {"type": "error", "error": {"type": err.type, "message": err.message}})
        )
    return events


def raw_message_events(message: dict[str, Any]) -> list[Event]:
    """The stream Anthropic sends for a finished ``message``, whatever its block types."""
    head = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**message.get("usage", {}), "output_tokens": 1},
    }
    events: list[Event] = [
        ("message_start", {"type": "message_start", "message": head}),
        ("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(message.get("content", [])):
        start, deltas = _block_start_and_deltas(block)
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        )
        events += [
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        ]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {
        "stop_reason": message.get("stop_reason"),
        "stop_sequence": message.get("stop_sequence"),
    }
    events.append(
        (
            "message_delta",
            {"type": "message_delta", "delta": delta, "usage": message.get("usage", {})},
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


def _block_start_and_deltas(block: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    kind = block.get("type")
    if kind == "text":
        start: dict[str, Any] = {"type": "text", "text": ""}
        deltas: list[dict[str, Any]] = [{"type": "text_delta", "text": block.get("text", "")}]
        if "citations" in block:
            start["citations"] = []
            deltas += [{"type": "citations_delta", "citation": c} for c in block["citations"] or []]
        return start, deltas
    if kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
        return {**block, "input": {}}, [
            {"type": "input_json_delta", "partial_json": json.dumps(block.get("input"))}
        ]
    if kind == "thinking":
        return {"type": "thinking", "thinking": "", "signature": ""}, [
            {"type": "thinking_delta", "thinking": block.get("thinking")},
            {"type": "signature_delta", "signature": block.get("signature")},
        ]
    return dict(block), []  # result blocks (web search, tool search, redacted thinking) come whole


def error_json(error: HttpError) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error.type, "message": error.message},
        "request_id": "req_011FakeProviderRequest01",
    }


def sse_text_chunks(text: str, delay: float) -> list[tuple[float, bytes]]:
    """Split a recorded SSE transcript into one chunk per frame, keeping its bytes as they are."""
    frames = [f for f in text.replace("\r\n", "\n").split("\n\n") if f.strip()]
    return [(delay if i else 0.0, (frame + "\n\n").encode()) for i, frame in enumerate(frames)]


class FakeAnthropic(FakeProvider):
    name = "anthropic"
    routes: ClassVar[dict[tuple[str, str], str]] = {
        ("POST", "/v1/messages"): "messages",
        ("POST", "/v1/messages/count_tokens"): "count_tokens",
        ("GET", "/v1/models"): "models",
    }

    def render(self, request: RecordedRequest, item: Scripted) -> WireResponse:
        body = request.body if isinstance(request.body, dict) else {}
        # Vertex names the model in the path (labels), not in the body.
        model = str(body.get("model") or request.labels.get("model") or "unknown-model")
        if isinstance(item, HttpError):
            headers = {"request-id": "req_011FakeProviderRequest01", **dict(item.headers)}
            return WireResponse.json(error_json(item), item.status, **headers)
        if isinstance(item, RawSSE):
            return WireResponse(
                200, dict(SSE_HEADERS), chunks=sse_text_chunks(item.text, item.delay)
            )
        if isinstance(item, RawJSON):
            return WireResponse.json(item.body, item.status, **dict(item.headers))
        if isinstance(item, RawMessage):
            if body.get("stream"):
                return WireResponse(
                    200,
                    {**SSE_HEADERS, **dict(item.headers)},
                    chunks=sse_chunks(raw_message_events(item.message), 0.0),
                )
            return WireResponse.json(item.message, 200, **dict(item.headers))
        if isinstance(item, TokenCount):
            return WireResponse.json({"input_tokens": item.input_tokens})
        if isinstance(item, ModelList):
            return WireResponse.json(models_json(item))
        if isinstance(item, Echo):
            item = Reply.text(item.prefix + last_user_text(body), delay=item.delay)
        assert isinstance(item, Reply), item
        if body.get("stream"):
            return WireResponse(
                200,
                {**SSE_HEADERS, **dict(item.headers)},
                chunks=sse_chunks(message_events(item, model), item.delay),
            )
        return WireResponse.json(message_json(item, model), 200, **dict(item.headers))

    def unscripted(self, request: RecordedRequest) -> WireResponse:
        message = f"fake anthropic: nothing scripted for {request.method} {request.path}"
        return WireResponse.json(error_json(HttpError(501, "api_error", message)), 501)


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user message (a string, or its text blocks joined)."""
    users = [
        m for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") == "user"
    ]
    content = users[-1].get("content") if users else ""
    if isinstance(content, str):
        return content
    # Converse's blocks carry no type: {"text": ...}.
    return "".join(
        b.get("text", "")
        for b in content or []
        if isinstance(b, dict) and b.get("type", "text") == "text"
    )


def models_json(item: ModelList) -> dict[str, Any]:
    data = [
        {"type": "model", "id": i, "display_name": i, "created_at": "2025-01-01T00:00:00Z"}
        for i in item.ids
    ]
    first = item.ids[0] if item.ids else None
    last = item.ids[-1] if item.ids else None
    return {"data": data, "has_more": False, "first_id": first, "last_id": last}
