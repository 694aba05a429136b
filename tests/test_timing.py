"""The provider-clock timeline: pairing provider chunks with client events, and what it reports."""

from __future__ import annotations

from harness.fakes.journal import RecordedRequest
from harness.plugin.provider_clock import behind, check_timings, timing
from harness.protocol.client import Exchange
from harness.protocol.validators.sse import SSEEvent


def _request(emitted: list[float], body: bytes = b"") -> RecordedRequest:
    req = RecordedRequest("POST", "/v1/messages", {}, {}, b"{}", "messages", received_at=100.0)
    req.emitted_at, req.response_body = [100.0 + t for t in emitted], body
    return req


def _exchange(arrivals: list[float], names: list[str] | None = None) -> Exchange:
    names = names or [f"e{i}" for i in range(len(arrivals))]
    ex = Exchange("POST", "http://127.0.0.1:1/v1/messages", {}, {}, started=99.9, elapsed=10.0)
    ex.events = [
        SSEEvent(n, {"type": n}, "{}", 100.0 + a) for n, a in zip(names, arrivals, strict=True)
    ]
    return ex


def test_same_counts_pair_one_to_one_and_measure_the_hold():
    found = timing(_exchange([0.05, 0.30, 0.40]), _request([0.0, 0.10, 0.20]))
    assert found is not None
    assert found.pairing == "one to one"
    assert found.first_event_added_ms == 50.0
    assert found.max_held_back_ms == 200.0  # the second chunk: emitted at 100 ms, arrived at 300 ms


def test_a_translated_stream_pairs_each_chunk_with_the_next_arrival():
    found = timing(_exchange([0.01, 0.21]), _request([0.0, 0.1, 0.2]))
    assert found is not None
    assert found.pairing == "next arrival"
    assert [round(a - e) for e, a in found.pairs] == [10, 110, 10]


def test_provider_event_names_are_read_from_the_sse_body():
    body = b"event: message_start\ndata: {}\n\nevent: ping\ndata: {}\n\n"
    found = timing(_exchange([0.01, 0.02]), _request([0.0, 0.01], body))
    assert found is not None
    assert found.provider_events == ["message_start", "ping"]


def test_no_timeline_without_a_stream_on_both_sides():
    assert timing(_exchange([0.1]), _request([0.0])) is None  # a JSON answer: one write
    assert check_timings([_exchange([])], [_request([0.0, 0.1])]) == []


def test_the_stream_behind_an_exchange_is_the_last_one_inside_it():
    early, late = _request([0.0, 0.1]), _request([0.0, 0.1])
    late.received_at = 105.0
    outside = _request([0.0, 0.1])
    outside.received_at = 200.0
    assert behind(_exchange([0.1]), [early, late, outside]) is late
