"""THINK: thinking blocks survive whole, to the client and back to the provider, on every route
(issue 39, row 4).

Claude Code sends a turn's thinking blocks back with the next request, and the provider verifies
each block's signature: a block the gateway drops or changes on the way out makes the next turn
fail or lose its reasoning. Three kinds are at stake: a thinking block with its text and
signature; a signature-only block (empty text, a lone signature_delta), which the API sends when it
leaves the thinking out and which a bridge dropped on Bedrock Converse (LiteLLM PR #38809); and a
redacted_thinking block.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.fakes import RecordedRequest, Reply
from harness.fakes.script import RedactedThinking, Text, Thinking, ToolUse
from harness.protocol.client import Exchange

from .support.answers import client_view, stream_view
from .support.routes import Route, as_sse, bedrock_chunks, route_params

THOUGHT = Thinking("The user wants a file read.", signature="EqQBCgIYAhIMthoughtSignatureAAA==")
SIGNATURE_ONLY = Thinking("", signature="EqQBCgIYAhIMsignatureOnlyBBB==")
REDACTED = RedactedThinking("EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP")
BLOCKS = (THOUGHT, SIGNATURE_ONLY, REDACTED)
READ_TOOL = {
    "name": "Read",
    "description": "Reads a file from the local filesystem.",
    "input_schema": {
        "type": "object",
        "properties": {"file_path": {"type": "string"}},
        "required": ["file_path"],
    },
}
EXPECTED = [
    ("thinking", THOUGHT.thinking, THOUGHT.signature),
    ("thinking", "", SIGNATURE_ONLY.signature),
    ("redacted_thinking", REDACTED.data),
]


THINKING = {"type": "enabled", "budget_tokens": 1024}


def _view(route: Route, ex: Exchange) -> list[Any]:
    """The answer's blocks as the client reads them, whatever the route's framing."""
    if route.name == "bedrock-passthrough" and ex.events is None and ex.content[:1] != b"{":
        events, whole = bedrock_chunks(ex.content)
        assert whole, "the event stream ended inside a frame"
        return list(stream_view(as_sse(events))["blocks"])
    return list(client_view(ex)["blocks"])


@pytest.mark.req("THINK-001")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("route", route_params("THINK-001"))
def test_thinking_blocks_reach_the_client_whole(
    request, gateway, fresh_model, route, stream, observe
):
    """A thinking block, a signature-only thinking block and a redacted_thinking block reach the
    client with their text, signature and data unchanged, in order, JSON and streamed."""
    fake = request.getfixturevalue(f"{route.fake}_provider")
    route.script(fake, Reply(blocks=(*BLOCKS, Text("Reading it now."))), stream=stream)
    model = None if route.pool is None else fresh_model(route.pool)
    # As Claude Code asks for it: thinking on, so a gateway may not drop it as unrequested.
    body = {**route.body(model, stream=stream), "max_tokens": 2048, "thinking": THINKING}
    ex = gateway.request(
        "POST", route.path(stream), json_body=body, validate=False, reason="blocks judged below"
    )
    assert ex.status == 200, f"expected 200, observed {ex.status}:\n{ex.transcript()}"
    got = _view(route, ex)
    observe("blocks", [b[0] for b in got])
    assert got == [*EXPECTED, ("text", "Reading it now.")], (
        f"expected the provider's thinking blocks whole, observed {got}"
    )


def _second_turn(route: Route, model: str | None) -> dict[str, Any]:
    """Claude Code's next request: the assistant's thinking blocks and tool call, then the tool's
    result."""
    body = route.body(model, stream=False)
    assistant = [
        {"type": "thinking", "thinking": THOUGHT.thinking, "signature": THOUGHT.signature},
        {"type": "thinking", "thinking": "", "signature": SIGNATURE_ONLY.signature},
        {"type": "redacted_thinking", "data": REDACTED.data},
        {"type": "tool_use", "id": "toolu_01Read", "name": "Read", "input": {"file_path": "/a"}},
    ]
    result = {"type": "tool_result", "tool_use_id": "toolu_01Read", "content": "file a"}
    return {
        **body,
        "max_tokens": 2048,
        "thinking": THINKING,
        # Claude Code always declares its tools; without them a bridge may flatten the tool call.
        "tools": [READ_TOOL],
        "messages": [
            {"role": "user", "content": "Read /a."},
            {"role": "assistant", "content": assistant},
            {"role": "user", "content": [result]},
        ],
    }


def _returned(route: Route, sent: RecordedRequest) -> list[Any]:
    """The thinking blocks of the assistant turn as the provider received them, in Anthropic's
    terms."""
    try:
        turn = sent.body["messages"][1]["content"]
        assert isinstance(turn, list)
    except (KeyError, IndexError, TypeError, AssertionError):
        raise AssertionError(f"the assistant turn did not arrive as blocks: {sent.body}") from None
    if route.name != "bedrock-converse":
        return [
            (b["type"], b.get("thinking"), b.get("signature"))
            if b["type"] == "thinking"
            else (b["type"], b.get("data"))
            for b in turn
            if b.get("type") in ("thinking", "redacted_thinking")
        ]
    out: list[Any] = []
    for block in turn:
        reasoning = block.get("reasoningContent") or {}
        if "reasoningText" in reasoning:
            text = reasoning["reasoningText"]
            out.append(("thinking", text.get("text"), text.get("signature")))
        elif "redactedContent" in reasoning:
            out.append(("redacted_thinking", reasoning["redactedContent"]))
    return out


@pytest.mark.req("THINK-002")
@pytest.mark.parametrize("route", route_params("THINK-002"))
def test_thinking_blocks_go_back_to_the_provider_unchanged(
    request, gateway, fresh_model, route, observe
):
    """The next turn carries the assistant's thinking, signature-only thinking and redacted_thinking
    blocks back to the provider unchanged, in order."""
    fake = request.getfixturevalue(f"{route.fake}_provider")
    route.script(fake, Reply(blocks=(ToolUse("Read", {"file_path": "/b"}),)), stream=False)
    model = None if route.pool is None else fresh_model(route.pool)
    ex = gateway.request(
        "POST",
        route.path(stream=False),
        json_body=_second_turn(route, model),
        validate=False,
        reason="the provider's side is judged",
    )
    assert ex.status == 200, f"expected 200, observed {ex.status}:\n{ex.transcript()}"
    received = route.received(fake)
    assert received, "no request reached the provider"
    got = _returned(route, received[-1])
    observe("blocks the provider received", [b[0] for b in got])
    assert got == EXPECTED, f"expected the turn's thinking blocks unchanged, observed {got}"
