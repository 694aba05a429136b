"""USAGE: the usage a provider reported reaches the client, on every route, JSON and streamed
(issue 39, row 5).

Claude Code shows cost and context use from the answer's usage, and sizes its context from it:
cache reads and writes, the 5-minute/1-hour split of the writes and server tool calls each change
the bill (LiteLLM #11935: cache tokens lost on a route; #14457: the TTL split). STREAM-006 holds
the stream's usage on Anthropic and OpenAI; this holds every field on every Anthropic-shaped route.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.fakes import Reply
from harness.fakes.script import Text, Usage
from harness.protocol.client import Exchange

from .support.routes import bedrock_chunks, route_params

USAGE = Usage(
    input_tokens=25,
    output_tokens=17,
    cache_creation_input_tokens=300,
    cache_read_input_tokens=400,
    cache_ttl_split=(100, 200),
    web_search_requests=2,
)
BASE = {
    "input_tokens": 25,
    "output_tokens": 17,
    "cache_read_input_tokens": 400,
    "cache_creation_input_tokens": 300,
}
# Bedrock Converse reports cache reads and writes but neither the TTL split nor server tool calls.
RICH = {
    "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
    "server_tool_use": {"web_search_requests": 2},
}


def _streamed_usage(ex: Exchange) -> dict[str, Any]:
    """message_start's usage with message_delta's over it: what a client ends up counting."""
    if ex.events is not None:
        events = [e.data for e in ex.events if isinstance(e.data, dict)]
    else:  # the Bedrock pass-through relays the event stream
        events, whole = bedrock_chunks(ex.content)
        assert whole, "the event stream ended inside a frame"
    usage: dict[str, Any] = {}
    for event in events:
        if event.get("type") == "message_start":
            usage.update((event.get("message") or {}).get("usage") or {})
        elif event.get("type") == "message_delta":
            usage.update(event.get("usage") or {})
    return usage


@pytest.mark.req("USAGE-001")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("route", route_params("USAGE-001"))
def test_provider_usage_reaches_the_client(request, gateway, fresh_model, route, stream, observe):
    """Input, output, cache read and cache write tokens, the writes' 5-minute/1-hour split and the
    server tool calls the provider reported reach the client, in the JSON answer and in the
    stream's message_start/message_delta."""
    fake = request.getfixturevalue(f"{route.fake}_provider")
    route.script(fake, Reply(blocks=(Text("counted"),), usage=USAGE), stream=stream)
    model = None if route.pool is None else fresh_model(route.pool)
    ex = route.send(gateway, model, stream=stream)
    assert ex.status == 200, f"expected 200, observed {ex.status}:\n{ex.transcript()}"
    usage = _streamed_usage(ex) if stream else ex.json().get("usage") or {}
    expected = BASE if route.name == "bedrock-converse" else {**BASE, **RICH}
    got = {k: usage.get(k, "<absent>") for k in expected}
    observe("usage", got)
    assert got == expected, f"expected the provider's usage {expected}, the client got {got}"
