"""DISCOVERY and HEALTH: model listing and the health endpoints."""

from __future__ import annotations

import pytest

from harness.checks import assert_status
from harness.client import GatewayClient
from harness.gateways import is_pool_name
from harness.validators import validate_model_list


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
def test_quickstart_health_check_answers(proxy, anthropic_provider, openai_provider, observe):
    """The quickstart's `curl /health` (no key) answers 200."""
    client = GatewayClient(proxy.url, None, auth="none")
    try:
        ex = client.request("GET", "/health")
    finally:
        client.close()
    observe("status", ex.status)
    assert_status(ex, 200)


@pytest.mark.req("HEALTH-002")
@pytest.mark.blackbox
def test_liveliness_answers_without_key_or_provider(proxy, anthropic_provider, openai_provider):
    """GET /health/liveliness answers 200 without a key and without calling any provider."""
    client = GatewayClient(proxy.url, None, auth="none")
    try:
        ex = client.request("GET", "/health/liveliness")
    finally:
        client.close()
    assert_status(ex, 200)
    assert anthropic_provider.received() == []
    assert [r for r in openai_provider.received() if r.route != "models"] == []
