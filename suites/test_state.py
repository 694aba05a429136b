"""STATE: one request leaves nothing behind for the next, from the same endpoint or another.

A gateway that keeps a request's settings (in a shared dict, a cached optional-params object)
changes what later requests ask of the provider: LiteLLM #22249 reported `max_tokens` becoming
32000 on `/v1/messages` after one `/chat/completions` call (issue 39, row 9).
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.fakes import RecordedRequest, Reply
from harness.gateway.configs import SONNET, VK_MODEL_A
from harness.protocol.client import message_body

from .support.answers import assert_says
from .support.routes import Route, route_params

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


def _sampling(route: Route, sent: RecordedRequest) -> dict[str, Any]:
    """max_tokens and temperature as the provider received them, in its own terms."""
    body = sent.body if isinstance(sent.body, dict) else {}
    if route.name == "bedrock-converse":
        body = body.get("inferenceConfig") or {}
        return {"max_tokens": body.get("maxTokens"), "temperature": body.get("temperature")}
    limit = next(
        (
            body[k]
            for k in ("max_tokens", "max_output_tokens", "max_completion_tokens")
            if k in body
        ),
        None,
    )
    return {"max_tokens": limit, "temperature": body.get("temperature")}


@pytest.mark.req("STATE-001")
@pytest.mark.parametrize("route", route_params("STATE-001"))
def test_a_request_leaves_nothing_behind_on_any_route(
    request, gateway, fresh_model, route, observe
):
    """On every route, a request's max_tokens and temperature never reach the next request."""
    fake = request.getfixturevalue(f"{route.fake}_provider")
    route.script(fake, Reply.text("first"), stream=False)
    route.script(fake, Reply.text("second"), stream=False)
    model = None if route.pool is None else fresh_model(route.pool)
    first = {**route.body(model, stream=False), "max_tokens": 32000, "temperature": 0.2}
    path = route.path(stream=False)
    before = gateway.request("POST", path, json_body=first, validate=False, reason="setting up")
    assert before.status == 200, f"the first request was not served:\n{before.transcript()}"
    second = route.body(model, stream=False)
    ex = gateway.request("POST", path, json_body=second, validate=False, reason="judged below")
    assert ex.status == 200, f"expected 200, observed {ex.status}:\n{ex.transcript()}"
    calls = route.received(fake)
    assert len(calls) == 2, f"expected both requests at the provider, observed {len(calls)}"
    got = _sampling(route, calls[-1])
    observe("the second request at the provider", got)
    expected = {"max_tokens": second["max_tokens"], "temperature": None}
    assert got == expected, f"expected the second request's own {expected}, observed {got}"


@pytest.mark.req("STATE-002")
@pytest.mark.gateway("virtual-keys")
@pytest.mark.needs("config")
def test_one_callers_settings_never_reach_another_caller(
    proxy, gateway, make_client, anthropic_provider, observe
):
    """A setting one caller's request sets (max_tokens, temperature, top_k, metadata) never reaches
    another caller's request to the same model."""
    (key,) = [k for k, models in proxy.gateway.virtual_keys.items() if models == [VK_MODEL_A]]
    anthropic_provider.script("messages", Reply.text("first"))
    anthropic_provider.script("messages", Reply.text("second"))
    settings = {"temperature": 0.2, "top_k": 5, "metadata": {"user_id": "caller-a"}}
    first = message_body(VK_MODEL_A, "hi", max_tokens=32000, **settings)
    gateway.request("POST", "/v1/messages", json_body=first, validate=False, reason="setting up")
    other = make_client(proxy.url, key)
    assert_says(other.messages(message_body(VK_MODEL_A)), "second")
    sent = anthropic_provider.last("messages").body
    fields = ("max_tokens", "temperature", "top_k", "metadata")
    got = {k: sent.get(k, "<absent>") for k in fields}
    observe("the other caller's request at the provider", got)
    own = {
        "max_tokens": message_body(VK_MODEL_A)["max_tokens"],
        "temperature": "<absent>",
        "top_k": "<absent>",
        "metadata": "<absent>",
    }
    assert got == own, f"expected the other caller's own request, observed {got}"
