"""AWS event stream frames (``application/vnd.amazon.eventstream``), as Bedrock streams its answers.

botocore decodes these frames but has no encoder, so the fake Bedrock encodes them here;
``tests/test_eventstream.py`` proves every frame by decoding it with botocore's own parser.

A frame: total length and headers length (4 bytes each, big-endian), the CRC32 of those
8 bytes, the headers, the payload, and the CRC32 of everything before it. Each header
is a 1-byte name length, the name, a 1-byte type (7: string), a 2-byte value length
and the value.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

STRING = 7


def _header(name: str, value: str) -> bytes:
    n, v = name.encode(), value.encode()
    return struct.pack("!B", len(n)) + n + struct.pack("!BH", STRING, len(v)) + v


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    encoded = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    head = prelude + struct.pack("!I", zlib.crc32(prelude)) + encoded + payload
    return head + struct.pack("!I", zlib.crc32(head))


def event(event_type: str, payload: bytes, content_type: str = "application/json") -> bytes:
    return frame(
        {":event-type": event_type, ":content-type": content_type, ":message-type": "event"},
        payload,
    )


def exception(exception_type: str, message: str) -> bytes:
    """A mid-stream error, as Bedrock sends one (``:message-type: exception``)."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, json.dumps({"message": message}).encode())


def invoke_chunk(anthropic_event: dict[str, Any]) -> bytes:
    """One InvokeModelWithResponseStream frame: an Anthropic event, base64 inside
    ``{"bytes": ...}``."""
    data = base64.b64encode(json.dumps(anthropic_event).encode()).decode()
    return event("chunk", json.dumps({"bytes": data}).encode())
