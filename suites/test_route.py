"""ROUTE: each model name reaches the right provider, endpoint and provider-side model."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.fakes import Reply
from harness.gateway.configs import (
    ALIAS_MODEL,
    ENV_ROUTED_MODEL,
    OPENAI_ALIAS_MODEL,
    OPENAI_MODEL,
    SONNET,
)
from harness.gateway.configs.user import SERVED
from harness.gateway.configs.user import load as load_user_config
from harness.protocol.client import message_body

from .support.answers import assert_says
from .support.asserts import NEEDS_OPENAI, assert_anthropic_error, assert_status

ROUTES = [
    # (gateway, model_name, provider, provider routes allowed, provider-side model)
    ("default", SONNET, "anthropic", {"messages"}, SONNET),
    ("default", ALIAS_MODEL[0], "anthropic", {"messages"}, ALIAS_MODEL[1]),
    ("default", OPENAI_MODEL, "openai", {"responses", "chat"}, OPENAI_MODEL),
    ("default", OPENAI_ALIAS_MODEL[0], "openai", {"responses", "chat"}, OPENAI_ALIAS_MODEL[1]),
    ("openai-chat", OPENAI_MODEL, "openai", {"chat"}, OPENAI_MODEL),
    ("openai-chat", OPENAI_ALIAS_MODEL[0], "openai", {"chat"}, OPENAI_ALIAS_MODEL[1]),
]
ROUTE_IDS = [
    "anthropic",
    "anthropic-alias",
    "openai",
    "openai-alias",
    "openai-chat-completions",
    "openai-chat-completions-alias",
]


def _with_gateway(cases, ids):
    return [
        pytest.param(
            *c,
            id=i,
            marks=[pytest.mark.gateway(c[0])] + ([NEEDS_OPENAI] if c[2] == "openai" else []),
        )
        for c, i in zip(cases, ids, strict=True)
    ]


@pytest.mark.req("ROUTE-001")
@pytest.mark.parametrize(
    ("config", "model", "provider", "endpoints", "upstream_model"), _with_gateway(ROUTES, ROUTE_IDS)
)
def test_model_name_reaches_its_provider_model(
    gateway,
    anthropic_provider,
    openai_provider,
    config,
    model,
    provider,
    endpoints,
    upstream_model,
    observe,
):
    """Each model_name reaches litellm_params.model on the right provider and endpoint."""
    fake = anthropic_provider if provider == "anthropic" else openai_provider
    other = openai_provider if provider == "anthropic" else anthropic_provider
    if provider == "openai":
        openai_provider.script_generation(Reply.text("routed"))
    else:
        anthropic_provider.script("messages", Reply.text("routed"))
    assert_status(gateway.messages(message_body(model)), 200)
    calls = [r for r in fake.received() if r.route in endpoints | {"messages", "chat", "responses"}]
    assert len(calls) == 1, (
        f"expected one generation call on the {provider} provider, observed {len(calls)}"
    )
    observe("provider endpoint", calls[0].path)
    observe("provider-side model", calls[0].body.get("model"))
    assert calls[0].route in endpoints, f"expected endpoint {endpoints}, observed {calls[0].path}"
    assert calls[0].body.get("model") == upstream_model
    assert [r for r in other.received() if r.route not in ("models",)] == []


@pytest.mark.req("ROUTE-002")
@pytest.mark.blackbox
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_unknown_model_gets_404_not_found_error(
    gateway, anthropic_provider, openai_provider, stream
):
    """A model the gateway does not serve gets 404 not_found_error."""
    ex = gateway.messages(message_body("claude-no-such-model-1", stream=stream))
    assert_status(ex, 404)
    assert_anthropic_error(ex, 404)


@pytest.mark.req("ROUTE-003")
@pytest.mark.blackbox
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_unknown_model_gets_anthropic_4xx_and_calls_no_provider(
    gateway, anthropic_provider, openai_provider, stream, observe
):
    """A model the gateway does not serve gets a 4xx in Anthropic's envelope, and no provider is
    called."""
    ex = gateway.messages(message_body("claude-no-such-model-1", stream=stream))
    observe("status", ex.status)
    assert 400 <= ex.status < 500, f"expected a 4xx, observed {ex.status}"
    assert_anthropic_error(ex)
    assert [
        r for r in anthropic_provider.received() + openai_provider.received() if r.route != "models"
    ] == []


@pytest.mark.req("ROUTE-004")
def test_os_environ_references_resolve(gateway, upstreams, anthropic_provider):
    """api_base and api_key given as os.environ/ references resolve from the proxy's environment."""
    anthropic_provider.script("messages", Reply.text("env-routed"))
    assert_status(gateway.messages(message_body(ENV_ROUTED_MODEL)), 200)
    got = anthropic_provider.last("messages")
    assert got.header("x-api-key") == upstreams.anthropic_key
    assert got.body["model"] == SONNET


