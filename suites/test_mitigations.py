"""Mitigations, proven: a known cause's requirement holds once a team applies the setting that
avoids it.

A cause in a deviations file names a ``mitigation`` only with its proof
(docs/impact.md#mitigations); the checks here are the proofs of the kind ``check:``. Each states the
requirement its cause breaks, names the setting it applies (``@pytest.mark.settings``, shown in the
report), and passes only where the setting really avoids the cause: a gateway that broke the
requirement on that path too would fail it.
"""

from __future__ import annotations

import pytest

from harness.claude_code import PROFILES, profile_body
from harness.fakes import Reply
from harness.gateway.configs import (
    BEDROCK_CONVERSE_MODEL,
    BEDROCK_INVOKE_MODEL,
    SONNET,
    VERTEX_MODEL,
)

from .support.asserts import assert_status, json_diff
from .support.cli import claude_direct

NEWEST = max(PROFILES, key=lambda p: [int(x) for x in p["version"].split(".")])
# The fields LiteLLM 1.108.7's /v1/messages drops for Claude Code's default model (cause
# adaptive-thinking-dropped).
PASSTHROUGH_FIELDS = {
    f: profile_body(NEWEST, SONNET)[f]
    for f in ("thinking", "output_config")
    if f in profile_body(NEWEST, SONNET)
}
PASSTHROUGH = pytest.mark.settings(
    ANTHROPIC_BASE_URL=(
        "Claude Code's base URL at the gateway's /anthropic pass-through (<gateway>/anthropic) "
        "instead of its root"
    )
)
NO_EXPERIMENTAL_BETAS = pytest.mark.settings(
    CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS=(
        "1 in Claude Code's environment: it sends no experimental betas"
    )
)


@pytest.mark.req("FIELDS-001")
@pytest.mark.needs("anthropic-passthrough")
@PASSTHROUGH
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("field", PASSTHROUGH_FIELDS, ids=lambda f: f"cc-{NEWEST['version']}-{f}")
def test_claude_code_thinking_and_effort_reach_the_provider_through_the_anthropic_passthrough(
    gateway, anthropic_provider, field, stream, observe
):
    """Through the /anthropic pass-through, Claude Code's thinking and effort fields reach the
    provider unchanged."""
    anthropic_provider.script("messages", Reply.text("ok"))
    body = {
        "model": SONNET,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}],
        field: PASSTHROUGH_FIELDS[field],
        **({"stream": True} if stream else {}),
    }
    assert_status(gateway.messages(body, prefix="/anthropic"), 200)
    got = anthropic_provider.last("messages").body
    diff = json_diff({field: body[field]}, {field: got.get(field, "<dropped>")})
    observe("changed on the way to the provider", diff)
    assert not diff, "changed on the way to the provider:\n" + "\n".join(diff)


@pytest.mark.req("FIELDS-002")
@pytest.mark.needs("anthropic-passthrough")
@PASSTHROUGH
@pytest.mark.parametrize("header", ["anthropic-future-feature", "x-claude-code-future"])
def test_unknown_claude_code_headers_reach_the_provider_through_the_anthropic_passthrough(
    gateway, anthropic_provider, header, observe
):
    """Through the /anthropic pass-through, unknown anthropic-* and x-claude-code-* headers reach
    the provider."""
    anthropic_provider.script("messages", Reply.text("ok"))
    value = "conformance-probe-7f3a"
    body = {"model": SONNET, "max_tokens": 64, "messages": [{"role": "user", "content": "x"}]}
    assert_status(gateway.messages(body, prefix="/anthropic", headers={header: value}), 200)
    got = anthropic_provider.last("messages").header(header)
    observe(header, got)
    assert got == value, f"expected {header}: {value} at the provider, observed {got!r}"


CLOUD = {
    "bedrock-invoke": (BEDROCK_INVOKE_MODEL[0], "bedrock", ("invoke_stream", "invoke")),
    "bedrock-converse": (BEDROCK_CONVERSE_MODEL[0], "bedrock", ("converse_stream", "converse")),
    "vertex": (VERTEX_MODEL[0], "vertex", ("stream_raw_predict", "raw_predict")),
}


@pytest.mark.req("ROUTE-008")
@pytest.mark.e2e
@pytest.mark.needs("bedrock-passthrough", "vertex-passthrough")
@pytest.mark.gateway("providers")
@NO_EXPERIMENTAL_BETAS
@pytest.mark.parametrize("route", CLOUD)
def test_claude_code_without_experimental_betas_is_served_by_the_cloud_through_the_gateway(
    claude_code_cli, proxy, request, route, tmp_path, observe
):
    """With CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS=1, claude -p is served by Bedrock and Vertex
    through /v1/messages."""
    cli, _ = claude_code_cli
    model, fake_name, routes = CLOUD[route]
    fake = request.getfixturevalue(f"{fake_name}_provider")
    for name in routes:
        fake.script(name, Reply.text(f"hello through {route}"), times=None)
    try:
        result = claude_direct(
            cli,
            proxy,
            tmp_path,
            "--model",
            model,
            side_model=model,
            extra={"CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS": "1"},
        )
    finally:
        fake.settle()
    observe(
        f"requests at {fake_name}", sorted({r.path.rsplit("/", 1)[-1] for r in fake.received()})
    )
    data = result.json()
    assert data.get("is_error") is False, result.transcript()
    assert data.get("result") == f"hello through {route}"
