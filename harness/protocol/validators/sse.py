"""Reading Server-Sent Events with httpx-sse, live or from a recorded transcript."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import EventSource


@dataclass(frozen=True)
class SSEEvent:
    """One SSE frame. ``data`` is the parsed JSON, or the raw string when it is not JSON."""

    event: str
    data: Any
    raw: str
    # Monotonic arrival time, for pacing checks; None for transcripts read from text.
    at: float | None = None

    @property
    def type(self) -> str:
        return str(self.data.get("type", "")) if isinstance(self.data, dict) else ""

    def frame(self) -> str:
        return f"event: {self.event}\ndata: {self.raw}\n"


def _decode(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def iter_sse(response: httpx.Response) -> Iterator[SSEEvent]:
    """Yield events as they arrive on a streaming response, stamped with their arrival time."""
    for sse in EventSource(response).iter_sse():
        yield SSEEvent(sse.event, _decode(sse.data), sse.data, time.monotonic())


def parse_sse(text: str) -> list[SSEEvent]:
    """Parse a whole transcript with the same decoder used on live streams.

    A file is a complete transcript, so a last frame without its closing blank
    line still counts (on a live stream the SSE spec would discard it).
    """
    if not text.endswith("\n\n"):
        text = text.rstrip("\n") + "\n\n"
    response = httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=text.encode()
    )
    return [SSEEvent(e.event, e.data, e.raw) for e in iter_sse(response)]


def render_sse(events: list[SSEEvent]) -> str:
    return "\n".join(e.frame() for e in events)
