"""Timed requests against one endpoint: a JSON answer, or a stream with each event's arrival time.

Times are ``time.monotonic()`` on this process's clock, the same clock the in-process fake provider
stamps its emissions with, so arrival can be drawn against emission without any clock skew.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Sample:
    started: float
    status: int = 0
    first_byte: float | None = None  # seconds after start
    total: float = 0.0
    events: list[float] = field(
        default_factory=list
    )  # each complete SSE event's arrival, seconds after start
    overhead_header: float | None = None  # x-litellm-overhead-duration-ms, when the gateway sent it


@dataclass(frozen=True)
class Endpoint:
    url: str
    headers: dict[str, str]


def _overhead(headers: httpx.Headers) -> float | None:
    raw = headers.get("x-litellm-overhead-duration-ms")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def timed(client: httpx.Client, endpoint: Endpoint, body: dict[str, Any]) -> Sample:
    """One request; for a stream, the arrival of its first byte and of every complete event."""
    sample = Sample(time.monotonic())
    with client.stream("POST", endpoint.url, json=body, headers=endpoint.headers) as response:
        sample.status = response.status_code
        sample.overhead_header = _overhead(response.headers)
        pending = b""
        for chunk in response.iter_raw():
            now = time.monotonic() - sample.started
            if sample.first_byte is None:
                sample.first_byte = now
            pending += chunk
            while b"\n\n" in pending:
                _, pending = pending.split(b"\n\n", 1)
                sample.events.append(now)
    sample.total = time.monotonic() - sample.started
    return sample


def batch(
    client: httpx.Client,
    endpoint: Endpoint,
    body: dict[str, Any],
    concurrency: int,
    pool: ThreadPoolExecutor,
) -> list[Sample]:
    """``concurrency`` requests at once; every one must be answered 200, or the figures mean
    nothing."""
    samples = list(pool.map(lambda _: timed(client, endpoint, body), range(concurrency)))
    bad = [s.status for s in samples if s.status != 200]
    if bad:
        raise RuntimeError(f"{endpoint.url} answered {bad[:5]} during the benchmark")
    return samples


def interleaved(
    client: httpx.Client,
    sides: dict[str, Endpoint],
    body: dict[str, Any],
    concurrency: int,
    rounds: int,
    pool: ThreadPoolExecutor,
) -> dict[str, list[Sample]]:
    """Batches alternating between the sides, the order swapped each round, so drift hits both
    alike."""
    out: dict[str, list[Sample]] = {name: [] for name in sides}
    names = list(sides)
    for n in range(rounds):
        for name in names if n % 2 == 0 else reversed(names):
            out[name] += batch(client, sides[name], body, concurrency, pool)
    return out


def throughput(
    client: httpx.Client,
    endpoint: Endpoint,
    body: dict[str, Any],
    requests: int,
    pool: ThreadPoolExecutor,
) -> float:
    """Requests per second with the pool saturated."""
    started = time.monotonic()
    statuses = list(pool.map(lambda _: timed(client, endpoint, body).status, range(requests)))
    if any(s != 200 for s in statuses):
        raise RuntimeError(f"{endpoint.url} failed under saturation: {sorted(set(statuses))}")
    return requests / (time.monotonic() - started)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank]


def quantiles_ms(values: list[float]) -> dict[str, float]:
    return {f"p{q}": round(percentile(values, q) * 1000, 2) for q in (50, 90, 99)}


Metric = Callable[[Sample], float]
