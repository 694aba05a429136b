"""AUTH: who may use the gateway, and which key goes where."""

from __future__ import annotations

import base64
import re

import pytest

from harness.fakes import HttpError, Reply, TokenCount
from harness.fakes.journal import secret_places
from harness.gateway.configs import OPENAI_MODEL, QUICKSTART_EXAMPLE_KEY, QUICKSTART_MODELS, SONNET
from harness.protocol.client import GatewayClient, message_body

from .support.answers import assert_counted, assert_says
from .support.asserts import NEEDS_OPENAI, assert_anthropic_error, assert_status

ENDPOINTS = {
    "messages": lambda c, **kw: c.messages(message_body(SONNET), **kw),
    "count_tokens": lambda c, **kw: c.count_tokens(message_body(SONNET), **kw),
}


def _script_success(provider, endpoint: str) -> None:
    if endpoint == "messages":
        provider.script("messages", Reply.text("ok"))
    else:
        provider.script("count_tokens", TokenCount(11))


def _assert_success(ex, endpoint: str) -> None:
    """The provider's scripted answer came back, not just a 200."""
    if endpoint == "messages":
        assert_says(ex, "ok")
    else:
        assert_counted(ex, 11)


@pytest.mark.req("AUTH-001")
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_master_key_is_accepted_as_bearer(gateway, anthropic_provider, endpoint):
    """The master key is accepted as `Authorization: Bearer`."""
    _script_success(anthropic_provider, endpoint)
    _assert_success(ENDPOINTS[endpoint](gateway, auth="bearer"), endpoint)


@pytest.mark.req("AUTH-002")
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_master_key_is_accepted_as_x_api_key(gateway, anthropic_provider, endpoint):
    """The master key is accepted as `x-api-key`."""
    _script_success(anthropic_provider, endpoint)
    _assert_success(ENDPOINTS[endpoint](gateway, auth="x-api-key"), endpoint)


BAD_CREDENTIALS = {
    "missing": {},
    "wrong-bearer": {"authorization": "Bearer sk-not-the-master-key"},
    "wrong-x-api-key": {"x-api-key": "sk-not-the-master-key"},
    "empty-bearer": {"authorization": "Bearer "},
    "basic-scheme": {
        "authorization": "Basic " + base64.b64encode(b"user:sk-not-the-master-key").decode()
    },
    "bearer-without-token": {"authorization": "Bearer"},
}


def _bad_request(gateway: GatewayClient, endpoint: str, headers: dict[str, str]):
    return ENDPOINTS[endpoint](gateway, auth="none", headers=headers)


@pytest.mark.req("AUTH-003")
@pytest.mark.blackbox
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("credential", BAD_CREDENTIALS, ids=str)
def test_bad_credentials_get_401(gateway, anthropic_provider, endpoint, credential):
    """A missing, wrong, empty or malformed key gets HTTP 401 and reaches no provider."""
    assert_status(_bad_request(gateway, endpoint, BAD_CREDENTIALS[credential]), 401)
    assert anthropic_provider.received() == []


@pytest.mark.req("AUTH-004")
@pytest.mark.blackbox
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("credential", BAD_CREDENTIALS, ids=str)
def test_bad_credentials_get_anthropic_authentication_error(
    gateway, anthropic_provider, endpoint, credential
):
    """The 401 for bad credentials is Anthropic's envelope with type authentication_error."""
    ex = _bad_request(gateway, endpoint, BAD_CREDENTIALS[credential])
    assert_anthropic_error(ex, 401)


PASSTHROUGH = pytest.mark.needs("anthropic-passthrough")
ROUTES = [
    pytest.param(
        r,
        id=r,
        marks=[NEEDS_OPENAI]
        if r.startswith("openai")
        else [PASSTHROUGH]
        if "passthrough" in r
        else [],
    )
    for r in (
        "anthropic-json",
        "anthropic-stream",
        "openai-json",
        "openai-stream",
        "passthrough-json",
        "passthrough-stream",
        "count-tokens",
    )
]


def _send_on_route(gateway, anthropic_provider, openai_provider, route: str, auth: str):
    stream = route.endswith("stream")
    if route.startswith("openai"):
        openai_provider.script_generation(Reply.text("ok"))
        return gateway.messages(message_body(OPENAI_MODEL, stream=stream), auth=auth)
    if route == "count-tokens":
        anthropic_provider.script("count_tokens", TokenCount(3))
        return gateway.count_tokens(message_body(SONNET), auth=auth)
    anthropic_provider.script("messages", Reply.text("ok"))
    prefix = "/anthropic" if route.startswith("passthrough") else ""
    return gateway.messages(message_body(SONNET, stream=stream), prefix=prefix, auth=auth)


