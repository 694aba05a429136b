"""What an answer says, whatever its wire format: so a check can hold the client's answer to the
provider's.

A *view* is the answer's substance: its blocks (text, tool calls with parsed input,
thinking with its signature, redacted thinking) and its stop reason. Views are made
from an Anthropic message or stream (what the client gets), and from what a fake
provider sent (Anthropic, OpenAI Responses or chat completions, JSON or streamed),
whether it was scripted or replayed from a cassette.
"""

from __future__ import annotations

import json
from typing import Any

from harness.fakes import RecordedRequest
from harness.protocol.client import Exchange
from harness.protocol.validators import check_stream, parse_sse

View = dict[str, Any]


def _block(b: dict[str, Any]) -> tuple[Any, ...]:
    kind = b.get("type")
    if kind == "text":
        return ("text", b.get("text", ""))
    if kind == "tool_use":
        return ("tool_use", b.get("name"), b.get("input"))
    if kind == "thinking":
        return ("thinking", b.get("thinking", ""), b.get("signature", ""))
    if kind == "redacted_thinking":
        return ("redacted_thinking", b.get("data"))
    return (str(kind),)


def message_view(message: dict[str, Any]) -> View:
    return {
        "blocks": [_block(b) for b in message.get("content", [])],
        "stop_reason": message.get("stop_reason"),
    }


def stream_view(events: Any) -> View:
    result = check_stream(events)
    return {"blocks": [_block(b.final()) for b in result.blocks], "stop_reason": result.stop_reason}


def client_view(ex: Exchange) -> View:
    """The Anthropic answer the client got."""
    return stream_view(ex.events) if ex.events is not None else message_view(ex.json())


def provider_view(req: RecordedRequest) -> View:
    """What the fake provider answered this request with, in the same terms."""
    text = req.response_body.decode("utf-8", "replace")
    streamed = text.startswith(("event:", "data:"))
    if req.path.endswith("/responses"):
        return _responses_view(_completed(text) if streamed else json.loads(text))
    if req.path.endswith("/chat/completions"):
        return _chat_view(text, streamed)
    return stream_view(text) if streamed else message_view(json.loads(text))


def _completed(text: str) -> dict[str, Any]:
    for event in parse_sse(text):
        if isinstance(event.data, dict) and event.data.get("type") in (
            "response.completed",
            "response.incomplete",
        ):
            response: dict[str, Any] = event.data["response"]
            return response
    return {}


def _responses_view(body: dict[str, Any]) -> View:
    blocks: list[tuple[Any, ...]] = []
    for item in body.get("output", []):
        if item.get("type") == "message":
            blocks += [
                ("text", c.get("text", ""))
                for c in item.get("content", [])
                if c.get("type") == "output_text"
            ]
        elif item.get("type") == "function_call":
            blocks.append(("tool_use", item.get("name"), json.loads(item.get("arguments") or "{}")))
    return {"blocks": blocks, "stop_reason": None}


def _chat_view(text: str, streamed: bool) -> View:
    if not streamed:
        message = json.loads(text)["choices"][0]["message"]
        calls = message.get("tool_calls") or []
        blocks: list[tuple[Any, ...]] = (
            [("text", message["content"])] if message.get("content") else []
        )
        blocks += [
            ("tool_use", c["function"]["name"], json.loads(c["function"]["arguments"] or "{}"))
            for c in calls
        ]
        return {"blocks": blocks, "stop_reason": None}
    pieces: list[str] = []
    args: dict[int, str] = {}
    names: dict[int, str] = {}
    for event in parse_sse(text):
        for choice in (event.data.get("choices") or []) if isinstance(event.data, dict) else []:
            delta = choice.get("delta") or {}
            pieces.append(delta.get("content") or "")
            for call in delta.get("tool_calls") or []:
                names[call["index"]] = str(
                    call.get("function", {}).get("name") or names.get(call["index"], "")
                )
                args[call["index"]] = args.get(call["index"], "") + (
                    call.get("function", {}).get("arguments") or ""
                )
    blocks = [("text", "".join(pieces))] if "".join(pieces) else []
    blocks += [("tool_use", names[i], json.loads(args[i] or "{}")) for i in sorted(args)]
    return {"blocks": blocks, "stop_reason": None}


def substance(view: View) -> View:
    """A translated answer keeps its text and tool calls; block boundaries and stop reasons are
    mapped."""
    text = "".join(b[1] for b in view["blocks"] if b[0] == "text")
    return {"text": text, "tools": [b[1:] for b in view["blocks"] if b[0] == "tool_use"]}


def assert_says(ex: Exchange, text: str) -> None:
    """A success judged by its content: HTTP 200, and the answer's text is exactly the scripted
    ``text``."""
    assert ex.status == 200, (
        f"expected HTTP 200 with the provider's answer, observed {ex.status}:\n{ex.transcript()}"
    )
    said = "".join(b[1] for b in client_view(ex)["blocks"] if b[0] == "text")
    assert said == text, (
        f"expected the provider's answer {text!r}, the client got {said!r}:\n{ex.transcript()}"
    )


def assert_counted(ex: Exchange, tokens: int) -> None:
    """A count_tokens success judged by its content: the provider's count came back."""
    assert ex.status == 200, (
        f"expected HTTP 200 with the provider's count, observed {ex.status}:\n{ex.transcript()}"
    )
    got = ex.json().get("input_tokens")
    assert got == tokens, (
        f"expected the provider's count {tokens}, the client got {got!r}:\n{ex.transcript()}"
    )


# The delta fields a client concatenates (Anthropic's streaming docs).
DELTA_TEXT = {
    "text_delta": "text",
    "thinking_delta": "thinking",
    "input_json_delta": "partial_json",
}


def events_as_read(events: Any) -> list[tuple[str, Any]]:
    """A stream as a client reads it: pings dropped, and consecutive deltas of one block and kind
    joined, so deltas split at other boundaries read the same (issue 39: benign changes never
    alarm). Order, types and every other field still count."""
    out: list[tuple[str, Any]] = []
    for e in events:
        data = e.data
        if (e.event or (data or {}).get("type")) == "ping":
            continue
        delta = data.get("delta") if isinstance(data, dict) else None
        field = DELTA_TEXT.get(delta.get("type", "")) if isinstance(delta, dict) else None
        last = out[-1][1] if out else None
        if (
            field
            and isinstance(last, dict)
            and last.get("type") == "content_block_delta"
            and last.get("index") == data.get("index")
            and last["delta"].get("type") == delta.get("type")
        ):
            joined = {**last["delta"], field: last["delta"].get(field, "") + delta.get(field, "")}
            out[-1] = (out[-1][0], {**last, "delta": joined})
            continue
        out.append((e.event, data))
    return out


def body_as_read(data: bytes) -> object:
    """A body as a client reads it: parsed JSON (key order and spacing are no change a client can
    see, issue 39), else its bytes."""
    try:
        return json.loads(data)
    except ValueError:
        return data
