"""Turning a recorded ``text/event-stream`` body (an SSE transcript) into a cassette.

A transcript holds the provider's answer only, not the request that produced it,
so its cassette matches any request on the same method and path.
"""

from __future__ import annotations

import json
from typing import Any

from vcr.request import Request

from harness.tapes import Interaction, Tape

SSE_HEADERS = {"Content-Type": ["text/event-stream; charset=utf-8"], "Cache-Control": ["no-cache"]}


def frames(text: str) -> list[bytes]:
    """One chunk per SSE frame, bytes as they are."""
    parts = [f for f in text.replace("\r\n", "\n").split("\n\n") if f.strip()]
    return [(f + "\n\n").encode() for f in parts]


def provider_model(text: str) -> str:
    for frame in frames(text):
        for line in frame.decode().splitlines():
            if line.startswith("data:") and '"message_start"' in line:
                message: dict[str, Any] = json.loads(line[5:]).get("message", {})
                return str(message.get("model", "unknown"))
    return "unknown"


def tape_from_transcript(
    name: str, text: str, provenance: dict[str, Any], base_url: str, path: str = "/v1/messages"
) -> Tape:
    chunks = frames(text)
    model = provider_model(text)
    request = Request(
        "POST",
        f"{base_url}{path}",
        json.dumps({"model": model, "stream": True}).encode(),
        {"content-type": "application/json"},
    )
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": dict(SSE_HEADERS),
        "body": {"string": b"".join(chunks)},
        "chunks": [[0.0, len(c)] for c in chunks],
    }
    meta = {
        "provider": name.split("/")[0],
        "provider_model": model,
        "base_url": base_url,
        "match_on": ["method", "path"],
        **provenance,
    }
    return Tape(name, [Interaction(request, response)], meta)