@pytest.mark.req("AUTH-005")
@pytest.mark.parametrize("auth", ["bearer", "x-api-key"], ids=str)
@pytest.mark.parametrize("route", ROUTES)
def test_gateway_key_never_reaches_a_provider(
    gateway, proxy, anthropic_provider, openai_provider, route, auth
):
    """The gateway's master key appears in no header, query or body any provider receives."""
    ex = _send_on_route(gateway, anthropic_provider, openai_provider, route, auth)
    received = anthropic_provider.received() + openai_provider.received()
    assert secret_places(received, proxy.master_key) == []
    if ex.status == 401 and auth == "x-api-key" and not received:
        # Anthropic's gateway takes its session token as a Bearer only: a refused request carried
        # the key nowhere, and AUTH-002 judges the refusal (issue 41).
        anthropic_provider.reset()
        openai_provider.reset()
        pytest.skip("not applicable: the gateway refuses its key as x-api-key (AUTH-002)")
    assert_status(ex, 200)
    if route != "count-tokens":  # a gateway may count tokens itself, without any provider
        assert received, "no provider received the request"
    elif not received:
        anthropic_provider.reset()  # counted by the gateway: the scripted count was not asked for
    assert secret_places(received, proxy.master_key) == []


@pytest.mark.req("AUTH-006")
@pytest.mark.parametrize("route", [ROUTES[0], ROUTES[2], ROUTES[4]])
def test_configured_provider_credential_reaches_the_provider(
    gateway, upstreams, anthropic_provider, openai_provider, route
):
    """The provider credential from the config (os.environ/ reference) reaches the provider."""
    assert_status(
        _send_on_route(gateway, anthropic_provider, openai_provider, route, "bearer"), 200
    )
    if route.startswith("openai"):
        got = [r for r in openai_provider.received() if r.route in ("chat", "responses")][-1]
        assert got.header("authorization") == f"Bearer {upstreams.openai_key}"
    else:
        assert anthropic_provider.last("messages").header("x-api-key") == upstreams.anthropic_key


# Each takes (gateway, anthropic provider, a fresh deployment name for the provider errors).
ERROR_SCENARIOS = {
    "unknown-model": lambda g, a, m: g.messages(message_body("no-such-model-anywhere")),
    "malformed-json": lambda g, a, m: g.request(
        "POST", "/v1/messages?beta=true", content=b'{"model": '
    ),
    "missing-max-tokens": lambda g, a, m: g.messages(
        {"model": SONNET, "messages": [{"role": "user", "content": "x"}]}
    ),
    "provider-401": lambda g, a, m: (
        a.script("messages", HttpError(401, "authentication_error", "bad key"), times=None),
        g.messages(message_body(m())),
    )[1],
    "provider-500": lambda g, a, m: (
        a.script("messages", HttpError(500, "api_error", "boom"), times=None),
        g.messages(message_body(m())),
    )[1],
    # A gateway that asks no key forwards it: the provider answers, the check says so (issue 41).
    "key-extending-master-key": lambda g, a, m: (
        a.script("messages", Reply.text("forwarded"), optional=True),
        g.messages(
            message_body(SONNET), auth="none", headers={"authorization": f"Bearer {g.key}x"}
        ),
    )[1],
}


@pytest.mark.req("AUTH-007")
@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(s, id=s, marks=[] if s.startswith("provider") else [pytest.mark.blackbox])
        for s in ERROR_SCENARIOS
    ],
)
def test_error_responses_never_echo_the_master_key(
    gateway, anthropic_provider, fresh_model, scenario
):
    """No error body or header the gateway returns contains the master key."""
    if gateway.key is None:
        pytest.skip("no gateway key given (--gateway-key), so there is no key to look for")
    ex = ERROR_SCENARIOS[scenario](gateway, anthropic_provider, fresh_model)
    assert ex.status >= 400, f"expected an error, observed {ex.status}"
    places = [k for k, v in ex.headers.items() if gateway.key in v] + (
        ["body"] if gateway.key in ex.text else []
    )
    assert places == [], f"the master key is echoed in: {places}"


def _unauthenticated_outcome(pool, name: str, anthropic_provider, make_client) -> str:
    got = pool.try_get(name)
    if isinstance(got, str):
        # Only a refusal that names the missing key is the detection; a crash or a missing binary is
        # not.
        return (
            "refuses to start"
            if re.search(r"master[ _]key", got, re.I)
            else "fails to start for another reason"
        )
    anthropic_provider.script("messages", Reply.text("ok"))
    client = make_client(got.url, None, auth="none")
    try:
        ex = client.messages(message_body(QUICKSTART_MODELS[0]))
    finally:
        client.close()
    if not anthropic_provider.received():
        anthropic_provider.reset()  # refused at the door: the scripted answer was never asked for
    if ex.status == 200:
        return "starts and enforces no auth"
    if ex.status == 401:
        return "enforces auth"
    return f"answers an unauthenticated request with {ex.status}"


