"""COUNT: /v1/messages/count_tokens, which Claude Code calls with ?beta=true."""

from __future__ import annotations

import pytest

from harness.claude_code import CONTEXT_1M_BETA
from harness.fakes import TokenCount
from harness.gateway.configs import (
    BEDROCK_CONVERSE_MODEL,
    BEDROCK_INVOKE_MODEL,
    OPENAI_MODEL,
    SONNET,
    VERTEX_MODEL,
)
from harness.protocol.client import CLAUDE_CODE_BETAS, beta_set, message_body
from harness.protocol.validators import validate_token_count

from .support.asserts import assert_status


@pytest.mark.req("COUNT-001")
@pytest.mark.parametrize(
    "model",
    [
        pytest.param(SONNET, id="anthropic"),
        pytest.param(OPENAI_MODEL, id="openai", marks=pytest.mark.needs("openai")),
    ],
)
def test_count_tokens_returns_an_integer(
    gateway, anthropic_provider, openai_provider, model, observe
):
    """count_tokens returns 200 {"input_tokens": int} for Anthropic- and OpenAI-routed models."""
    # Either the provider counts (Anthropic count_tokens, OpenAI /v1/responses/input_tokens)
    # or the gateway counts locally; both are fine, so both fakes are ready to answer.
    anthropic_provider.script("count_tokens", TokenCount(57), times=None)
    openai_provider.script("input_tokens", TokenCount(57), times=None)
    ex = gateway.count_tokens(message_body(model, "Count the tokens in this sentence, please."))
    observe("response", ex.text[:200], volatile=True)
    assert_status(ex, 200)
    validate_token_count(ex.json())


@pytest.mark.req("COUNT-002")
def test_count_tokens_is_the_providers_count(gateway, anthropic_provider, observe):
    """For an Anthropic-routed model the count is the provider's own."""
    anthropic_provider.script("count_tokens", TokenCount(4242))
    ex = gateway.count_tokens(message_body(SONNET))
    assert_status(ex, 200)
    observe("input_tokens", ex.json().get("input_tokens"))
    assert ex.json().get("input_tokens") == 4242
    assert anthropic_provider.last("count_tokens").body.get("model") == SONNET


@pytest.mark.req("COUNT-003")
def test_count_tokens_forwards_betas(gateway, anthropic_provider, observe):
    """anthropic-beta reaches the provider on count_tokens."""
    anthropic_provider.script("count_tokens", TokenCount(9))
    betas = ",".join((*CLAUDE_CODE_BETAS, CONTEXT_1M_BETA))
    assert_status(
        gateway.count_tokens(message_body(SONNET), headers={"anthropic-beta": betas}), 200
    )
    got = anthropic_provider.last("count_tokens").header("anthropic-beta")
    observe("anthropic-beta at provider", got, better="more")
    assert beta_set(got) == beta_set(betas)


# Bedrock's CountTokens takes the InvokeModel body base64-encoded; Vertex counts on its own
# pseudo-model.
CLOUD = [
    pytest.param(
        (BEDROCK_INVOKE_MODEL[0], "bedrock"),
        id="bedrock-invoke",
        marks=pytest.mark.needs("bedrock"),
    ),
    pytest.param(
        (BEDROCK_CONVERSE_MODEL[0], "bedrock"),
        id="bedrock-converse",
        marks=pytest.mark.needs("bedrock"),
    ),
    pytest.param((VERTEX_MODEL[0], "vertex"), id="vertex", marks=pytest.mark.needs("vertex")),
]


@pytest.mark.req("COUNT-004")
@pytest.mark.gateway("providers")
@pytest.mark.parametrize("route", CLOUD)
def test_cloud_count_tokens_is_the_providers_count(
    gateway, bedrock_provider, vertex_provider, route, observe
):
    """For a Bedrock- or Vertex-routed model, count_tokens answers an integer, and it is the
    provider's own count."""
    model, kind = route
    fake = bedrock_provider if kind == "bedrock" else vertex_provider
    fake.script("count_tokens", TokenCount(4242), times=None)
    ex = gateway.count_tokens(message_body(model, "Count the tokens in this sentence, please."))
    observe("response", ex.text[:200], volatile=True)
    observe("provider count calls", [r.path for r in fake.received("count_tokens")])
    assert_status(ex, 200)
    validate_token_count(ex.json())
    assert ex.json().get("input_tokens") == 4242, (
        f"the gateway answered {ex.json().get('input_tokens')} without asking {kind} "
        "(its own estimate)"
    )
