"""Smoke checks: the pipe from a Claude Code-like client through LiteLLM to the fake providers
works."""

from __future__ import annotations

import json

import pytest

from harness.fakes import Reply, Text, ToolUse
from harness.gateway.configs import OPENAI_MODEL, SONNET
from harness.protocol.client import CLAUDE_CODE_HEADERS, beta_set, message_body
from harness.protocol.validators import validate_message


@pytest.mark.req("PIPE-001")
def test_messages_json_reaches_anthropic_provider(gateway, anthropic_provider):
    """A non-streamed /v1/messages for an Anthropic-routed model returns the provider's message."""
    anthropic_provider.script("messages", Reply.text("Paris is the capital of France."))
    ex = gateway.messages(message_body(SONNET, "What is the capital of France?"))
    assert ex.status == 200, ex.transcript()
    message = validate_message(ex.json())
    assert [b.text for b in message.content if b.type == "text"] == [
        "Paris is the capital of France."
    ]
    received = anthropic_provider.last("messages")
    assert received.body["model"] == SONNET
    assert received.body["messages"] == [
        {"role": "user", "content": "What is the capital of France?"}
    ]


@pytest.mark.req("PIPE-002")
def test_messages_stream_reaches_anthropic_provider(gateway, anthropic_provider):
    """A streamed /v1/messages for an Anthropic-routed model returns a grammatical stream."""
    anthropic_provider.script("messages", Reply(blocks=(Text("Bonjour tout le monde"),)))
    ex = gateway.messages(message_body(SONNET, stream=True))
    assert ex.status == 200, ex.transcript()
    assert ex.stream is not None
    assert ex.stream.text == "Bonjour tout le monde"
    assert ex.stream.stop_reason == "end_turn"
    assert anthropic_provider.last("messages").body["stream"] is True


@pytest.mark.req("PIPE-003")
@pytest.mark.needs("openai")
def test_messages_json_reaches_openai_provider(gateway, openai_provider):
    """A non-streamed /v1/messages for an OpenAI-routed model returns an Anthropic Message."""
    openai_provider.script_generation(Reply.text("Hello from OpenAI."))
    ex = gateway.messages(message_body(OPENAI_MODEL))
    assert ex.status == 200, ex.transcript()
    message = validate_message(ex.json())
    assert "".join(b.text for b in message.content if b.type == "text") == "Hello from OpenAI."
    generation = [r for r in openai_provider.received() if r.route in ("chat", "responses")]
    assert len(generation) == 1
    assert generation[0].body["model"] == OPENAI_MODEL


@pytest.mark.req("PIPE-004")
@pytest.mark.needs("openai")
def test_messages_stream_reaches_openai_provider(gateway, openai_provider):
    """A streamed /v1/messages for an OpenAI-routed model returns a grammatical stream."""
    reply = Reply(
        blocks=(Text("Let me check."), ToolUse("get_weather", {"city": "Paris"})),
        stop_reason="tool_use",
    )
    openai_provider.script_generation(reply)
    ex = gateway.messages(message_body(OPENAI_MODEL, stream=True))
    assert ex.status == 200, ex.transcript()
    assert ex.stream is not None
    assert ex.stream.text == "Let me check."
    tools = [b for b in ex.stream.blocks if b.type == "tool_use"]
    # The tool's input as JSON, not as text: a gateway may space its JSON as it likes (issue 38).
    assert [(b.start["name"], json.loads(b.partial_json)) for b in tools] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert ex.stream.stop_reason == "tool_use"
    generation = [r for r in openai_provider.received() if r.route in ("chat", "responses")]
    assert generation[0].body["stream"] is True


@pytest.mark.req("PIPE-005")
@pytest.mark.needs("anthropic-passthrough")
def test_passthrough_reaches_anthropic_provider(gateway, anthropic_provider):
    """POST /anthropic/v1/messages reaches the Anthropic provider and returns its answer."""
    anthropic_provider.script("messages", Reply.text("Through the pass-through."))
    body = message_body(SONNET, "Hi")
    ex = gateway.messages(body, prefix="/anthropic")
    assert ex.status == 200, ex.transcript()
    assert validate_message(ex.json()).content[0].text == "Through the pass-through."  # type: ignore[union-attr]
    received = anthropic_provider.last("messages")
    assert received.body == body
    assert received.query == {"beta": ["true"]}


@pytest.mark.req("PIPE-006")
def test_version_and_beta_headers_reach_anthropic_provider(gateway, anthropic_provider, observe):
    """anthropic-version and anthropic-beta reach the Anthropic provider with their values intact.

    Betas are a set: the check compares the comma-separated values, not their order.
    """
    anthropic_provider.script("messages", Reply.text("ok"))
    betas = CLAUDE_CODE_HEADERS["anthropic-beta"] + ",context-1m-2025-08-07"
    ex = gateway.messages(message_body(SONNET), headers={"anthropic-beta": betas})
    assert ex.status == 200, ex.transcript()
    received = anthropic_provider.last("messages")
    observe("anthropic-version at provider", received.header("anthropic-version"))
    observe("anthropic-beta at provider", received.header("anthropic-beta"), better="more")
    assert received.header("anthropic-version") == "2023-06-01"
    assert beta_set(received.header("anthropic-beta")) == beta_set(betas)
