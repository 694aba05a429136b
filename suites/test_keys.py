"""KEYS: a virtual key limited to some models gets those and nothing else."""

from __future__ import annotations

import os

import pytest

from harness.fakes import Reply
from harness.gateway.configs import VK_ALIAS_B, VK_MODEL_A, VK_MODEL_B
from harness.protocol.client import GatewayClient, message_body

from .support.answers import assert_says
from .support.asserts import assert_anthropic_error, assert_status

pytestmark = [pytest.mark.gateway("virtual-keys"), pytest.mark.needs("config")]


@pytest.fixture
def limited(proxy, make_client) -> GatewayClient:
    """A client holding the key that may use model A only."""
    (key,) = [k for k, models in proxy.gateway.virtual_keys.items() if models == [VK_MODEL_A]]
    client = make_client(proxy.url, key)
    yield client
    client.close()


@pytest.mark.req("KEYS-001")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_limited_key_gets_its_allowed_model(limited, anthropic_provider, stream):
    """A virtual key limited to model A gets 200 on model A."""
    anthropic_provider.script("messages", Reply.text("allowed"))
    assert_says(limited.messages(message_body(VK_MODEL_A, stream=stream)), "allowed")


@pytest.mark.req("KEYS-002")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_limited_key_is_refused_another_model_with_permission_error(
    limited, anthropic_provider, stream
):
    """The key limited to model A is refused model B with 403 permission_error; no provider is
    called."""
    ex = limited.messages(message_body(VK_MODEL_B, stream=stream))
    assert anthropic_provider.received() == [], "model B's provider was called"
    assert_status(ex, 403)
    assert_anthropic_error(ex, 403)


@pytest.mark.req("KEYS-003")
def test_model_list_for_limited_key_shows_only_its_models(limited, observe):
    """/v1/models with the limited key lists model A and not model B."""
    ex = limited.request("GET", "/v1/models")
    assert_status(ex, 200)
    ids = {m.get("id") for m in ex.json().get("data", [])}
    observe("models listed for the key", sorted(ids))
    assert VK_MODEL_A in ids
    assert VK_MODEL_B not in ids


@pytest.mark.req("KEYS-004")
@pytest.mark.parametrize(
    "variant",
    [VK_ALIAS_B, f"{VK_MODEL_B}[1m]", VK_MODEL_B.upper(), f" {VK_MODEL_B}"],
    ids=["alias", "1m-suffix", "upper-case", "leading-space"],
)
def test_variants_of_a_forbidden_model_do_not_get_through(
    limited, anthropic_provider, variant, observe
):
    """Aliases, a [1m] suffix and case variants of model B are refused for the key limited to
    model A."""
    ex = limited.messages(message_body(variant))
    observe("status", ex.status)
    assert anthropic_provider.received() == [], f"{variant!r} reached a provider"
    assert 400 <= ex.status < 500, f"expected a 4xx refusal, observed {ex.status}"


@pytest.mark.req("KEYS-005")
@pytest.mark.needs("virtual-keys")
def test_database_backed_key_enforces_its_model_list(proxy_pool, anthropic_provider, make_client):
    """DB-backed virtual keys (/key/generate with models=[A]) enforce the allowlist."""
    if not os.environ.get("CC_GATEWAY_DATABASE_URL"):
        pytest.skip(
            "DB-backed virtual keys need CC_GATEWAY_DATABASE_URL (a PostgreSQL URL) and Prisma's "
            "engine binaries, which download only from Prisma's own server; neither is available "
            "here. The offline custom_auth allowlist (KEYS-001..004) covers the policy."
        )
    proxy = proxy_pool.get("virtual-keys-db")
    admin = make_client(proxy.url, proxy.master_key)
    try:
        made = admin.request("POST", "/key/generate", json_body={"models": [VK_MODEL_A]})
        assert_status(made, 200)
        limited = make_client(proxy.url, made.json()["key"])
        anthropic_provider.script("messages", Reply.text("allowed"))
        assert_status(limited.messages(message_body(VK_MODEL_A)), 200)
        refused = limited.messages(message_body(VK_MODEL_B))
        assert 400 <= refused.status < 500, (
            f"model B: expected a 4xx refusal, observed {refused.status}"
        )
        limited.close()
    finally:
        admin.close()
