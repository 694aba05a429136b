"""CTX1M: the 1M-context beta reaches the provider, and `[1m]` model names are handled."""

from __future__ import annotations

import pytest

from harness.claude_code import CONTEXT_1M_BETA
from harness.fakes import Reply
from harness.gateway.configs import (
    BEDROCK_CONVERSE_MODEL,
    BEDROCK_INVOKE_MODEL,
    SONNET,
    VERTEX_MODEL,
)
from harness.gateway.configs.lint import config_problems
from harness.protocol.client import CLAUDE_CODE_BETAS, beta_set, message_body

from .support.answers import assert_says
from .support.asserts import assert_anthropic_error, assert_status

BETA_FORMS = {
    "alone": CONTEXT_1M_BETA,
    "in-claude-code-list": ",".join((*CLAUDE_CODE_BETAS, CONTEXT_1M_BETA)),
}


@pytest.mark.req("CTX1M-001")
@pytest.mark.parametrize("form", BETA_FORMS, ids=str)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize(
    "prefix",
    [
        pytest.param("", id="messages"),
        pytest.param(
            "/anthropic", id="passthrough", marks=pytest.mark.needs("anthropic-passthrough")
        ),
    ],
)
def test_context_1m_beta_reaches_the_provider(
    gateway, anthropic_provider, form, stream, prefix, observe
):
    """anthropic-beta: context-1m-2025-08-07 reaches the Anthropic provider, alone or in Claude
    Code's list."""
    anthropic_provider.script("messages", Reply.text("ok"))
    sent = BETA_FORMS[form]
    assert_status(
        gateway.messages(
            message_body(SONNET, stream=stream), prefix=prefix, headers={"anthropic-beta": sent}
        ),
        200,
    )
    got = anthropic_provider.last("messages").header("anthropic-beta")
    observe("anthropic-beta at provider", got, better="more")
    assert CONTEXT_1M_BETA in beta_set(got)
    assert beta_set(got) == beta_set(sent), f"betas changed: sent {sent!r}, provider got {got!r}"


@pytest.mark.req("CTX1M-002")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_model_with_1m_suffix_is_routed_or_refused_with_4xx(
    gateway, anthropic_provider, stream, observe
):
    """A model still carrying [1m] is routed or refused with an Anthropic 4xx, never a 5xx."""
    # Optional: a gateway that refuses the name never asks the provider.
    anthropic_provider.script("messages", Reply.text("ok"), optional=True)
    ex = gateway.messages(
        message_body(f"{SONNET}[1m]", stream=stream), headers={"anthropic-beta": CONTEXT_1M_BETA}
    )
    routed = [r.body.get("model") for r in anthropic_provider.received()]
    observe("outcome", f"routed to {routed}" if ex.status == 200 else f"refused with {ex.status}")
    assert ex.status < 500, f"expected 200 or a 4xx, observed {ex.status}"
    if ex.status != 200:
        assert routed == [], "refused, yet a provider was called"
        assert_anthropic_error(ex)
    else:
        assert_says(ex, "ok")


@pytest.mark.req("CTX1M-003")
@pytest.mark.needs("config")
def test_config_has_no_model_name_with_1m_suffix(proxy, observe):
    """The config under test has no model_name containing [1m]; Claude Code strips the suffix before
    sending."""
    flagged = [
        str(p)
        for p in config_problems(proxy.gateway.config, proxy.gateway.env)
        if p.code == "1m-in-model-name"
    ]
    observe("model names with [1m]", flagged)
    assert flagged == []


CLOUD_ROUTES = {
    "bedrock-invoke": (BEDROCK_INVOKE_MODEL[0], "invoke", "bedrock"),
    "bedrock-converse": (BEDROCK_CONVERSE_MODEL[0], "converse", "bedrock"),
    "vertex": (VERTEX_MODEL[0], "raw_predict", "vertex"),
}


def _beta_at(request, kind: str) -> set[str]:
    if kind == "vertex":
        return beta_set(request.header("anthropic-beta"))
    body = request.body
    return set(
        body.get("anthropic_beta")
        or (body.get("additionalModelRequestFields") or {}).get("anthropic_beta")
        or []
    )


@pytest.mark.req("CTX1M-005")
@pytest.mark.gateway("providers")
@pytest.mark.parametrize("form", BETA_FORMS, ids=str)
@pytest.mark.parametrize(
    "route",
    [pytest.param(r, id=r, marks=pytest.mark.needs(CLOUD_ROUTES[r][2])) for r in CLOUD_ROUTES],
)
def test_context_1m_beta_reaches_bedrock_and_vertex(
    gateway, bedrock_provider, vertex_provider, route, form, observe
):
    """context-1m-2025-08-07 reaches Bedrock (body anthropic_beta) and Vertex (anthropic-beta
    header)."""
    model, provider_route, kind = CLOUD_ROUTES[route]
    fake = bedrock_provider if kind == "bedrock" else vertex_provider
    fake.script(provider_route, Reply.text("ok"))
    assert_status(
        gateway.messages(message_body(model), headers={"anthropic-beta": BETA_FORMS[form]}), 200
    )
    got = _beta_at(fake.last(provider_route), kind)
    observe("betas at the provider", sorted(got))
    assert CONTEXT_1M_BETA in got


@pytest.mark.req("CTX1M-002")
@pytest.mark.gateway("providers")
@pytest.mark.parametrize(
    "route",
    [pytest.param(r, id=r, marks=pytest.mark.needs(CLOUD_ROUTES[r][2])) for r in CLOUD_ROUTES],
)
def test_cloud_model_with_1m_suffix_is_routed_or_refused_with_4xx(
    gateway, bedrock_provider, vertex_provider, route, observe
):
    """A Bedrock or Vertex model still carrying [1m] is routed or refused with an Anthropic 4xx,
    never a 5xx."""
    model, provider_route, kind = CLOUD_ROUTES[route]
    fake = bedrock_provider if kind == "bedrock" else vertex_provider
    fake.script(provider_route, Reply.text("ok"), times=None)
    ex = gateway.messages(message_body(f"{model}[1m]"), headers={"anthropic-beta": CONTEXT_1M_BETA})
    routed = [r.labels.get("model") for r in fake.received(provider_route)]
    observe("outcome", f"routed to {routed}" if ex.status == 200 else f"refused with {ex.status}")
    assert ex.status < 500, f"expected 200 or a 4xx, observed {ex.status}"
    if ex.status != 200:
        assert routed == [], "refused, yet a provider was called"
        assert_anthropic_error(ex)
    else:
        assert_says(ex, "ok")
