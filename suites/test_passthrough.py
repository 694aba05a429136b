"""PASS: the /anthropic pass-through forwards requests and streams untouched, with its own auth."""

from __future__ import annotations

import pytest

from harness.claude_code import CONTEXT_1M_BETA, claude_code_body
from harness.fakes import HttpError, Recorded, Reply, TokenCount, recorded
from harness.fakes.journal import secret_places
from harness.gateway.configs import SONNET
from harness.protocol.client import CLAUDE_CODE_BETAS, beta_set, message_body
from harness.protocol.validators import parse_sse

from .support.answers import assert_says, events_as_read
from .support.asserts import assert_status, json_diff

# The /anthropic pass-through is a route of its own: a gateway without one is not applicable here.
pytestmark = [pytest.mark.needs("anthropic-passthrough")]


@pytest.mark.req("PASS-001")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_passthrough_body_reaches_provider_unchanged(gateway, anthropic_provider, stream, observe):
    """A Claude Code request body sent to /anthropic/v1/messages reaches the provider unchanged."""
    anthropic_provider.script("messages", Reply.text("ok"))
    body = claude_code_body(SONNET, stream=stream)
    assert_status(gateway.messages(body, prefix="/anthropic"), 200)
    diff = json_diff(body, anthropic_provider.last("messages").body)
    observe("changed on the way to the provider", diff)
    assert not diff, "changed on the way to the provider:\n" + "\n".join(diff)


@pytest.mark.req("PASS-002")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_passthrough_forwards_version_and_beta_headers(
    gateway, anthropic_provider, stream, observe
):
    """anthropic-beta and anthropic-version reach the provider through the pass-through."""
    anthropic_provider.script("messages", Reply.text("ok"))
    betas = ",".join((*CLAUDE_CODE_BETAS, CONTEXT_1M_BETA))
    ex = gateway.messages(
        message_body(SONNET, stream=stream), prefix="/anthropic", headers={"anthropic-beta": betas}
    )
    assert_status(ex, 200)
    got = anthropic_provider.last("messages")
    observe("anthropic-beta at provider", got.header("anthropic-beta"), better="more")
    assert got.header("anthropic-version") == "2023-06-01"
    assert beta_set(got.header("anthropic-beta")) == beta_set(betas)


@pytest.mark.req("PASS-003")
@pytest.mark.parametrize("name", recorded.STREAMS, ids=recorded.stream_id)
def test_passthrough_stream_arrives_unchanged_and_in_order(gateway, anthropic_provider, name):
    """A recorded provider stream comes through the pass-through with the same events in order, as a
    client reads them (deltas split at other boundaries and pings read the same)."""
    text = recorded.transcript(name)
    anthropic_provider.script("messages", Recorded(recorded.cassette_name(name)))
    ex = gateway.messages(message_body(SONNET, stream=True), prefix="/anthropic")
    assert_status(ex, 200)
    assert events_as_read(ex.events or []) == events_as_read(parse_sse(text))


PASS_BAD_KEYS = {
    "missing": {},
    "wrong-bearer": {"authorization": "Bearer sk-wrong"},
    "wrong-x-api-key": {"x-api-key": "sk-wrong"},
}


@pytest.mark.req("PASS-004")
@pytest.mark.blackbox
@pytest.mark.parametrize("credential", PASS_BAD_KEYS, ids=str)
def test_passthrough_requires_the_gateway_key(gateway, anthropic_provider, credential, observe):
    """Without the LiteLLM key, or with a wrong one, the pass-through answers 401 and calls no
    provider."""
    ex = gateway.messages(
        message_body(SONNET), prefix="/anthropic", auth="none", headers=PASS_BAD_KEYS[credential]
    )
    observe("status", ex.status)
    assert anthropic_provider.received() == [], (
        "the provider was called without a valid gateway key"
    )
    assert_status(ex, 401)


@pytest.mark.req("PASS-005")
@pytest.mark.parametrize("auth", ["bearer", "x-api-key"], ids=str)
def test_passthrough_never_forwards_the_gateway_key(
    gateway, proxy, upstreams, anthropic_provider, auth
):
    """The pass-through forwards the configured credential, never the LiteLLM key."""
    anthropic_provider.script("messages", Reply.text("ok"))
    assert_status(gateway.messages(message_body(SONNET), prefix="/anthropic", auth=auth), 200)
    assert secret_places(anthropic_provider.received(), proxy.master_key) == []
    assert anthropic_provider.last("messages").header("x-api-key") == upstreams.anthropic_key


@pytest.mark.req("PASS-006")
def test_passthrough_count_tokens_works(gateway, anthropic_provider):
    """POST /anthropic/v1/messages/count_tokens reaches the provider and returns its count."""
    anthropic_provider.script("count_tokens", TokenCount(321))
    ex = gateway.count_tokens(message_body(SONNET), prefix="/anthropic")
    assert_status(ex, 200)
    assert ex.json() == {"input_tokens": 321}
    assert anthropic_provider.last("count_tokens").body == message_body(SONNET)


@pytest.mark.req("PASS-007")
@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, "invalid_request_error"), (429, "rate_limit_error"), (529, "overloaded_error")],
    ids=["400", "429", "529"],
)
def test_passthrough_forwards_provider_errors_unchanged(gateway, anthropic_provider, status, kind):
    """A provider error comes through the pass-through with its status and body unchanged."""
    error = HttpError(status, kind, f"scripted {kind}", headers=(("retry-after", "3"),))
    anthropic_provider.script("messages", error)
    ex = gateway.messages(message_body(SONNET), prefix="/anthropic")
    assert_status(ex, status)
    assert ex.json()["error"] == {"type": kind, "message": f"scripted {kind}"}


@pytest.mark.req("PASS-008")
def test_passthrough_accepts_master_key_as_bearer(gateway, anthropic_provider):
    """The master key works as a Bearer token on the pass-through (quickstart Method 2)."""
    anthropic_provider.script("messages", Reply.text("ok"))
    assert_says(gateway.messages(message_body(SONNET), prefix="/anthropic", auth="bearer"), "ok")
