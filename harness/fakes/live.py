"""Answers from live recordings (``cassettes/live/``): the provider's bytes, whatever the request.

A :class:`~harness.fakes.script.Live` item names a live recording; the fake answers with the
recorded status, headers and body, a stream cut where the provider cut it (each SSE event, each
event-stream frame). The request is never matched against the recording's own: the suite's
requests differ, and the strict fake has already held the request to the provider's rules
(issue 40).

Where no live recording of a route exists, an answer is *derived* from a live one and says so:

- ``invoke-stream``: an Anthropic stream's events, each in Bedrock's InvokeModelWithResponseStream
  ``chunk`` frame (``{"bytes": base64}``), as Bedrock wraps the same events;
- ``vertex``: an Anthropic answer with Vertex's ``msg_vrtx_`` message ids.

Every answer is labelled with its source (:func:`source_of`), so the report can say where each
check's answer came from.
"""

from __future__ import annotations

import struct
from functools import cache
from typing import Any

from harness import tapes as cassettes
from harness.fakes import eventstream
from harness.fakes.journal import HOP_BY_HOP, WireResponse
from harness.fakes.script import Live, Recorded, Scripted
from harness.protocol.validators import parse_sse

DERIVATIONS = ("invoke-stream", "vertex")


@cache
def tape(name: str) -> cassettes.Tape:
    return cassettes.load(name)


def source_of(item: Scripted | None) -> str:
    """``live <cassette>``, ``derived <cassette> (<how>)`` or ``synthetic``: where an answer came
    from."""
    if isinstance(item, Live):
        how = [tape(item.name).provenance.get("kind") == "derived" and "re-framed", item.derive]
        said = ", ".join(h for h in how if h)
        return f"derived {item.name} ({said})" if said else f"live {item.name}"
    if isinstance(item, Recorded) and item.name.startswith(cassettes.LIVE + "/"):
        return f"live {item.name}"
    return "synthetic"


def render(item: Live) -> WireResponse:
    recorded = tape(item.name).interactions[item.interaction]
    headers = {k: v for k, v in recorded.headers.items() if k not in HOP_BY_HOP}
    body = recorded.body
    if item.derive == "vertex":
        body = body.replace(b'"id":"msg_', b'"id":"msg_vrtx_')
    if item.derive == "invoke-stream":
        frames = [eventstream.invoke_chunk(e) for e in sse_events(body)]
        headers = {"content-type": "application/vnd.amazon.eventstream"}
        return WireResponse(recorded.status, headers, chunks=_paced(frames, item.delay))
    content_type = headers.get("content-type", "")
    if content_type.startswith("text/event-stream"):
        return WireResponse(recorded.status, headers, chunks=_paced(sse_cuts(body), item.delay))
    if content_type.startswith("application/vnd.amazon.eventstream"):
        return WireResponse(recorded.status, headers, chunks=_paced(frame_cuts(body), item.delay))
    return WireResponse(recorded.status, headers, body)


def _paced(pieces: list[bytes], delay: float) -> list[tuple[float, bytes]]:
    return [(delay if n else 0.0, p) for n, p in enumerate(pieces)]


def sse_cuts(body: bytes) -> list[bytes]:
    """The stream cut after each event's blank line, each piece keeping its own bytes."""
    pieces, at = [], 0
    while at < len(body):
        end = body.find(b"\n\n", at)
        end = len(body) if end < 0 else end + 2
        pieces.append(body[at:end])
        at = end
    return pieces


def frame_cuts(body: bytes) -> list[bytes]:
    """The event stream cut at each frame, by the frame's own total length."""
    pieces, at = [], 0
    while at + 4 <= len(body):
        (total,) = struct.unpack("!I", body[at : at + 4])
        pieces.append(body[at : at + total])
        at += total
    return pieces


def sse_events(body: bytes) -> list[dict[str, Any]]:
    """An Anthropic stream's event payloads, in order."""
    return [e.data for e in parse_sse(body.decode("utf-8")) if isinstance(e.data, dict)]