@pytest.mark.req("AUTH-008")
@pytest.mark.gateway("quickstart-placement")
def test_quickstart_master_key_placement_never_yields_an_open_proxy(
    proxy_pool, anthropic_provider, make_client, observe
):
    """A master_key under litellm_settings never yields an open proxy: it refuses to start or
    requires the key."""
    outcome = _unauthenticated_outcome(
        proxy_pool, "quickstart-placement", anthropic_provider, make_client
    )
    observe("quickstart placement (litellm_settings.master_key)", outcome)
    assert outcome in ("refuses to start", "enforces auth"), (
        f"the quickstart's config {outcome}: an unauthenticated request was answered, "
        "so anyone who can reach the proxy spends the provider credential"
    )


@pytest.mark.req("AUTH-009")
@pytest.mark.needs("litellm-quickstart")
@pytest.mark.gateway("quickstart-placement")
def test_quickstart_master_key_placement_protects_the_proxy(
    proxy_pool, anthropic_provider, make_client, observe
):
    """With master_key under litellm_settings (the quickstart's placement), the proxy requires that
    key."""
    outcome = _unauthenticated_outcome(
        proxy_pool, "quickstart-placement", anthropic_provider, make_client
    )
    observe("unauthenticated request", outcome)
    assert outcome == "enforces auth"


@pytest.mark.req("AUTH-010")
@pytest.mark.needs("litellm-quickstart")
@pytest.mark.gateway("quickstart-env-key")
def test_quickstart_example_master_key_is_accepted(
    proxy_pool, anthropic_provider, make_client, observe
):
    """The quickstart's example key sk-1234567890 (exported as LITELLM_MASTER_KEY) works as the
    master key."""
    got = proxy_pool.try_get("quickstart-env-key")
    observe("proxy start", "refused" if isinstance(got, str) else "started")
    assert not isinstance(got, str), f"the proxy refused to start with the quickstart's key:\n{got}"
    anthropic_provider.script("messages", Reply.text("ok"))
    client = make_client(got.url, QUICKSTART_EXAMPLE_KEY)
    try:
        assert_status(client.messages(message_body(QUICKSTART_MODELS[0])), 200)
    finally:
        client.close()


# A subscription login's OAuth access token (the sk-ant-oat01- form Claude Code's /login stores),
# and the beta Anthropic asks OAuth callers for.
SUBSCRIPTION_TOKEN = "sk-ant-oat01-conformanceSubscriptionToken0000000000000000-AAAAAA"
SUBSCRIPTION_HEADERS = {"anthropic-beta": "oauth-2025-04-20"}


@pytest.mark.req("AUTH-011")
@pytest.mark.needs("litellm-settings")
@pytest.mark.settings(
    forward_llm_provider_auth_headers=(
        "true in litellm_settings, and the gateway key in x-litellm-api-key through "
        "ANTHROPIC_CUSTOM_HEADERS (LiteLLM's Claude Code BYOK tutorial)"
    )
)
@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            "/anthropic/v1/messages",
            id="/anthropic/v1/messages",
            marks=pytest.mark.needs("anthropic-passthrough"),
        ),
        pytest.param("/v1/messages", id="/v1/messages"),
    ],
)
@pytest.mark.parametrize(
    "deployment",
    [
        pytest.param("no-provider-key", marks=pytest.mark.gateway("byok")),
        pytest.param("anthropic-api-key-set", marks=pytest.mark.gateway("byok-with-key")),
    ],
)
def test_a_subscription_login_reaches_anthropic_with_its_own_token(
    proxy, make_client, anthropic_provider, gateway_secrets, deployment, path, observe
):
    """With LiteLLM's documented BYOK forwarding, a Claude Code client logged in with a
    subscription reaches Anthropic with its own OAuth token."""
    anthropic_provider.script("messages", Reply.text("billed to the subscription"))
    client = make_client(proxy.url, SUBSCRIPTION_TOKEN)
    headers = {**SUBSCRIPTION_HEADERS, "x-litellm-api-key": f"Bearer {proxy.master_key}"}
    ex = client.request("POST", path, json_body=message_body(SONNET), headers=headers)
    assert_says(ex, "billed to the subscription")
    sent = anthropic_provider.last("messages")
    got = {
        name: _credential_name(sent.header(name) or "", gateway_secrets)
        for name in ("authorization", "x-api-key")
    }
    observe("credentials at Anthropic", got)
    # The caller's token alone: a gateway key beside it would be used (x-api-key wins at Anthropic).
    assert got == {"authorization": "the subscription token", "x-api-key": "none"}, (
        f"expected Anthropic to get the caller's own Bearer token and nothing else, observed {got}"
    )
    assert sent.header("authorization") == f"Bearer {SUBSCRIPTION_TOKEN}"


def _credential_name(value: str, secrets: dict[str, str]) -> str:
    """What a credential is, never its value (a report must not carry a key)."""
    if not value:
        return "none"
    if SUBSCRIPTION_TOKEN in value:
        return "the subscription token"
    named = [name for name, secret in secrets.items() if secret and secret in value]
    return named[0] if named else "another credential"
