"""Streams on the provider's clock: each client event's arrival beside the provider's emission.

The fakes stamp each chunk when it has been written (``RecordedRequest.emitted_at``) and
the client stamps each SSE event when it arrives (``SSEEvent.at``); both are
``time.monotonic()`` in the test process, so they share one clock. For every streamed
exchange of a check the harness pairs it with the provider stream it caused and puts
the timeline in the check's evidence: what the gateway added to the first event, how
long it held each later one back, and the order of the events on each side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from harness.fakes.journal import RecordedRequest
from harness.protocol.client import Exchange

SSE_NAME = re.compile(rb"^event: *(\S+)", re.MULTILINE)


@dataclass
class StreamTiming:
    provider_events: list[str]
    client_events: list[str]
    emitted_ms: list[float]  # from the request's arrival at the provider
    arrived_ms: list[float]  # on the same origin
    pairing: str  # "one to one", or "next arrival" where the gateway translates the stream
    pairs: list[tuple[float, float]]  # (emitted, arrived) for each provider chunk

    @property
    def first_event_added_ms(self) -> float:
        return round(self.arrived_ms[0] - self.emitted_ms[0], 1)

    @property
    def max_held_back_ms(self) -> float:
        return round(max(a - e for e, a in self.pairs), 1)

    def summary(self) -> dict[str, Any]:
        return {
            "first event added (ms)": self.first_event_added_ms,
            "max held back (ms)": self.max_held_back_ms,
            "pairing": self.pairing,
            "provider events": self.provider_events,
            "client events": self.client_events,
            "points (emitted ms, arrived ms)": [[round(e, 1), round(a, 1)] for e, a in self.pairs],
        }


def _names(request: RecordedRequest, chunks: int) -> list[str]:
    names = [m.decode() for m in SSE_NAME.findall(request.response_body)]
    return names if len(names) == chunks else [f"chunk {i}" for i in range(chunks)]


def _pair(emitted: list[float], arrived: list[float]) -> tuple[str, list[tuple[float, float]]]:
    """Same counts: chunk i ↔ event i. Otherwise (a translated stream) each chunk ↔ the next client
    event to arrive after it; for a chunk that yields no client event of its own this over-states
    the hold."""
    if len(emitted) == len(arrived):
        return "one to one", list(zip(emitted, arrived, strict=True))
    return "next arrival", [(e, next((a for a in arrived if a >= e), arrived[-1])) for e in emitted]


def timing(exchange: Exchange, request: RecordedRequest) -> StreamTiming | None:
    """The timeline of one streamed exchange and the provider stream behind it; None if either is
    missing."""
    arrivals = [e.at for e in exchange.events or [] if e.at is not None]
    if len(request.emitted_at) < 2 or not arrivals:
        return None
    origin = request.received_at
    emitted = [(t - origin) * 1000 for t in request.emitted_at]
    arrived = [(t - origin) * 1000 for t in arrivals]
    names = [e.event or e.type for e in exchange.events or [] if e.at is not None]
    return StreamTiming(
        _names(request, len(emitted)), names, emitted, arrived, *_pair(emitted, arrived)
    )


def behind(exchange: Exchange, requests: list[RecordedRequest]) -> RecordedRequest | None:
    """The last streamed provider request that arrived while this exchange was open (after any
    retries)."""
    end = exchange.ended
    inside = [
        r for r in requests if len(r.emitted_at) > 1 and exchange.started <= r.received_at <= end
    ]
    return inside[-1] if inside else None


def check_timings(
    exchanges: list[Exchange], requests: list[RecordedRequest]
) -> list[dict[str, Any]]:
    out = []
    for exchange in exchanges:
        if not exchange.events:
            continue
        request = behind(exchange, requests)
        found = timing(exchange, request) if request is not None else None
        if found is not None:
            out.append(
                {
                    "exchange": (
                        f"{exchange.method} {exchange.url.split('//', 1)[-1].split('/', 1)[-1]}"
                    ),
                    **found.summary(),
                }
            )
    return out
