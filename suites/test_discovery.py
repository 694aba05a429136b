"""DISCOVERY and HEALTH: model listing and the health endpoints."""

from __future__ import annotations

import pytest

from harness.claude_code import (
    DISCOVERY_PATH,
    DISCOVERY_TIMEOUT_S,
    PROFILES,
    discovery_keeps,
    has_discovery,
)
from harness.fakes import ModelList, Reply
from harness.gateway.configs import is_pool_name
from harness.protocol.client import message_body
from harness.protocol.validators import validate_model_list

from .support.asserts import assert_status


@pytest.mark.req("DISC-001")
@pytest.mark.blackbox
def test_model_list_has_anthropic_shape(gateway, observe):
    """GET /v1/models with Claude Code's headers answers in Anthropic's shape."""
    ex = gateway.request("GET", "/v1/models")
    assert_status(ex, 200)
    observe("first entry", (ex.json().get("data") or [None])[0], volatile=True)
    validate_model_list(ex.json())


@pytest.mark.req("DISC-002")
@pytest.mark.needs("config")
def test_model_list_names_every_configured_model(gateway, proxy, impl, observe):
    """GET /v1/models lists every configured model name."""
    ex = gateway.request("GET", "/v1/models")
    assert_status(ex, 200)
    listed = {m.get("id") for m in ex.json().get("data", [])}
    missing = sorted(set(proxy.gateway.model_names(impl.capabilities)) - listed)
    observe("configured but not listed", missing)
    observe("listed", sorted(str(i) for i in listed if not is_pool_name(str(i))))
    assert missing == [], f"configured but not listed: {missing}"


@pytest.mark.req("HEALTH-001")
@pytest.mark.blackbox
def test_quickstart_health_check_answers(
    proxy, anthropic_provider, openai_provider, make_client, observe
):
    """The quickstart's `curl /health` (no key) answers 200 with the gateway's health."""
    client = make_client(proxy.url, None, auth="none")
    try:
        ex = client.request("GET", "/health")
    finally:
        client.close()
    observe("status", ex.status)
    assert_status(ex, 200)
    # The quickstart's reader runs it to see the gateway's state: an empty answer tells them
    # nothing.
    body = ex.json() if ex.text.strip() else None
    observe("answer", type(body).__name__ if body is not None else "empty")
    assert body, (
        f"expected the gateway's health in the answer, observed {ex.text[:200]!r}:\n"
        f"{ex.transcript()}"
    )


@pytest.mark.req("HEALTH-002")
@pytest.mark.blackbox
def test_liveliness_answers_without_key_or_provider(
    proxy, impl, anthropic_provider, openai_provider, make_client
):
    """The gateway's liveness path answers 200 without a key and without calling any provider
    (LiteLLM's /health/liveliness; each driver names its own)."""
    fakes = (anthropic_provider, openai_provider)
    # Whatever an earlier check or the proxy's start set travelling lands first (issue 38: the
    # check used to forgive any model listing instead); then every request is this call's.
    for fake in fakes:
        fake.settle(quiet=0.3)
    before = [len(fake.received()) for fake in fakes]
    client = make_client(proxy.url, None, auth="none")
    try:
        ex = client.request("GET", impl.driver.liveness_path)
    finally:
        client.close()
    for fake in fakes:
        fake.settle(quiet=0.3)
    assert_status(ex, 200)
    pairs = zip(fakes, before, strict=True)
    called = [f"{r.method} {r.path}" for f, n in pairs for r in f.received()[n:]]
    assert called == [], f"expected no provider call, observed {called}"


DISCOVERY_AUTH = [
    pytest.param("bearer", id="bearer"),
    pytest.param("x-api-key", id="x-api-key"),
    pytest.param("both", id="both-headers"),
]
DISCOVERING = [p["version"] for p in PROFILES if has_discovery(p["version"])]


def _discover(gateway, auth: str):
    """Claude Code's discovery request; "both" is what 2.1.248 and later send when a helper is the
    credential."""
    extra = {"x-api-key": gateway.key} if auth == "both" else None
    return gateway.request(
        "GET", DISCOVERY_PATH, auth="bearer" if auth == "both" else auth, headers=extra
    )


@pytest.mark.req("DISC-003")
@pytest.mark.blackbox
@pytest.mark.parametrize("auth", DISCOVERY_AUTH)
def test_discovery_request_is_answered_directly_with_any_credential_header(gateway, auth, observe):
    """GET /v1/models?limit=1000 with Bearer, x-api-key or both is answered 200, not redirected,
    with ids."""
    ex = _discover(gateway, auth)
    observe("status", ex.status)
    assert not 300 <= ex.status < 400, (
        f"discovery treats any redirect as failure; observed {ex.status} "
        f"to {ex.headers.get('location')}"
    )
    assert_status(ex, 200)
    data = ex.json().get("data")
    assert isinstance(data, list), f"expected a data array, observed {ex.text[:300]}"
    assert data, "expected at least one model, observed an empty data array"
    assert all(isinstance(m, dict) and isinstance(m.get("id"), str) for m in data), (
        "an entry without a string id"
    )


