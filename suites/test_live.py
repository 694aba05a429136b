"""LIVE: what real providers sent reaches the client, on every route (issue 40).

The fake providers answer with live recordings other projects made against the real APIs and
published (``cassettes/live/``): the provider's own bytes, its padding, pings, signatures,
encrypted results, event-stream frames and ``p`` padding, chunk obfuscation. Where no live
recording of a route exists (Vertex; Bedrock's InvokeModelWithResponseStream) the answer is
derived from a live one and the report says so. Each check holds the client's answer to what the
provider sent, read with the same views on both sides.
"""

from __future__ import annotations

import json

import pytest

from .support.answers import client_view
from .support.live import (
    Case,
    content_cases,
    gist,
    native_client,
    native_provider,
    params,
    refusal_cases,
    translated_said,
    usage_cases,
    usage_of,
)

pytestmark = [pytest.mark.needs("config")]

# Routes that speak Anthropic's Messages to the provider: the client sees the provider's blocks.
NATIVE = frozenset(
    {
        "anthropic",
        "anthropic-passthrough",
        "vertex",
        "vertex-passthrough",
        "bedrock-invoke",
        "bedrock-passthrough",
    }
)


def _send(request, case: Case, fresh_model):
    fake = request.getfixturevalue(f"{case.route.fake}_provider")
    case.route.script(fake, case.item, stream=case.stream)
    model = None if case.route.pool is None else fresh_model(case.route.pool)
    ex = case.route.send(request.getfixturevalue("gateway"), model, stream=case.stream)
    sent = case.route.received(fake)
    assert sent, f"the provider was never asked:\n{ex.transcript()}"
    return ex, sent[-1]


@pytest.mark.req("LIVE-001")
@pytest.mark.parametrize("case", params(content_cases()))
def test_live_answer_reaches_the_client_with_its_content(request, fresh_model, case, observe):
    """A live provider answer reaches the client with its content: text, tool calls and their
    input, thinking and its signature, redacted thinking; on Anthropic-shaped routes the same
    blocks (server tool calls, their results and citations included) and stop reason."""
    ex, sent = _send(request, case, fresh_model)
    observe("provider answer", sent.answer)
    assert ex.status == 200, (
        f"expected the provider's answer (HTTP {sent.response_status}), observed {ex.status}:\n"
        f"{ex.transcript()}"
    )
    if case.route.name in NATIVE:
        got, expected = native_client(case.route, ex), native_provider(sent)
    else:
        got, expected = client_view(ex), translated_said(sent)
        got, expected = gist(got), gist(expected)
        if case.route.fake == "openai":  # OpenAI's answers carry no thinking the client could see
            got = {k: v for k, v in got.items() if k in ("text", "tools")}
            expected = {k: v for k, v in expected.items() if k in ("text", "tools")}
    observe("client content", json.dumps(got)[:400])
    assert got == expected, f"{_where(expected, got)}\n{ex.transcript()}"


def _where(expected: dict, got: dict) -> str:
    """Where the client's content first differs from the provider's, expected vs observed."""
    for key in expected:
        want, have = expected[key], got.get(key)
        if want == have:
            continue
        if isinstance(want, list) and isinstance(have, list):
            for n in range(max(len(want), len(have))):
                a = want[n] if n < len(want) else "<none>"
                b = have[n] if n < len(have) else "<none>"
                if a != b:
                    return (
                        f"{key}[{n}]: expected the provider's {json.dumps(a)[:400]}\n"
                        f"observed {json.dumps(b)[:400]}"
                    )
        return (
            f"{key}: expected the provider's {json.dumps(want)[:400]}\n"
            f"observed {json.dumps(have)[:400]}"
        )
    return "the same keys differ in order"


@pytest.mark.req("USAGE-001")
@pytest.mark.parametrize("case", params(usage_cases()))
def test_live_cache_usage_reaches_the_client(request, fresh_model, case, observe):
    """The input, output, cache read and cache write tokens a live answer reported reach the
    client."""
    ex, sent = _send(request, case, fresh_model)
    assert ex.status == 200, f"expected 200, observed {ex.status}:\n{ex.transcript()}"
    expected = usage_of(sent)
    usage = ex.json().get("usage") or {}
    # An absent cache count and a zero are the same to a client (Anthropic's usage docs).
    expected = {k: v or 0 if k.startswith("cache") else v for k, v in expected.items()}
    got = {
        k: usage.get(k) or 0 if k.startswith("cache") else usage.get(k, "<absent>")
        for k in expected
    }
    observe("usage", got)
    assert got == expected, f"expected the provider's usage {expected}, the client got {got}"


@pytest.mark.req("ERR-001")
@pytest.mark.parametrize("case", params(refusal_cases()))
def test_live_refusal_reaches_the_client_with_its_status(request, fresh_model, case, observe):
    """A live provider refusal reaches the client with the provider's HTTP status, as an error."""
    ex, sent = _send(request, case, fresh_model)
    observe("statuses (provider -> client)", f"{sent.response_status} -> {ex.status}")
    assert ex.status == sent.response_status, (
        f"expected the provider's HTTP {sent.response_status}, observed {ex.status}:\n"
        f"{ex.transcript()}"
    )
