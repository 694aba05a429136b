"""The code of :mod:`harness.tools.perf.bench`; what it is for: the package's docstring."""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil

from harness.fakes import FakeAnthropic, Reply
from harness.gateway.configs import (
    SONNET,
    GatewayConfig,
    Upstreams,
    anthropic_model,
    new_master_key,
    upstream_env,
)
from harness.gateway.process import LiteLLMProxy, spawn, wait_ready
from harness.protocol.client import CLAUDE_CODE_HEADERS, message_body
from harness.tools.perf.bench.measure import (
    Endpoint,
    Sample,
    interleaved,
    percentile,
    throughput,
    timed,
)

CONCURRENCY = (1, 8, 32)
JSON_SAMPLES, STREAM_SAMPLES = 64, 16  # per side, per concurrency, per repeat
EVENT_GAP = 0.02  # the provider paces its stream like a model emitting tokens
WORDS = " ".join(f"word{n}" for n in range(12))
SATURATION, SATURATION_REQUESTS = 64, 256


def bench_config(upstreams: Upstreams) -> GatewayConfig:
    """One Anthropic deployment and a master key; every setting LiteLLM's default, as the quickstart
    has it."""
    key = new_master_key()
    config = {
        "model_list": [anthropic_model(SONNET, upstreams)],
        "general_settings": {"master_key": key},
    }
    return GatewayConfig("bench", config, upstream_env(upstreams), key)


def _cpu_seconds(process: psutil.Process) -> float:
    procs = [process, *process.children(recursive=True)]
    return sum(p.cpu_times().user + p.cpu_times().system for p in procs)


def _rss_mb(process: psutil.Process) -> float:
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def _gaps(samples: list[Sample]) -> list[float]:
    return [b - a for s in samples for a, b in zip(s.events, s.events[1:], strict=False)]


