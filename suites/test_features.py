"""FEAT: the feature rows of LiteLLM's Claude Code matrix, checked on both sides of the proxy.

For each row (suites/support/features.py): the request's body fields and the beta they pair with
reach the upstream unchanged, and the upstream's answer (its blocks, usage and top-level
fields) reaches the client unchanged, JSON and streamed. The Anthropic route runs on the
default gateway; Bedrock Invoke and Vertex on the provider-route gateway.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.fakes import RawMessage, Reply
from harness.gateway.configs import BEDROCK_INVOKE_MODEL, OPENAI_MODEL, SONNET, VERTEX_MODEL
from harness.protocol.client import CLAUDE_CODE_BETAS, beta_set

from .support.asserts import CLOUD_BETAS_JUDGED_ELSEWHERE
from .support.features import FEATURES, PDF, PNG, Feature, request_body

ROWS = [
    pytest.param(name, id=name, marks=pytest.mark.req(f.requirement))
    for name, f in FEATURES.items()
]
STREAMS = [pytest.param(False, id="json"), pytest.param(True, id="stream")]
CLOUD = [
    pytest.param(
        ("bedrock", BEDROCK_INVOKE_MODEL[0], "invoke"),
        id="bedrock-invoke",
        marks=pytest.mark.needs("bedrock"),
    ),
    pytest.param(
        ("vertex", VERTEX_MODEL[0], "raw_predict"), id="vertex", marks=pytest.mark.needs("vertex")
    ),
]


def _betas(feature: Feature) -> dict[str, str]:
    betas = [*CLAUDE_CODE_BETAS, *([feature.beta] if feature.beta else [])]
    return {"anthropic-beta": ",".join(dict.fromkeys(betas))}


def _changed(sent: dict[str, Any], got: dict[str, Any]) -> list[str]:
    return sorted(k for k in sent if got.get(k, "<dropped>") != sent[k])


def _missing_in(expected: Any, observed: Any) -> bool:
    """Whether ``observed`` lacks something ``expected`` has; keys the gateway added are
    tolerated."""
    if isinstance(expected, dict):
        return not isinstance(observed, dict) or any(
            _missing_in(v, observed.get(k)) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            not isinstance(observed, list)
            or len(observed) != len(expected)
            or any(_missing_in(e, o) for e, o in zip(expected, observed, strict=True))
        )
    return bool(expected != observed)


@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("name", ROWS)
def test_feature_request_reaches_anthropic_unchanged(
    gateway, anthropic_provider, name, stream, observe
):
    """The feature's body fields reach the Anthropic provider unchanged, with the beta they pair
    with."""
    feature = FEATURES[name]
    anthropic_provider.script("messages", RawMessage(feature.answer(SONNET)))
    body = request_body(feature, SONNET, stream)
    ex = gateway.messages(body, headers=_betas(feature))
    got = anthropic_provider.received("messages")
    assert got, f"the request never reached the provider: {ex.status} {ex.text[:300]}"
    changed = _changed({k: body[k] for k in feature.request}, got[-1].body)
    observe("fields changed on the way", changed)
    assert changed == [], f"changed or dropped before the provider: {changed}"
    if feature.beta:
        assert feature.beta in beta_set(got[-1].header("anthropic-beta") or ""), (
            f"{feature.beta} was not forwarded"
        )


@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("name", ROWS)
def test_feature_answer_reaches_the_client_unchanged(
    gateway, anthropic_provider, name, stream, observe
):
    """The feature's answer (blocks, usage, top-level fields) reaches the client from Anthropic
    unchanged."""
    _assert_answer_kept(
        gateway, anthropic_provider, "messages", SONNET, FEATURES[name], stream, observe
    )


@pytest.mark.gateway("providers")
@pytest.mark.parametrize("route", CLOUD)
@pytest.mark.parametrize("name", ROWS)
def test_feature_request_reaches_the_cloud_upstream_unchanged(
    gateway, request, name, route, observe
):
    """The feature's body fields reach Bedrock (Invoke) and Vertex unchanged, with its beta
    (Bedrock: in the body's anthropic_beta; Vertex: in the header)."""
    provider_name, model, fake_route = route
    provider = request.getfixturevalue(f"{provider_name}_provider")
    feature = FEATURES[name]
    # Optional: this check judges the request; whether the provider accepts it is the provider
    # rules' to judge.
    provider.script(fake_route, Reply.text("ok"), optional=True)
    body = request_body(feature, model)
    ex = gateway.messages(body, headers=_betas(feature))
    got = provider.received(fake_route)
    assert got, f"the request never reached {provider_name}: {ex.status} {ex.text[:300]}"
    changed = _changed({k: body[k] for k in feature.request}, got[-1].body)
    observe("fields changed on the way", changed)
    assert changed == [], f"changed or dropped before {provider_name}: {changed}"
    if feature.beta:
        carried = (
            got[-1].body.get("anthropic_beta")
            if provider_name == "bedrock"
            else beta_set(got[-1].header("anthropic-beta") or "")
        )
        assert feature.beta in (carried or []), f"{feature.beta} did not reach {provider_name}"


@pytest.mark.gateway("providers")
@pytest.mark.needs("vertex")
@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("name", ROWS)
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_feature_answer_from_vertex_reaches_the_client_unchanged(
    gateway, vertex_provider, name, stream, observe
):
    """The feature's answer (blocks, usage, top-level fields) reaches the client from Vertex
    unchanged."""
    route = "stream_raw_predict" if stream else "raw_predict"
    _assert_answer_kept(
        gateway, vertex_provider, route, VERTEX_MODEL[0], FEATURES[name], stream, observe
    )


def _contains(haystack: Any, needle: Any) -> bool:
    """Whether ``needle`` is ``haystack`` or sits anywhere inside it (a string inside a longer one
    counts)."""
    if haystack == needle or (
        isinstance(needle, str) and isinstance(haystack, str) and needle in haystack
    ):
        return True
    if isinstance(haystack, dict):
        return any(_contains(v, needle) for v in haystack.values())
    if isinstance(haystack, list):
        return any(_contains(v, needle) for v in haystack)
    return False


# Where a row applies to an OpenAI model, what of it must survive LiteLLM's translation (in whatever
# wrapper the Responses API uses): the PDF and image bytes, and the JSON schema.
TRANSLATED = {
    "pdf-and-image": [PDF, PNG],
    "structured-output": [
        FEATURES["structured-output"].request["output_config"]["format"]["schema"]
    ],
}


@pytest.mark.needs("openai")
@pytest.mark.parametrize("name", [p for p in ROWS if p.values[0] in TRANSLATED])
def test_feature_request_survives_translation_to_openai(gateway, openai_provider, name, observe):
    """Where a feature applies to an OpenAI-routed model, its substance (the document and image
    bytes, the JSON schema) reaches OpenAI in the translated request."""
    openai_provider.script_generation(Reply.text("ok"))
    ex = gateway.messages(
        request_body(FEATURES[name], OPENAI_MODEL), headers=_betas(FEATURES[name])
    )
    got = [r for r in openai_provider.received() if r.route in ("chat", "responses")]
    assert got, f"the request never reached OpenAI: {ex.status} {ex.text[:300]}"
    lost = [str(n)[:40] for n in TRANSLATED[name] if not _contains(got[-1].body, n)]
    observe("lost in translation", lost)
    assert lost == [], f"not found in the request OpenAI received: {lost}"


def _assert_answer_kept(
    gateway, provider, route: str, model: str, feature: Feature, stream: bool, observe
) -> None:
    answer = feature.answer(model)
    provider.script(route, RawMessage(answer))
    ex = gateway.messages(request_body(feature, model, stream), headers=_betas(feature))
    assert ex.status == 200, f"expected 200, observed {ex.status} {ex.text[:300]}"
    if stream:
        assert ex.stream is not None, "expected a stream"
        message = {
            **ex.stream.message,
            "content": [b.final() for b in ex.stream.blocks],
            "usage": ex.stream.usage,
        }
    else:
        message = ex.json()
    lost = [
        k for k in ("content", "usage", *feature.extra) if _missing_in(answer[k], message.get(k))
    ]
    observe("answer parts changed or lost", lost)
    shown = {k: message.get(k) for k in lost}
    assert lost == [], f"expected { ({k: answer[k] for k in lost}) }\nobserved {shown}"
