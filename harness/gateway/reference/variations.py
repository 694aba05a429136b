"""Benign variations: the same answer in another form that no client can tell apart.

A gateway may split text and tool-input deltas at other boundaries, write SSE fields without the
optional space after the colon, order JSON keys its own way, add response headers of its own or
send ``ping`` events at other times, and serve Claude Code exactly as well (issue 39, row 11). The
reference gateway switches each on like a fault; ``tests/test_benign_variations.py`` holds the
suite to reading ``SAFE`` under every one: a verdict that moves on a benign change is a defect of
a check or of the fingerprint, not of the gateway.
"""

from __future__ import annotations

import json
from typing import Any

BENIGN: dict[str, str] = {
    "split-deltas": "splits every text, thinking and tool-input delta in two at another boundary",
    "sse-no-space": "writes SSE fields without the optional space after the colon",
    "reordered-keys": "writes every JSON object's keys in reverse order (answers and events)",
    "extra-headers": "adds response headers of its own (a trace id, server-timing)",
    "extra-pings": "sends a ping after message_start and after every content_block_stop",
}
NAMES = frozenset(BENIGN)
EXTRA_HEADERS = (("x-gateway-trace-id", "ref-0000000000000001"), ("server-timing", "gw;dur=1"))
PING = {"type": "ping"}
SPLIT = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}


def headers(variations: frozenset[str]) -> tuple[tuple[str, str], ...]:
    return EXTRA_HEADERS if "extra-headers" in variations else ()


def body(data: bytes, variations: frozenset[str]) -> bytes:
    """A JSON answer with its keys reordered; anything else unchanged."""
    if "reordered-keys" not in variations:
        return data
    try:
        return json.dumps(_reversed(json.loads(data))).encode()
    except ValueError:
        return data


def frames(frame: bytes, variations: frozenset[str]) -> list[bytes]:
    """One SSE frame as the variations write it: perhaps split in two, perhaps with a ping after."""
    event, data = _parse(frame)
    if data is None:
        return [frame]
    parts = _split(data) if "split-deltas" in variations else [data]
    out = [_write(event, part, variations) for part in parts]
    if "extra-pings" in variations and data.get("type") in ("message_start", "content_block_stop"):
        out.append(_write("ping", PING, variations))
    return out


def _parse(frame: bytes) -> tuple[str, dict[str, Any] | None]:
    event, data = "", None
    for line in frame.decode("utf-8", "replace").splitlines():
        name, _, value = line.partition(":")
        if name == "event":
            event = value.strip()
        elif name == "data":
            try:
                data = json.loads(value)
            except ValueError:
                return event, None
    return event, data if isinstance(data, dict) else None


def _split(data: dict[str, Any]) -> list[dict[str, Any]]:
    delta = data.get("delta") if data.get("type") == "content_block_delta" else None
    if not isinstance(delta, dict):
        return [data]
    field = SPLIT.get(str(delta.get("type", "")), "")
    text = delta.get(field)
    if not isinstance(text, str) or len(text) < 2:
        return [data]
    cut = len(text) // 2
    return [{**data, "delta": {**delta, field: piece}} for piece in (text[:cut], text[cut:])]


def _write(event: str, data: dict[str, Any], variations: frozenset[str]) -> bytes:
    payload = json.dumps(_reversed(data) if "reordered-keys" in variations else data)
    space = "" if "sse-no-space" in variations else " "
    head = f"event:{space}{event}\n" if event else ""
    return f"{head}data:{space}{payload}\n\n".encode()


def _reversed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed(v) for v in value]
    return value
