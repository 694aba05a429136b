"""VERTEX: Vertex-routed Claude models through /v1/messages, on rawPredict and streamRawPredict.

The fake Vertex AI (harness/providers/vertex.py) issues the OAuth token google-auth asks
for with the configured service account, and labels each prediction with the project,
location and model in its path and whether it carried that token.
"""

from __future__ import annotations

import pytest

from harness.answers import client_view, message_view
from harness.checks import assert_anthropic_error, assert_status, secret_places
from harness.client import CLAUDE_CODE_BETAS, beta_set, message_body
from harness.gateways import VERTEX_LOCATION, VERTEX_MODEL, VERTEX_PROJECT
from harness.providers import HttpError, Reply, Text, Thinking, ToolUse
from harness.providers.anthropic import message_json

pytestmark = [pytest.mark.gateway("providers"), pytest.mark.needs("vertex")]

STREAMS = [pytest.param(False, id="json"), pytest.param(True, id="stream")]
NAME, MODEL_ID = VERTEX_MODEL


def _route(stream: bool) -> str:
    return "stream_raw_predict" if stream else "raw_predict"


@pytest.mark.req("ROUTE-007")
@pytest.mark.parametrize("stream", STREAMS)
def test_vertex_model_reaches_vertex_with_its_model_id_and_answers_in_anthropic_shape(gateway, vertex_provider,
                                                                                     stream, observe):
    """A Vertex-routed model reaches Vertex's configured project, location and model id, and answers as Anthropic."""
    vertex_provider.script(_route(stream), Reply.text("hello from vertex"))
    ex = gateway.messages(message_body(NAME, stream=stream))
    assert_status(ex, 200)
    got = vertex_provider.last(_route(stream))
    observe("provider labels", got.labels)
    assert (got.labels["project"], got.labels["location"], got.labels["model"]) == (
        VERTEX_PROJECT, VERTEX_LOCATION, MODEL_ID)
    assert client_view(ex)["blocks"] == [("text", "hello from vertex")]


@pytest.mark.req("VERTEX-001")
@pytest.mark.parametrize("stream", STREAMS)
def test_vertex_body_carries_its_anthropic_version_and_the_service_account_token(gateway, vertex_provider, stream,
                                                                                  observe):
    """rawPredict gets anthropic_version vertex-2023-10-16, no model, and the service account's bearer token."""
    vertex_provider.script(_route(stream), Reply.text("ok"))
    assert_status(gateway.messages(message_body(NAME, stream=stream)), 200)
    got = vertex_provider.last(_route(stream))
    observe("body fields", sorted(got.body))
    assert got.body.get("anthropic_version") == "vertex-2023-10-16"
    assert "model" not in got.body
    assert got.labels["auth"] == "issued token", f"Vertex got {got.labels['auth']}, not the issued token"


@pytest.mark.req("AUTH-005")
@pytest.mark.parametrize("stream", STREAMS)
def test_gateway_key_never_reaches_vertex(gateway, proxy, vertex_provider, stream):
    """The gateway's master key appears in no header, query or body Vertex receives."""
    vertex_provider.script(_route(stream), Reply.text("ok"))
    assert_status(gateway.messages(message_body(NAME, stream=stream)), 200)
    assert secret_places(vertex_provider.received(), proxy.master_key) == []


@pytest.mark.req("VERTEX-002")
@pytest.mark.parametrize("stream", STREAMS)
def test_claude_code_betas_reach_vertex(gateway, vertex_provider, stream, observe):
    """The anthropic-beta values Claude Code sends reach Vertex in the anthropic-beta header."""
    vertex_provider.script(_route(stream), Reply.text("ok"))
    assert_status(gateway.messages(message_body(NAME, stream=stream)), 200)
    got = vertex_provider.last(_route(stream)).header("anthropic-beta")
    observe("anthropic-beta at Vertex", got)
    missing = sorted(beta_set(",".join(CLAUDE_CODE_BETAS)) - beta_set(got))
    assert missing == [], f"betas dropped before Vertex: {missing}"


@pytest.mark.req("STREAM-003")
@pytest.mark.parametrize("stream", STREAMS)
def test_vertex_thinking_text_and_tool_input_arrive_intact(gateway, vertex_provider, stream, observe):
    """Thinking (with its signature), text and tool input from Vertex reach the client intact and in order."""
    reply = Reply(blocks=(Thinking("check the tool"), Text("Let me look."), ToolUse("get_weather", {"city": "Oslo"})),
                  stop_reason="tool_use")
    vertex_provider.script(_route(stream), reply)
    ex = gateway.messages(message_body(NAME, stream=stream))
    assert_status(ex, 200)
    got = client_view(ex)
    observe("blocks", [b[0] for b in got["blocks"]])
    assert got == message_view(message_json(reply, MODEL_ID))


@pytest.mark.req("ERR-001")
@pytest.mark.parametrize(("status", "kind"), [(400, "invalid_request_error"), (429, "rate_limit_error"),
                                              (529, "overloaded_error")], ids=["400", "429", "529"])
def test_vertex_error_status_reaches_the_client(gateway, vertex_provider, status, kind, observe):
    """A Vertex error reaches the client with the same HTTP status, in Anthropic's envelope."""
    vertex_provider.script("raw_predict", HttpError(status, kind, f"scripted {kind}"), times=None)
    ex = gateway.messages(message_body(NAME))
    observe("client status", ex.status)
    assert_status(ex, status)
    assert_anthropic_error(ex, status)
