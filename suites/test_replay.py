"""REPLAY: each profiled Claude Code version's captured main request, replayed against the gateway.

The fast path of the Claude Code checks: no CLI is needed, yet the request is exactly
what that version sent (headers, betas, body), with only the key swapped for the gateway's.
"""

from __future__ import annotations

import pytest

from harness.claude_code import PROFILES, SESSION_ID, profile_body
from harness.fakes import Reply
from harness.protocol.client import beta_set

from .support.asserts import assert_status

SKIP_HEADERS = {"authorization", "x-api-key", "accept-encoding"}
PARAMS = [pytest.param(p, id=f"cc-{p['version']}") for p in PROFILES]


def replay(gateway, profile: dict):
    """Send the captured main request as the CLI did, aimed at that version's default main model."""
    headers = {
        k: v.replace("<uuid>", SESSION_ID)
        for k, v in profile["headers"].items()
        if k not in SKIP_HEADERS
    }
    query = "&".join(f"{k}={v}" for k, vs in profile["endpoint"]["query"].items() for v in vs)
    body = profile_body(profile, profile["defaults"]["main"])
    path = profile["endpoint"]["path"] + (f"?{query}" if query else "")
    return body, gateway.request(
        profile["endpoint"]["method"], path, json_body=body, headers=headers
    )


@pytest.mark.req("REPLAY-001")
@pytest.mark.parametrize("profile", PARAMS)
def test_captured_claude_code_request_succeeds(gateway, anthropic_provider, profile):
    """The captured main request of each profiled Claude Code version succeeds through the
    gateway."""
    anthropic_provider.script("messages", Reply.text("replayed"))
    _, ex = replay(gateway, profile)
    assert_status(ex, 200)
    text = (
        ex.stream.text
        if ex.stream
        else "".join(b.get("text", "") for b in ex.json().get("content", []))
    )
    assert text == "replayed"


@pytest.mark.req("REPLAY-002")
@pytest.mark.parametrize("profile", PARAMS)
def test_captured_request_reaches_provider_with_its_betas_and_fields(
    gateway, anthropic_provider, profile, observe
):
    """The replayed request reaches the provider with the same betas and the same body fields."""
    anthropic_provider.script("messages", Reply.text("replayed"))
    body, ex = replay(gateway, profile)
    assert_status(ex, 200)
    got = anthropic_provider.last("messages")
    missing = sorted(set(body) - set(got.body))
    observe("fields missing at provider", missing)
    assert missing == [], f"dropped on the way to the provider: {missing}"
    assert beta_set(got.header("anthropic-beta")) == set(profile["betas"])