RESPONSE_MODEL_CASES = [
    (SONNET, False),
    (SONNET, True),
    (ALIAS_MODEL[0], False),
    (ALIAS_MODEL[0], True),
    (OPENAI_MODEL, False),
    (OPENAI_MODEL, True),
]


@pytest.mark.req("ROUTE-005")
@pytest.mark.parametrize(
    ("model", "stream"),
    [
        pytest.param(m, s, id=i, marks=[NEEDS_OPENAI] if m == OPENAI_MODEL else [])
        for (m, s), i in zip(
            RESPONSE_MODEL_CASES,
            [
                "anthropic-json",
                "anthropic-stream",
                "alias-json",
                "alias-stream",
                "openai-json",
                "openai-stream",
            ],
            strict=True,
        )
    ],
)
def test_response_model_field_names_the_requested_or_provider_model(
    gateway, anthropic_provider, openai_provider, model, stream, observe
):
    """The response's `model` is the requested name or the provider-side id, not a LiteLLM-internal
    name."""
    if model == OPENAI_MODEL:
        openai_provider.script_generation(Reply.text("m"))
    else:
        anthropic_provider.script("messages", Reply.text("m"))
    ex = gateway.messages(message_body(model, stream=stream))
    assert_says(ex, "m")
    observed = ex.stream.message.get("model") if ex.stream else ex.json().get("model")
    provider_side = dict([ALIAS_MODEL]).get(model, model)
    observe("response model", observed)
    assert observed in {model, provider_side}, (
        f"expected {model!r} or {provider_side!r}, observed {observed!r}"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One case per entry of the user's own config (--litellm-config) that a fake provider
    serves."""
    if "user_entry" not in metafunc.fixturenames:
        return
    chosen = metafunc.config.getoption("litellm_config")
    if not chosen:
        metafunc.parametrize(
            "user_entry",
            [
                pytest.param(
                    None,
                    marks=pytest.mark.skip(
                        reason="only with --litellm-config: one case per model of your own config"
                    ),
                )
            ],
            ids=["no-user-config"],
        )
        return
    cases = []
    for entry in load_user_config(Path(chosen))["model_list"]:
        model = str((entry.get("litellm_params") or {}).get("model", ""))
        provider, _, upstream = model.partition("/")
        if provider in SERVED:
            marks = [NEEDS_OPENAI] if provider == "openai" else []
            cases.append(
                pytest.param(
                    (entry["model_name"], provider, upstream),
                    id=str(entry["model_name"]),
                    marks=marks,
                )
            )
    metafunc.parametrize("user_entry", cases)


@pytest.mark.req("ROUTE-001")
def test_user_model_name_reaches_its_provider_model(
    gateway, anthropic_provider, openai_provider, bedrock_provider, user_entry, observe
):
    """Each model_name of the user's config reaches its litellm_params.model on the right
    provider."""
    name, provider, upstream = user_entry
    fake = {
        "anthropic": anthropic_provider,
        "openai": openai_provider,
        "bedrock": bedrock_provider,
    }[provider]
    if provider == "openai":
        openai_provider.script_generation(Reply.text("routed"), times=None)
    elif provider == "bedrock":
        for route in ("invoke", "converse"):
            bedrock_provider.script(route, Reply.text("routed"), times=None)
    else:
        anthropic_provider.script("messages", Reply.text("routed"), times=None)
    assert_status(gateway.messages(message_body(name)), 200)
    calls = [
        r
        for r in fake.received()
        if r.route in ("messages", "chat", "responses", "invoke", "converse")
    ]
    # Bedrock names the model in the path; the others in the body.
    models = [c.labels.get("model") or c.body.get("model") for c in calls]
    observe("provider-side model", models)
    assert calls, f"{name} reached no {provider} provider"
    assert models[0] == upstream.removeprefix("converse/").removeprefix("invoke/")
