"""Benchmarks of the harness core: proxy startup and RSS, request latency with and without the
proxy.

Run with the project's environment:
    .venv/bin/python benchmarks/bench_core.py [--litellm-python PATH]
Not part of the test run: performance is measured here, never asserted in a timed test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.fakes import FakeAnthropic, Reply
from harness.gateway.configs import CLAUDE_CODE_DEFAULT_MODELS, Upstreams, build
from harness.gateway.process import spawn, wait_ready
from harness.protocol.client import CLAUDE_CODE_HEADERS, message_body


def tree_rss_mb(pid: int) -> float:
    root = psutil.Process(pid)
    procs = [root, *root.children(recursive=True)]
    return sum(p.memory_info().rss for p in procs) / 1e6


def p50_ms(client: httpx.Client, url: str, headers: dict[str, str], n: int) -> tuple[float, float]:
    body = message_body(CLAUDE_CODE_DEFAULT_MODELS[0])
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.post(url, json=body, headers=headers)
        times.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--litellm-python", default=sys.executable)
    ap.add_argument("--starts", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    fake = FakeAnthropic().start()
    fake.script("messages", Reply.text("benchmark"), times=None)
    upstreams = Upstreams(fake.url, fake.url)
    headers = {**CLAUDE_CODE_HEADERS, "x-api-key": upstreams.anthropic_key}
    with httpx.Client(trust_env=False) as client:
        client.post(fake.url + "/v1/messages", json=message_body("warmup"), headers=headers)
        direct = p50_ms(client, fake.url + "/v1/messages", headers, args.requests)
    print(
        f"fake provider direct: p50 {direct[0]:.2f} ms, p90 {direct[1]:.2f} ms "
        f"({args.requests} requests)"
    )
    for i in range(args.starts):
        gateway = build("default", upstreams)
        with tempfile.TemporaryDirectory() as tmp:
            proxy = wait_ready(spawn(gateway, args.litellm_python, Path(tmp), launch="exec"))
            try:
                time.sleep(1.0)  # let lazy imports settle before reading RSS
                print(
                    f"start {i + 1}: LiteLLM {proxy.version} "
                    f"ready in {proxy.startup_seconds:.2f} s, "
                    f"RSS {tree_rss_mb(proxy.process.pid):.0f} MB"
                )
                if i == 0:
                    auth = {**CLAUDE_CODE_HEADERS, "authorization": f"Bearer {gateway.master_key}"}
                    with httpx.Client(trust_env=False, timeout=30) as client:
                        for _ in range(5):
                            client.post(
                                proxy.url + "/v1/messages?beta=true",
                                json=message_body(CLAUDE_CODE_DEFAULT_MODELS[0]),
                                headers=auth,
                            )
                        via = p50_ms(
                            client, proxy.url + "/v1/messages?beta=true", auth, args.requests
                        )
                    print(
                        f"through the proxy: p50 {via[0]:.2f} ms, p90 {via[1]:.2f} ms "
                        f"({args.requests} requests)"
                    )
            finally:
                proxy.stop()
    fake.stop()


if __name__ == "__main__":
    main()
