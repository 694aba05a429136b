"""MODELS: the names Claude Code asks for by default are served by the config under test."""

from __future__ import annotations

import pytest

from harness.claude_code import KNOWN
from harness.fakes import Reply
from harness.gateway.configs import QUICKSTART_ENV_DEFAULTS
from harness.protocol.client import message_body

from .support.answers import assert_says

DEFAULT_NAMES = [(f.version, alias, name) for f in KNOWN for alias, name in f.defaults.items()]


@pytest.mark.req("MODELS-001")
@pytest.mark.needs("config")
@pytest.mark.parametrize(
    ("version", "alias", "model"),
    DEFAULT_NAMES,
    ids=[f"{'' if v == 'quickstart-table' else 'cc-'}{v}-{a}" for v, a, _ in DEFAULT_NAMES],
)
def test_claude_code_default_model_is_routable(
    gateway, anthropic_provider, version, alias, model, observe
):
    """Every model name Claude Code requests by default is served by the gateway under test: a
    request for it reaches a provider and the provider's answer comes back."""
    # The gateway, not the config it was built from, says what it serves; a listing is evidence, not
    # proof.
    listing = gateway.request("GET", "/v1/models")
    listed = (
        {m.get("id") for m in listing.json().get("data", [])} if listing.status == 200 else set()
    )
    observe("listed by /v1/models", model in listed)
    answer = f"{model} answering"
    anthropic_provider.script("messages", Reply.text(answer))
    ex = gateway.messages(message_body(model))
    assert ex.status == 200, (
        f"Claude Code {version} asks for {model!r} ({alias}); the gateway answered "
        f"{ex.status}:\n{ex.transcript()}"
    )
    assert_says(ex, answer)
    assert anthropic_provider.received("messages"), (
        f"no provider received the request for {model!r}"
    )


@pytest.mark.req("MODELS-002")
@pytest.mark.needs("litellm-quickstart")
@pytest.mark.gateway("quickstart-env-key")
@pytest.mark.parametrize("variable", QUICKSTART_ENV_DEFAULTS, ids=str)
def test_quickstart_default_model_variables_are_routable(
    gateway, proxy, anthropic_provider, variable, observe
):
    """Each ANTHROPIC_DEFAULT_*_MODEL value the quickstart suggests is routable in its own
    config."""
    model = QUICKSTART_ENV_DEFAULTS[variable]
    anthropic_provider.script("messages", Reply.text("ok"), times=None)
    ex = gateway.messages(message_body(model))
    observe(variable, f"{model} -> HTTP {ex.status}")
    assert ex.status == 200, (
        f"{variable}={model} is not served by the quickstart's config: HTTP {ex.status}"
    )
