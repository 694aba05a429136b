"""LOAD: many Claude Code sessions at once through the gateway as deployed (LiteLLM's defaults).

Each client streams its own nonce; the fake answers every request with the text it was
sent (``Echo``), paced, so answers that cross between users, get mixed up or lose events
are caught. Timings and the proxy's memory are recorded for the report, never asserted as
performance: the benchmarks measure performance.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import statistics
import time
from dataclasses import dataclass, field

import httpx
import psutil
import pytest
from httpx_sse import EventSource

from harness.fakes import Echo, RecordedRequest
from harness.fakes.journal import secret_places
from harness.gateway.configs import LOAD_MODEL
from harness.protocol.client import message_body
from harness.protocol.validators import check_stream
from harness.protocol.validators.sse import SSEEvent

from .support.routes import BY_NAME, Route, route_params

pytestmark = [pytest.mark.needs("litellm")]
LEVELS = [32, 128]
PER_REQUEST_LIMIT_S = 60.0


@dataclass
class Session:
    nonce: str
    status: int = 0
    events: list[SSEEvent] = field(default_factory=list)
    first_byte_s: float | None = None
    total_s: float = 0.0
    error: str = ""
    body: str = ""  # an answer that is not a stream (an error)

    @property
    def text(self) -> str:
        return "".join(
            e.data["delta"].get("text", "")
            for e in self.events
            if isinstance(e.data, dict) and e.data.get("type") == "content_block_delta"
        )


async def _one(http: httpx.AsyncClient, url: str, headers: dict[str, str], model: str) -> Session:
    session = Session(secrets.token_hex(8))
    started = time.monotonic()
    try:
        body = message_body(model, f"session {session.nonce}", stream=True)
        async with http.stream("POST", url, json=body, headers=headers) as response:
            session.status = response.status_code
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                session.body = (await response.aread()).decode("utf-8", "replace")
                return session
            async for sse in EventSource(response).aiter_sse():
                now = time.monotonic()
                session.first_byte_s = session.first_byte_s or now - started
                data = json.loads(sse.data) if sse.data.startswith("{") else sse.data
                session.events.append(SSEEvent(sse.event, data, sse.data, now))
    except httpx.HTTPError as exc:
        session.error = f"{type(exc).__name__}: {exc}"
    finally:
        session.total_s = time.monotonic() - started
    return session


async def _swarm(gateway, model: str, n: int, keys: list[str] | None = None) -> list[Session]:
    """``n`` concurrent sessions; with ``keys``, session i authenticates with keys[i] (Bearer, as
    Claude Code)."""
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    headers = [
        gateway.headers()
        if keys is None
        else {**gateway.headers(), "authorization": f"Bearer {keys[i]}"}
        for i in range(n)
    ]
    async with httpx.AsyncClient(
        timeout=PER_REQUEST_LIMIT_S, limits=limits, trust_env=False
    ) as http:
        url = gateway.base_url + "/v1/messages?beta=true"
        return list(await asyncio.gather(*(_one(http, url, headers[i], model) for i in range(n))))


def _rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        root = psutil.Process(pid)
        return round(
            sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20, 1
        )
    except psutil.NoSuchProcess:
        return None


def _quantiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(cuts[49] * 1000), "p99": round(cuts[98] * 1000)}


# Anthropic at both levels; Bedrock and Vertex, whose streams take other code paths in the gateway,
# at 32.
LOAD_ROUTES = [
    pytest.param(route, n, id=f"{route.name}-{n}-streams", marks=route_marks)
    for p in route_params(
        "LOAD-001",
        tuple(BY_NAME[r] for r in ("anthropic", "bedrock-invoke", "bedrock-converse", "vertex")),
    )
    for route, route_marks in [(p.values[0], p.marks)]
    for n in (LEVELS if p.values[0].name == "anthropic" else LEVELS[:1])
]


def provider_credentials(route: Route, got: list[RecordedRequest], proxy) -> set[str]:
    """What each provider request authenticated with: the upstream key, the SigV4 access key, or the
    token."""
    if route.fake == "bedrock":
        return {
            f"{r.labels.get('auth')} {r.labels.get('access_key')} {r.labels.get('signature')}"
            for r in got
        }
    if route.fake == "vertex":
        return {str(r.labels.get("auth")) for r in got}
    return {str(r.header("x-api-key")) for r in got}


def expected_credentials(route: Route, proxy) -> set[str]:
    env = proxy.gateway.env
    if route.fake == "bedrock":
        return {f"SigV4 {env['FAKE_AWS_ACCESS_KEY_ID']} valid"}
    if route.fake == "vertex":
        return {"issued token"}
    return {env["FAKE_ANTHROPIC_UPSTREAM_KEY"]}


@pytest.mark.req("LOAD-001")
@pytest.mark.parametrize(("route", "concurrency"), LOAD_ROUTES)
def test_concurrent_streams_each_get_exactly_their_own_answer(
    gateway, proxy, request, fresh_model, route, concurrency, observe
):
    """Under 32 and 128 concurrent streams each client gets exactly its own content, grammatically,
    with no 5xx, and each provider request carries only the provider credential."""
    fake = request.getfixturevalue(f"{route.fake}_provider")
    route.script(fake, Echo(delay=0.02), stream=True, times=None)
    pid = getattr(getattr(proxy, "process", None), "pid", None)
    before = _rss_mb(pid)
    sessions = asyncio.run(_swarm(gateway, fresh_model(route.pool), concurrency))
    observe("proxy RSS before/after (MiB)", [before, _rss_mb(pid)], volatile=True)
    ok = [s for s in sessions if s.status == 200 and not s.error]
    if ok:
        observe(
            "time to first byte (ms)",
            _quantiles([s.first_byte_s or s.total_s for s in ok]),
            volatile=True,
        )
        observe("total time (ms)", _quantiles([s.total_s for s in ok]), volatile=True)
    failures = sorted({s.error or f"HTTP {s.status}" for s in sessions if s not in ok})
    observe("failures", failures)
    assert failures == [], f"{len(sessions) - len(ok)} of {concurrency} sessions failed: {failures}"
    crossed = [(s.nonce, s.text) for s in ok if s.text != f"echo: session {s.nonce}"]
    assert crossed == [], f"{len(crossed)} answers were not their own, e.g. {crossed[:3]}"
    broken = [(s.nonce, r.rule) for s in ok for r in check_stream(s.events).violations]
    assert broken == [], f"streams broke the grammar: {broken[:5]}"
    got = route.received(fake)
    assert len(got) == concurrency, (
        f"the provider got {len(got)} requests for {concurrency} sessions"
    )
    assert secret_places(got, proxy.master_key) == [], "the gateway key reached the provider"
    seen, wanted = provider_credentials(route, got, proxy), expected_credentials(route, proxy)
    assert seen == wanted, f"provider credentials seen: {seen}, expected only {wanted}"


@pytest.mark.req("LOAD-002")
@pytest.mark.gateway("load-keys")
@pytest.mark.parametrize("concurrency", LEVELS, ids=[f"{n}-keys" for n in LEVELS])
def test_concurrent_sessions_with_distinct_keys_are_each_authorised_alone(
    gateway, proxy, anthropic_provider, concurrency, observe
):
    """Under 32 and 128 concurrent streams, each with its own key from a custom_auth allowlist and
    one in eight with a key the allowlist lacks, every allowed client gets exactly its own answer
    and every other a 401."""
    anthropic_provider.script("messages", Echo(delay=0.02), times=None)
    allowed = list(proxy.gateway.virtual_keys)[:concurrency]
    keys = [
        k if i % 8 else "sk-load-not-listed-" + secrets.token_hex(6) for i, k in enumerate(allowed)
    ]
    sessions = asyncio.run(_swarm(gateway, LOAD_MODEL, concurrency, keys))
    refused = [i for i in range(concurrency) if i % 8 == 0]
    ok = [s for i, s in enumerate(sessions) if i not in refused]
    failures = sorted({s.error or f"HTTP {s.status}" for s in ok if s.status != 200 or s.error})
    observe("listed keys: failures", failures)
    assert failures == [], f"{len(failures)} kinds of failure for listed keys: {failures}"
    observe(
        "time to first byte (ms)",
        _quantiles([s.first_byte_s or s.total_s for s in ok]),
        volatile=True,
    )
    crossed = [(s.nonce, s.text) for s in ok if s.text != f"echo: session {s.nonce}"]
    assert crossed == [], f"{len(crossed)} answers were not their own, e.g. {crossed[:3]}"
    got = anthropic_provider.received("messages")
    assert len(got) == len(ok), (
        f"the provider got {len(got)} requests for {len(ok)} allowed sessions"
    )
    leaked = [k for k in keys if secret_places(got, k)]
    assert leaked == [], f"{len(leaked)} client keys reached the provider"
    assert {r.header("x-api-key") for r in got} == {
        proxy.gateway.env["FAKE_ANTHROPIC_UPSTREAM_KEY"]
    }
    # Last, so a refusal in the wrong shape never hides how the listed keys fared.
    outcomes = sorted(
        {s.error or f"HTTP {s.status}" for i, s in enumerate(sessions) if i in refused}
    )
    observe("unlisted keys: outcomes", outcomes)
    assert outcomes == ["HTTP 401"], (
        f"expected every unlisted key refused with 401, observed {outcomes}"
    )