@pytest.mark.req("DISC-004")
@pytest.mark.blackbox
def test_discovery_is_answered_within_claude_codes_timeout(gateway, observe):
    """The discovery request is answered within Claude Code's 3 s discovery timeout."""
    slowest = max(_timed(gateway) for _ in range(3))
    observe("slowest of 3 (s)", round(slowest, 3), volatile=True)
    assert slowest < DISCOVERY_TIMEOUT_S, (
        f"expected under {DISCOVERY_TIMEOUT_S} s, observed {slowest:.2f} s"
    )


def _timed(gateway) -> float:
    ex = _discover(gateway, "bearer")
    assert_status(ex, 200)
    return ex.elapsed


@pytest.mark.req("DISC-005")
@pytest.mark.needs("config")
@pytest.mark.parametrize("version", DISCOVERING, ids=[f"cc-{v}" for v in DISCOVERING])
def test_every_model_claude_code_would_keep_is_listed_under_its_name(
    gateway, proxy, version, observe
):
    """Every configured model whose name Claude Code's discovery filter keeps is listed under that
    same id."""
    listed = {m.get("id") for m in _discover(gateway, "bearer").json().get("data", [])}
    names = proxy.gateway.user_models or proxy.gateway.model_names()
    observe(
        "configured names Claude Code's filter drops (aliases to add by hand)",
        sorted(n for n in names if not discovery_keeps(n, version)),
    )
    missing = sorted(n for n in names if discovery_keeps(n, version) and n not in listed)
    observe("kept by the filter but not listed", missing)
    assert missing == [], f"Claude Code {version} would not offer: {missing}"


@pytest.mark.req("DISC-006")
@pytest.mark.needs("config")
@pytest.mark.parametrize("version", DISCOVERING, ids=[f"cc-{v}" for v in DISCOVERING])
def test_every_id_claude_code_keeps_is_served(
    gateway, anthropic_provider, openai_provider, version, observe
):
    """Every listed id Claude Code's discovery keeps, rewritten ones included, reaches an upstream
    when named."""
    anthropic_provider.script("messages", Reply.text("ok"), times=None)
    openai_provider.script_generation(Reply.text("ok"), times=None)
    listed = [str(m.get("id")) for m in _discover(gateway, "bearer").json().get("data", [])]
    kept = sorted(i for i in listed if discovery_keeps(i, version) and not is_pool_name(i))
    observe("ids kept", kept)
    refused = {}
    for model in kept:
        ex = gateway.messages(message_body(model))
        if ex.status != 200:
            refused[model] = f"{ex.status} {ex.text[:120]}"
    observe("kept but not served", sorted(refused))
    assert refused == {}, (
        f"Claude Code {version} would offer ids the gateway does not serve: {refused}"
    )


# Claude Code's probes as it sends them: the HEAD startup probe (HEAD / before 2.1, HEAD /api/hello
# since), and Bedrock mode's inference-profile listing, which carries no credential with
# CLAUDE_CODE_SKIP_BEDROCK_AUTH (captured in harness/claude_code/profiles/2.0.77.json).
PROBES = [
    pytest.param(("HEAD", "/", True), id="head-root"),
    pytest.param(("HEAD", "/api/hello", True), id="head-api-hello"),
    pytest.param(
        ("GET", "/bedrock/inference-profiles?type=SYSTEM_DEFINED", False),
        id="bedrock-inference-profiles",
        marks=[pytest.mark.needs("bedrock-passthrough")],
    ),
]


@pytest.mark.req("DISC-008")
@pytest.mark.parametrize("probe", PROBES)
def test_claude_code_probes_get_no_server_error(proxy, make_client, request, probe, observe):
    """Claude Code's probes (HEAD /, HEAD /api/hello, Bedrock mode's keyless GET
    /bedrock/inference-profiles) are answered without a server error."""
    method, path, keyed = probe
    if path.startswith("/bedrock/"):
        bedrock = request.getfixturevalue("bedrock_provider")
        bedrock.script("inference_profiles", ModelList(()), optional=True)
    client = make_client(proxy.url, proxy.master_key if keyed else None)
    ex = client.request(method, path, validate=False, reason="a probe: any answer but a 5xx")
    observe("status", ex.status)
    assert ex.status < 500, f"expected no server error, observed {ex.status}:\n{ex.transcript()}"
