"""FIELDS: what Claude Code puts in its requests reaches the Anthropic provider intact."""

from __future__ import annotations

import pytest

from harness.claude_code import PROFILES, claude_code_body, profile_body
from harness.fakes import Reply
from harness.gateway.configs import SONNET

from .support.asserts import assert_status, json_diff

CORE = {"model", "messages", "max_tokens", "stream"}
# Every non-core field each profiled Claude Code version sends, with the value it sent.
FIELDS = {
    f"cc-{p['version']}-{field}": {field: profile_body(p, SONNET)[field]}
    for p in PROFILES
    for field in p["body_fields"]
    if field not in CORE
}
BODY = claude_code_body(SONNET, stream=False)
FIELDS |= {
    # Shapes no profile happened to send, but Claude Code does in other situations.
    # Anthropic refuses a thinking budget that is not below max_tokens (provider rule
    # ANTH-THINK-003).
    "thinking-enabled": {
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "max_tokens": 4096,
    },
    "tools-defer_loading": {"tools": BODY["tools"]},
    "message-cache_control": {"messages": BODY["messages"]},
    # Only models from Opus 4.8 on take a system message mid-conversation (provider rule
    # ANTH-MSG-002).
    "system-role-message": {
        "model": "claude-opus-5-5",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "system", "content": "Mid-conversation instruction."},
            {"role": "user", "content": "go on"},
        ],
    },
}


@pytest.mark.req("FIELDS-001")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("field", FIELDS, ids=str)
def test_claude_code_body_field_reaches_provider_unchanged(
    gateway, anthropic_provider, field, stream, observe
):
    """Each Claude Code body field reaches the Anthropic provider unchanged through /v1/messages."""
    anthropic_provider.script("messages", Reply.text("ok"))
    body = {
        "model": SONNET,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}],
        **FIELDS[field],
    }
    if stream:
        body["stream"] = True
    assert_status(gateway.messages(body), 200)
    got = anthropic_provider.last("messages").body
    sent_part = {k: body[k] for k in FIELDS[field]}
    got_part = {k: got.get(k, "<dropped>") for k in FIELDS[field]}
    diff = json_diff(sent_part, got_part)
    observe("changed on the way to the provider", diff)
    assert not diff, "changed on the way to the provider:\n" + "\n".join(diff)


# Not x-claude-code-session-id: the gateway protocol lets a gateway consume it (PROTO-004).
EXTRA_HEADERS = {
    "anthropic-future-feature": "anthropic-future-feature",
    "x-claude-code-future": "x-claude-code-future",
}


@pytest.mark.req("FIELDS-002")
@pytest.mark.parametrize("header", EXTRA_HEADERS, ids=str)
def test_unknown_claude_code_headers_reach_the_provider(
    gateway, anthropic_provider, header, observe
):
    """Unknown anthropic-* and x-claude-code-* headers reach the provider; the gateway does not
    allowlist."""
    anthropic_provider.script("messages", Reply.text("ok"))
    value = "conformance-probe-7f3a"
    assert_status(
        gateway.messages(
            {"model": SONNET, "max_tokens": 64, "messages": [{"role": "user", "content": "x"}]},
            headers={header: value},
        ),
        200,
    )
    got = anthropic_provider.last("messages").header(header)
    observe(header, got)
    assert got == value, f"expected {header}: {value} at the provider, observed {got!r}"
