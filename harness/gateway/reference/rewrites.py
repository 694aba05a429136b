"""The reference gateway's faults at work on what it relays: request bodies, answers and stream
frames.

Each function takes the faults switched on (harness.gateway.reference.faults) and rewrites one thing
the way a faulty gateway would; with no fault it returns what it got.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def rewrite_request(body: dict[str, Any], faults: frozenset[str]) -> dict[str, Any]:
    if "drop-signature-only-thinking" in faults:
        body = {**body, "messages": [_unthought(m) for m in body.get("messages") or []]}
    if "strip-cache-control" in faults:
        body = _without(body, "cache_control")
    if "flatten-media" in faults:
        body = {**body, "messages": [_flatten(m) for m in body.get("messages") or []]}
    if "prepend-system" in faults:
        system = body.get("system") or []
        system = [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
        body = {
            **body,
            "system": [
                {"type": "text", "text": "You are served by the reference gateway."},
                *system,
            ],
        }
    return body


def _without(value: Any, key: str) -> Any:
    """``value`` with ``key`` removed from every object in it."""
    if isinstance(value, dict):
        return {k: _without(v, key) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [_without(v, key) for v in value]
    return value


def _signature_only(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "thinking" and not block.get("thinking")


def _unthought(message: Any) -> Any:
    """A message without its signature-only thinking blocks (LiteLLM PR #38809's bug)."""
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return message
    return {**message, "content": [b for b in content if not _signature_only(b)]}


def _flatten(message: Any) -> Any:
    """A message whose image and document blocks became a text placeholder."""
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return message
    return {
        **message,
        "content": [
            {"type": "text", "text": f"[{b['type']}]"}
            if isinstance(b, dict) and b.get("type") in ("image", "document")
            else b
            for b in content
        ],
    }


# The faults that rewrite a provider's answer on its way to the client (JSON answers, and stream
# frames).
KEPT_BLOCKS = ("text", "tool_use", "thinking", "redacted_thinking")
ANSWER_FAULTS = frozenset(
    {
        "drop-server-blocks",
        "strip-citations",
        "rename-model",
        "drop-signature-only-thinking",
        "drop-cache-usage",
    }
)
FRAME_FAULTS = frozenset(
    {
        "drop-server-blocks",
        "strip-citations",
        "truncate-tool-json",
        "drop-signature",
        "blank-redacted-thinking",
        "one-block-index",
        "drop-cache-usage",
        "rename-model",
        "ping-first",
    }
)
INTERNAL_NAME = "reference/internal-deployment-0"


def rewrite_answer(body: Any, faults: frozenset[str]) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("content"), list):
        return body
    if "rename-model" in faults:
        body = {**body, "model": INTERNAL_NAME}
    content = body["content"]
    if "drop-server-blocks" in faults:
        content = [b for b in content if b.get("type") in KEPT_BLOCKS]
    if "strip-citations" in faults:
        content = [{k: v for k, v in b.items() if k != "citations"} for b in content]
    if "drop-signature-only-thinking" in faults:
        content = [b for b in content if not _signature_only(b)]
    if "drop-cache-usage" in faults:
        kept = {k: v for k, v in (body.get("usage") or {}).items() if not k.startswith("cache_")}
        body = {**body, "usage": kept}
    return {**body, "content": content}


def rewrite_frame(frame: bytes, faults: frozenset[str], held: dict[str, Any]) -> bytes:
    """One SSE frame under the answer faults: changed, or b"" to drop it."""
    head, _, data = frame.partition(b"data:")
    try:
        event = json.loads(data)
    except ValueError:
        return frame
    kind, delta = event.get("type"), event.get("delta") or {}
    block = event.get("content_block") or {}
    if "drop-server-blocks" in faults:
        if kind == "content_block_start" and block.get("type") not in KEPT_BLOCKS:
            held.setdefault("dropped", set()).add(event.get("index"))
        if event.get("index") in held.get("dropped", ()):
            return b""
    if "strip-citations" in faults:
        if delta.get("type") == "citations_delta":
            return b""
        if kind == "content_block_start" and "citations" in block:
            event["content_block"] = {k: v for k, v in block.items() if k != "citations"}
    cut: set[Any] = held.setdefault("cut", set())
    if (
        "truncate-tool-json" in faults
        and delta.get("type") == "input_json_delta"
        and delta.get("partial_json")
        and event.get("index") not in cut
    ):
        cut.add(event.get("index"))
        return b""  # each tool input loses its first piece
    if "drop-signature" in faults and delta.get("type") == "signature_delta":
        return b""
    if "blank-redacted-thinking" in faults and block.get("type") == "redacted_thinking":
        event["content_block"] = {**block, "data": ""}
    if "one-block-index" in faults and "index" in event:
        event["index"] = 0
    if "rename-model" in faults and kind == "message_start":
        event["message"]["model"] = INTERNAL_NAME
    if "ping-first" in faults and kind == "message_start":
        head = b'event: ping\ndata: {"type": "ping"}\n\n' + head
    if "drop-cache-usage" in faults and kind in ("message_start", "message_delta"):
        owner = event["message"] if kind == "message_start" else event
        owner["usage"] = {
            k: v for k, v in (owner.get("usage") or {}).items() if not k.startswith("cache_")
        }
    return head + b"data: " + json.dumps(event).encode() + b"\n\n"


def openai_shaped(body: Any) -> Any:
    """An Anthropic answer as a translating gateway gone wrong sends it: OpenAI's chat completion
    (or usage)."""
    if not isinstance(body, dict):
        return body
    if "input_tokens" in body and "content" not in body:
        return {"object": "usage", "prompt_tokens": body["input_tokens"]}
    text = "".join(b.get("text", "") for b in body.get("content", []) if isinstance(b, dict))
    usage = body.get("usage") or {}
    return {
        "id": "chatcmpl-" + str(body.get("id", "")),
        "object": "chat.completion",
        "created": 1735689600,
        "model": body.get("model"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": usage.get("input_tokens", 0),
            "completion_tokens": usage.get("output_tokens", 0),
            "total_tokens": usage.get("input_tokens", 0) + usage.get("output_tokens", 0),
        },
    }


def openai_error_frame(frame: bytes) -> bytes:
    """An Anthropic ``error`` event's data in OpenAI's envelope; other frames unchanged."""
    if not frame.startswith(b"event: error"):
        return frame
    data = json.loads(frame.split(b"data:", 1)[1])
    error = data.get("error") or {}
    payload = json.dumps(
        {"error": {"message": error.get("message"), "type": error.get("type"), "code": None}}
    )
    return f"event: error\ndata: {payload}\n\n".encode()


def error_frame(kind: str, message: str) -> bytes:
    payload = json.dumps({"type": "error", "error": {"type": kind, "message": message}})
    return f"event: error\ndata: {payload}\n\n".encode()


def split_frames(chunks: Iterator[bytes]) -> Iterator[bytes]:
    buffer = b""
    for chunk in chunks:
        buffer += chunk.replace(b"\r\n", b"\n")
        while b"\n\n" in buffer:
            frame, buffer = buffer.split(b"\n\n", 1)
            yield frame + b"\n\n"
    if buffer.strip():
        yield buffer + b"\n\n"


def swap_second_and_third(frames: Iterator[bytes]) -> Iterator[bytes]:
    held: list[bytes] = []
    for frame in frames:
        held.append(frame)
        if len(held) == 3:
            yield from (held[0], held[2], held[1])
            held = []
            break
    yield from held
    yield from frames
