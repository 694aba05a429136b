"""On every route: the model asked for is the model served, and Claude Code's headers and query
change nothing the provider is asked (issue 39, rows 6, 7 and 8).

ROUTE-001/006/007 hold the provider-side model on one route each; these hold it, and the answer's
`model`, on every route, with the request as Claude Code sends it: on `/v1/messages?beta=true`,
with its session and agent headers, and with the extra headers an operator adds through
ANTHROPIC_CUSTOM_HEADERS.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

from harness.fakes import RecordedRequest, Reply
from harness.protocol.client import Exchange, GatewayClient

from .support.answers import assert_says
from .support.routes import Route, route_params

# The provider prefixes a config's litellm_params.model carries before the provider-side id.
PREFIXES = (
    "bedrock/converse/",
    "bedrock/invoke/",
    "bedrock/",
    "vertex_ai/",
    "anthropic/",
    "openai/",
)
# What an operator adds with ANTHROPIC_CUSTOM_HEADERS (the protocol page's example is a
# routing or tenancy header), and the consumable headers Claude Code 2.1 sends on every request.
CUSTOM_HEADERS = {
    "x-tenant-id": "platform-team",
    "x-cost-center": "cc-4711",
    "x-claude-code-session-id": "4f1c2d3e-0000-4000-8000-000000000001",
    "x-claude-code-agent-id": "agent-main",
}


def configured_id(proxy: Any, model: str) -> str | None:
    """The provider-side id the config maps ``model`` to (None where the config is not known)."""
    for entry in proxy.gateway.config.get("model_list") or []:
        if entry.get("model_name") == model:
            target = str((entry.get("litellm_params") or {}).get("model", ""))
            for prefix in PREFIXES:
                if target.startswith(prefix):
                    return target[len(prefix) :]
            return target
    return None


def model_in(path: str, body: Any) -> str:
    """The model a request names: in the path (Bedrock, Vertex) or in the body."""
    if "/model/" in path:
        return unquote(path.split("/model/", 1)[1].split("/", 1)[0])
    if "/models/" in path:
        return unquote(path.split("/models/", 1)[1].split(":", 1)[0])
    return str(body.get("model")) if isinstance(body, dict) else ""


def provider_model(req: RecordedRequest) -> str:
    """The model a provider was asked for (the Bedrock and Vertex fakes label it from the path)."""
    return str(req.labels.get("model") or model_in(req.path, req.body))


def _wanted(proxy: Any, route: Route, asked: str | None) -> str | None:
    """The provider-side id the config maps the client's name to; on a pass-through the client
    names the model itself, which the config may map too (Bedrock's and Vertex's model names)."""
    named = asked or model_in(route.path(stream=False), route.body(None, stream=False))
    return configured_id(proxy, named) or (None if asked else named)


def _asked(route: Route, fresh_model: Any) -> str | None:
    return None if route.pool is None else fresh_model(route.pool)


def _answer_model(ex: Exchange) -> Any:
    if ex.events is not None:
        start = next((e.data for e in ex.events if e.type == "message_start"), {})
        return (start.get("message") or {}).get("model") if isinstance(start, dict) else None
    try:
        return ex.json().get("model")
    except AssertionError:
        return None


@pytest.mark.req("ROUTE-009")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("route", route_params("ROUTE-009"))
def test_the_model_asked_for_is_the_model_served(
    request, proxy, gateway, fresh_model, route, stream, observe
):
    """On every route the provider gets the model the config maps the client's name to, once, and
    the answer's model is the one asked for or the one the provider served."""
    fake = request.getfixturevalue(f"{route.fake}_provider")
    route.script(fake, Reply.text("served"), stream=stream)
    asked = _asked(route, fresh_model)
    ex = route.send(gateway, asked, stream=stream)
    assert ex.status == 200, f"expected 200, observed {ex.status}:\n{ex.transcript()}"
    wanted = _wanted(proxy, route, asked)
    if wanted is None:
        pytest.skip(f"the config maps {asked!r} to no provider model this check can read")
    calls = route.received(fake)
    served = [provider_model(r) for r in calls]
    observe("provider got", served)
    assert served == [wanted], f"expected one call for {wanted!r}, the provider got {served}"
    if route.name == "bedrock-passthrough" and stream:
        return  # the relayed event stream carries no model of its own to compare
    said = _answer_model(ex)
    observe("answer's model", said)
    assert said in {asked, wanted} - {None}, (
        f"expected the answer's model to be {asked!r} or {wanted!r}, observed {said!r}"
    )


def _send(gateway: GatewayClient, route: Route, model: str | None, **kw: Any) -> Exchange:
    path = kw.pop("path", route.path(stream=False))
    return gateway.request(
        "POST",
        path,
        json_body=route.body(model, stream=False),
        validate=False,
        reason="judged by its text",
        **kw,
    )


@pytest.mark.req("PROTO-015")
@pytest.mark.parametrize("route", route_params("PROTO-015"))
def test_claude_code_and_operator_headers_never_break_a_request(
    request, gateway, fresh_model, route, observe
):
    """A request carrying Claude Code's session and agent headers and an operator's custom headers
    is served on every route, with the provider's answer."""
    fake = request.getfixturevalue(f"{route.fake}_provider")
    route.script(fake, Reply.text("served with headers"), stream=False)
    ex = _send(gateway, route, _asked(route, fresh_model), headers=CUSTOM_HEADERS)
    observe("status", ex.status)
    assert_says(ex, "served with headers")


@pytest.mark.req("PROTO-016")
@pytest.mark.parametrize("route", route_params("PROTO-016"))
def test_the_beta_query_changes_nothing_the_provider_is_asked(
    request, gateway, fresh_model, route, observe
):
    """/v1/messages?beta=true and /v1/messages reach the provider with the same path and body, and
    both answers carry the provider's text."""
    fake = request.getfixturevalue(f"{route.fake}_provider")
    route.script(fake, Reply.text("same"), stream=False, times=2)
    model = _asked(route, fresh_model)
    with_query = _send(gateway, route, model)
    bare = _send(gateway, route, model, path=route.path(stream=False).split("?", 1)[0])
    observe("statuses", [with_query.status, bare.status])
    assert_says(with_query, "same")
    assert_says(bare, "same")
    calls = route.received(fake)
    assert len(calls) >= 2, f"expected two provider calls, observed {[c.path for c in calls]}"
    first, second = calls[-2:]
    assert (first.path.split("?")[0], first.body) == (second.path.split("?")[0], second.body), (
        f"the provider got another request without ?beta=true:\n{first.body}\n{second.body}"
    )