def _kind(direct: list[float], gateway: list[float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for q in (50, 90, 99):
        d, g = percentile(direct, q) * 1000, percentile(gateway, q) * 1000
        out[f"p{q}"] = {
            "direct_ms": round(d, 2),
            "gateway_ms": round(g, 2),
            "added_ms": round(g - d, 2),
        }
    out["ratio_p50"] = round(out["p50"]["gateway_ms"] / max(out["p50"]["direct_ms"], 1e-3), 3)
    return out


def _one_level(js: dict[str, list[Sample]], st: dict[str, list[Sample]]) -> dict[str, Any]:
    headers = [s.overhead_header for s in js["gateway"] if s.overhead_header is not None]
    return {
        "json": _kind([s.total for s in js["direct"]], [s.total for s in js["gateway"]]),
        "stream_ttfb": _kind(
            [s.first_byte or s.total for s in st["direct"]],
            [s.first_byte or s.total for s in st["gateway"]],
        ),
        "stream_total": _kind([s.total for s in st["direct"]], [s.total for s in st["gateway"]]),
        "per_event_added_ms": round(
            (
                statistics.median(_gaps(st["gateway"]) or [0.0])
                - statistics.median(_gaps(st["direct"]) or [0.0])
            )
            * 1000,
            2,
        ),
        "litellm_overhead_header_ms": round(statistics.median(headers), 2) if headers else None,
    }


def _rounds(samples: int, concurrency: int) -> int:
    """Batches per side for about ``samples`` requests at ``concurrency``; never fewer than 2, for
    the interleave."""
    return max(2, samples // concurrency)


def _repeat(
    client: httpx.Client, sides: dict[str, Endpoint], pool: ThreadPoolExecutor
) -> dict[str, Any]:
    levels = {}
    for c in CONCURRENCY:
        js = interleaved(client, sides, message_body(SONNET), c, _rounds(JSON_SAMPLES, c), pool)
        st = interleaved(
            client, sides, message_body(SONNET, stream=True), c, _rounds(STREAM_SAMPLES, c), pool
        )
        levels[str(c)] = _one_level(js, st)
    return levels


def _aggregate(repeats: list[dict[str, Any]]) -> dict[str, Any]:
    """Per concurrency and measure: the median over repeats, with min and max."""
    out: dict[str, Any] = {}
    for c in repeats[0]:
        level: dict[str, Any] = {}
        for kind in ("json", "stream_ttfb", "stream_total"):
            level[kind] = {
                q: {k: _spread([r[c][kind][q][k] for r in repeats]) for k in repeats[0][c][kind][q]}
                for q in ("p50", "p90", "p99")
            }
            level[kind]["ratio_p50"] = _spread([r[c][kind]["ratio_p50"] for r in repeats])
        level["per_event_added_ms"] = _spread([r[c]["per_event_added_ms"] for r in repeats])
        headers = [h for r in repeats if (h := r[c]["litellm_overhead_header_ms"]) is not None]
        level["litellm_overhead_header_ms"] = _spread(headers) if headers else None
        out[c] = level
    return out


def _paced_stream(
    client: httpx.Client, gateway: Endpoint, fake: FakeAnthropic
) -> list[list[float]]:
    """One paced stream through the gateway: each event's emission at the provider against its
    arrival."""
    seen = len(fake.received())
    sample = timed(client, gateway, message_body(SONNET, stream=True))
    emitted = fake.received()[seen].emitted_at if len(fake.received()) > seen else []
    return [
        [round((e - sample.started) * 1000, 1), round(a * 1000, 1)]
        for e, a in zip(emitted, sample.events, strict=False)
    ]


def measure(
    fake: FakeAnthropic, proxy: LiteLLMProxy, upstreams: Upstreams, repeats: int
) -> dict[str, Any]:
    sides = {
        "direct": Endpoint(
            fake.url + "/v1/messages", {**CLAUDE_CODE_HEADERS, "x-api-key": upstreams.anthropic_key}
        ),
        "gateway": Endpoint(
            proxy.url + "/v1/messages",
            {**CLAUDE_CODE_HEADERS, "authorization": f"Bearer {proxy.master_key}"},
        ),
    }
    process = psutil.Process(proxy.process.pid)
    limits = httpx.Limits(max_connections=SATURATION, max_keepalive_connections=SATURATION)
    with (
        httpx.Client(trust_env=False, timeout=120, limits=limits) as client,
        ThreadPoolExecutor(SATURATION) as pool,
    ):
        interleaved(
            client, sides, message_body(SONNET), 8, 4, pool
        )  # warm both paths, the proxy's lazy imports
        cpu = _cpu_seconds(process)
        runs = [_repeat(client, sides, pool) for _ in range(repeats)]
        per_repeat = sum(
            _rounds(n, c) * c for c in CONCURRENCY for n in (JSON_SAMPLES, STREAM_SAMPLES)
        )
        gateway_requests = repeats * per_repeat
        cpu_ms = (_cpu_seconds(process) - cpu) * 1000 / gateway_requests
        rates = {
            name: [
                throughput(client, sides[name], message_body(SONNET), SATURATION_REQUESTS, pool)
                for _ in range(2)
            ]
            for name in sides
        }
        chart = _paced_stream(client, sides["gateway"], fake)
    return {
        "concurrency": _aggregate(runs),
        "repeats_raw": runs,
        "throughput_rps": {
            "direct": round(max(rates["direct"]), 1),
            "gateway": round(max(rates["gateway"]), 1),
            "concurrency": SATURATION,
            "requests": SATURATION_REQUESTS,
        },
        "proxy": {"cpu_ms_per_request": round(cpu_ms, 2), "rss_mb": round(_rss_mb(process), 1)},
        "paced_stream": chart,
    }


def run(python: str, repeats: int = 3, session: str = "") -> dict[str, Any]:
    """The whole benchmark against the LiteLLM of ``python``; the figures as JSON-able data."""
    started = time.monotonic()
    fake = FakeAnthropic().start()
    fake.script("messages", Reply.text(WORDS, delay=EVENT_GAP), times=None)
    upstreams = Upstreams(fake.url, fake.url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # Its own interpreter, as deployed: a forked proxy's CPU and RSS would leave out
            # LiteLLM's import.
            proxy = wait_ready(spawn(bench_config(upstreams), python, Path(tmp), launch="exec"))
            try:
                figures = measure(fake, proxy, upstreams, repeats)
            finally:
                proxy.stop()
    finally:
        fake.stop()
    return {
        "litellm_version": proxy.version,
        "session": session or dt.datetime.now(dt.UTC).isoformat(),
        "config": (
            "one Anthropic deployment and a master key, every other setting LiteLLM's default"
        ),
        "repeats": repeats,
        "events_per_stream": len(WORDS.split()),
        "event_gap_ms": EVENT_GAP * 1000,
        **figures,
        "wall_seconds": round(time.monotonic() - started, 1),
    }


def table(bench: dict[str, Any]) -> str:
    """The figures as text: added latency per concurrency, medians over repeats with [min, max]."""
    lines = [
        f"LiteLLM {bench['litellm_version']}: gateway minus direct, "
        f"median of {bench['repeats']} repeats [min, max] (ms)",
        f"{'conc':>4}  {'measure':<13} {'p50':>22} {'p90':>22} {'p99':>22}  ratio p50",
    ]
    for c, level in bench["concurrency"].items():
        for kind in ("json", "stream_ttfb", "stream_total"):
            cells = [
                f"{level[kind][q]['added_ms']['median']:>8.2f} "
                f"[{level[kind][q]['added_ms']['min']:.1f}, "
                f"{level[kind][q]['added_ms']['max']:.1f}]"
                for q in ("p50", "p90", "p99")
            ]
            lines.append(
                f"{c:>4}  {kind:<13} "
                + " ".join(f"{x:>22}" for x in cells)
                + f"  {level[kind]['ratio_p50']['median']:.2f}"
            )
        header = level["litellm_overhead_header_ms"]
        lines.append(
            f"{c:>4}  per event added {level['per_event_added_ms']['median']:.2f} ms; "
            f"x-litellm-overhead-duration-ms median {header['median'] if header else 'absent'} vs "
            f"measured p50 {level['json']['p50']['added_ms']['median']:.2f}"
        )
    t, p = bench["throughput_rps"], bench["proxy"]
    lines.append(
        f"throughput at {t['concurrency']} concurrent: direct {t['direct']} req/s, "
        f"gateway {t['gateway']} req/s; proxy CPU {p['cpu_ms_per_request']} ms per request, "
        f"RSS {p['rss_mb']} MiB; {bench['wall_seconds']} s"
    )
    return "\n".join(lines)
