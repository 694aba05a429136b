"""STATE: one request leaves nothing behind for the next, from the same endpoint or another.

A gateway that keeps a request's settings (in a shared dict, a cached optional-params object)
changes what later requests ask of the provider: LiteLLM #22249 reported `max_tokens` becoming
32000 on `/v1/messages` after one `/chat/completions` call (issue 39, row 9).
"""

from __future__ import annotations

import pytest

from harness.fakes import Reply
from harness.gateway.configs import SONNET
from harness.protocol.client import message_body

from .support.answers import assert_says

FIRST = {
    # An OpenAI-format call to the same model, as another tool on the same gateway sends it.
    "chat-completions": (
        "/v1/chat/completions",
        {
            "model": SONNET,
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 32000,
            "temperature": 0.2,
        },
    ),
    "messages": (
        "/v1/messages",
        message_body(SONNET, "hi", max_tokens=32000, temperature=0.2, top_k=5),
    ),
}


@pytest.mark.req("STATE-001")
@pytest.mark.parametrize("first", FIRST, ids=str)
def test_a_request_leaves_nothing_behind_for_the_next(gateway, anthropic_provider, first, observe):
    """A request's max_tokens, temperature and top_k never reach a later request, whether the first
    came to /v1/chat/completions or /v1/messages."""
    path, body = FIRST[first]
    # A gateway without /v1/chat/completions may refuse it: only the second request is judged.
    anthropic_provider.script("messages", Reply.text("first"), optional=True)
    before = gateway.request("POST", path, json_body=body, validate=False, reason="setting up")
    observe("first request", f"{path} -> {before.status}")
    anthropic_provider.reset()
    anthropic_provider.script("messages", Reply.text("second"))
    assert_says(gateway.messages(message_body(SONNET)), "second")
    sent = anthropic_provider.last("messages").body
    got = {k: sent.get(k, "<absent>") for k in ("max_tokens", "temperature", "top_k")}
    observe("the second request at the provider", got)
    assert got == {"max_tokens": 256, "temperature": "<absent>", "top_k": "<absent>"}, (
        f"expected the second request's own max_tokens 256 and no sampling fields, observed {got}"
    )
