"""BEDROCK: Bedrock-routed models through /v1/messages, on InvokeModel and on Converse.

The fake Bedrock runtime (harness/fakes/bedrock.py) speaks both operations, JSON and
AWS event streams, labels each request with the model id in its path and its SigV4
credential scope, and checks the signature against the configured secret.
"""

from __future__ import annotations

import json

import pytest

from harness.fakes import HttpError, Reply, StreamError, Text, Thinking, ToolUse, Usage
from harness.fakes.anthropic import message_json
from harness.fakes.journal import secret_places
from harness.gateway.configs import BEDROCK_CONVERSE_MODEL, BEDROCK_INVOKE_MODEL, BEDROCK_REGION
from harness.protocol.client import CLAUDE_CODE_BETAS, beta_set, message_body

from .support.answers import client_view, message_view
from .support.asserts import (
    CLOUD_BETAS_JUDGED_ELSEWHERE,
    PROMPT_EVENT_GAP_S,
    PROMPT_STREAMS,
    assert_anthropic_error,
    assert_opens_with_message_start,
    assert_status,
)

pytestmark = [pytest.mark.gateway("providers"), pytest.mark.needs("bedrock")]

INVOKE = pytest.param(BEDROCK_INVOKE_MODEL, id="invoke")
CONVERSE = pytest.param(BEDROCK_CONVERSE_MODEL, id="converse")
STREAMS = [pytest.param(False, id="json"), pytest.param(True, id="stream")]
POOLS = {BEDROCK_INVOKE_MODEL[0]: "bedrock-invoke", BEDROCK_CONVERSE_MODEL[0]: "bedrock-converse"}
ROUTES = {
    ("claude-bedrock", False): "invoke",
    ("claude-bedrock", True): "invoke_stream",
    ("claude-bedrock-converse", False): "converse",
    ("claude-bedrock-converse", True): "converse_stream",
}
RICH = Reply(
    blocks=(
        Thinking("Paris weather: ask the tool."),
        Text("Let me check."),
        ToolUse("get_weather", {"city": "Paris", "unit": "C"}),
    ),
    stop_reason="tool_use",
    usage=Usage(input_tokens=31, output_tokens=19),
)

BEDROCK_OWN = "a pass-through answers in Bedrock's own format, not the Messages API's"


def _script(provider, model: str, stream: bool, item, times: int | None = 1) -> str:
    route = ROUTES[(model, stream)]
    provider.script(route, item, times=times)
    return route


@pytest.mark.req("ROUTE-006")
@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("model", [INVOKE, CONVERSE])
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_bedrock_model_reaches_bedrock_signed_with_the_configured_credentials(
    gateway, bedrock_provider, upstreams, model, stream, observe
):
    """A Bedrock-routed model reaches Bedrock with the configured model id and a valid SigV4
    signature."""
    name, model_id = model
    route = _script(bedrock_provider, name, stream, Reply.text("hello from bedrock"))
    ex = gateway.messages(message_body(name, stream=stream))
    assert_status(ex, 200)
    got = bedrock_provider.last(route)
    observe("provider labels", got.labels)
    assert got.labels.get("model") == model_id
    assert (got.labels.get("service"), got.labels.get("region")) == ("bedrock", BEDROCK_REGION)
    assert got.labels.get("access_key") == upstreams.aws_access_key_id
    assert got.labels.get("signature") == "valid", (
        "the SigV4 signature does not verify with the configured secret"
    )
    text = client_view(ex)["blocks"]
    assert text == [("text", "hello from bedrock")]


@pytest.mark.req("STREAM-013")
@pytest.mark.settings_sensitive  # a ping first was seen on defaults only (num_retries)
@pytest.mark.parametrize("model", [INVOKE, CONVERSE])
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_prompt_bedrock_stream_opens_with_message_start(gateway, bedrock_provider, model, observe):
    """A stream that starts promptly opens with message_start, with no ping ahead of it, however it
    is read."""
    _script(
        bedrock_provider,
        model[0],
        True,
        Reply.text("hello from bedrock", delay=PROMPT_EVENT_GAP_S),
        times=PROMPT_STREAMS,
    )
    exchanges = [
        gateway.messages(message_body(model[0], stream=True)) for _ in range(PROMPT_STREAMS)
    ]
    for ex in exchanges:
        assert_status(ex, 200)
    assert_opens_with_message_start([ex.stream for ex in exchanges], observe)


@pytest.mark.req("AUTH-005")
@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("model", [INVOKE, CONVERSE])
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_gateway_key_never_reaches_bedrock(gateway, proxy, bedrock_provider, model, stream):
    """The gateway's master key appears in no header, query or body Bedrock receives."""
    _script(bedrock_provider, model[0], stream, Reply.text("ok"))
    assert_status(gateway.messages(message_body(model[0], stream=stream)), 200)
    received = bedrock_provider.received()
    assert received, "nothing reached Bedrock: there is no request to find the key in"
    assert secret_places(received, proxy.master_key) == []


@pytest.mark.req("BEDROCK-001")
@pytest.mark.parametrize("stream", STREAMS)
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_invoke_body_carries_bedrock_anthropic_version_and_no_model(
    gateway, bedrock_provider, stream, observe
):
    """On InvokeModel the body has anthropic_version bedrock-2023-05-31 and no model or stream
    field."""
    route = _script(bedrock_provider, BEDROCK_INVOKE_MODEL[0], stream, Reply.text("ok"))
    assert_status(gateway.messages(message_body(BEDROCK_INVOKE_MODEL[0], stream=stream)), 200)
    body = bedrock_provider.last(route).body
    observe("body fields", sorted(body))
    assert body.get("anthropic_version") == "bedrock-2023-05-31"
    assert "model" not in body
    assert "stream" not in body
    assert body["messages"] == [{"role": "user", "content": "Say hello."}]


@pytest.mark.req("BEDROCK-002")
@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("model", [INVOKE, CONVERSE])
def test_claude_code_betas_reach_bedrock_in_the_body(
    gateway, bedrock_provider, model, stream, observe
):
    """The anthropic-beta values Claude Code sends reach Bedrock in the body's anthropic_beta
    list."""
    route = _script(bedrock_provider, model[0], stream, Reply.text("ok"))
    assert_status(gateway.messages(message_body(model[0], stream=stream)), 200)
    body = bedrock_provider.last(route).body
    carried = (
        body.get("anthropic_beta")
        if "anthropic_beta" in body
        else (body.get("additionalModelRequestFields") or {}).get("anthropic_beta")
    )
    observe("anthropic_beta at Bedrock", carried)
    missing = sorted(beta_set(",".join(CLAUDE_CODE_BETAS)) - set(carried or []))
    assert missing == [], f"betas dropped before Bedrock: {missing}"


@pytest.mark.req("STREAM-003")
@pytest.mark.parametrize("stream", STREAMS)
@pytest.mark.parametrize("model", [INVOKE, CONVERSE])
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_bedrock_thinking_text_and_tool_input_arrive_intact(
    gateway, bedrock_provider, model, stream, observe
):
    """Thinking (with its signature), text and tool input from Bedrock reach the client intact and
    in order."""
    _script(bedrock_provider, model[0], stream, RICH)
    ex = gateway.messages(message_body(model[0], stream=stream))
    assert_status(ex, 200)
    got = client_view(ex)
    observe("blocks", [b[0] for b in got["blocks"]])
    assert got == message_view(message_json(RICH, model[1]))


@pytest.mark.req("ERR-001")
@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "ValidationException"),
        (403, "AccessDeniedException"),
        (429, "ThrottlingException"),
        (500, "InternalServerException"),
    ],
    ids=["400", "403", "429", "500"],
)
@pytest.mark.parametrize("model", [INVOKE, CONVERSE])
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_bedrock_error_status_reaches_the_client(
    gateway, bedrock_provider, fresh_model, model, status, kind, observe
):
    """A Bedrock error reaches the client with the same HTTP status, in Anthropic's envelope."""
    _script(
        bedrock_provider, model[0], False, HttpError(status, kind, f"scripted {kind}"), times=None
    )
    ex = gateway.messages(message_body(fresh_model(POOLS[model[0]])))
    observe("client status", ex.status)
    assert_status(ex, status)
    assert_anthropic_error(ex, status)


@pytest.mark.req("STREAM-007")
@pytest.mark.parametrize("model", [INVOKE, CONVERSE])
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_bedrock_mid_stream_exception_reaches_the_client_as_an_error_event(
    gateway, bedrock_provider, model, observe
):
    """An exception frame mid-stream reaches the client as an `error` event, with no message_stop
    invented."""
    reply = Reply(
        blocks=(Text("partial answer that will break"),),
        stream_error=StreamError(4, "throttlingException", "Too many tokens"),
    )
    _script(bedrock_provider, model[0], True, reply)
    ex = gateway.request(
        "POST",
        "/v1/messages?beta=true",
        json_body=message_body(model[0], stream=True),
        validate=False,
        reason="the check judges a stream that broke: the events around the error",
    )
    types = [e.type or e.event for e in ex.events or []]
    observe("client events", types)
    assert ex.status >= 400 or "error" in types, (
        f"the exception vanished: status {ex.status}, events {types}"
    )
    if ex.events:
        assert "message_stop" not in types[types.index("error") :] if "error" in types else True


PASS_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hi through the pass-through"}],
}
PASS_OPS = [
    pytest.param(("invoke", "invoke"), id="invoke"),
    pytest.param(
        ("invoke-with-response-stream", "invoke_stream"), id="invoke-with-response-stream"
    ),
]


@pytest.mark.req("BEDROCK-003")
@pytest.mark.needs("bedrock-passthrough")
@pytest.mark.parametrize("op", PASS_OPS)
def test_bedrock_passthrough_resolves_signs_and_relays_bytes_unchanged(
    gateway, bedrock_provider, upstreams, op, observe
):
    """/bedrock/model/{name}/… resolves the name, re-signs with the deployment's keys, relays bytes
    unchanged."""
    path_op, route = op
    bedrock_provider.script(route, RICH)
    ex = gateway.request(
        "POST",
        f"/bedrock/model/{BEDROCK_INVOKE_MODEL[0]}/{path_op}",
        json_body=PASS_BODY,
        validate=False,
        reason=BEDROCK_OWN,
    )
    assert_status(ex, 200)
    got = bedrock_provider.last(route)
    observe("provider labels", got.labels)
    assert got.labels.get("model") == BEDROCK_INVOKE_MODEL[1]
    assert got.labels.get("access_key") == upstreams.aws_access_key_id
    assert got.labels.get("signature") == "valid"
    assert got.body == PASS_BODY, "the body changed on the way"
    assert ex.content == got.response_body, "the answer's bytes changed on the way"


@pytest.mark.req("AUTH-005")
@pytest.mark.needs("bedrock-passthrough")
@pytest.mark.parametrize("op", PASS_OPS)
def test_gateway_key_never_reaches_bedrock_through_the_passthrough(
    gateway, proxy, bedrock_provider, op
):
    """The gateway's master key appears in nothing the Bedrock pass-through sends."""
    bedrock_provider.script(op[1], Reply.text("ok"))
    ex = gateway.request(
        "POST",
        f"/bedrock/model/{BEDROCK_INVOKE_MODEL[0]}/{op[0]}",
        json_body=PASS_BODY,
        validate=False,
        reason=BEDROCK_OWN,
    )
    assert_status(ex, 200)
    received = bedrock_provider.received()
    assert received, "nothing reached Bedrock: there is no request to find the key in"
    assert secret_places(received, proxy.master_key) == []


# As Claude Code sends them in Bedrock and Vertex mode with skip-auth: the probe carries no
# credential at all.
KEYLESS = [
    pytest.param(
        ("GET", "/bedrock/inference-profiles?type=SYSTEM_DEFINED", None), id="bedrock-probe"
    ),
    pytest.param(
        ("POST", f"/bedrock/model/{BEDROCK_INVOKE_MODEL[0]}/invoke", PASS_BODY), id="bedrock-invoke"
    ),
    pytest.param(
        (
            "POST",
            "/vertex_ai/v1/projects/p/locations/us-east5/publishers/anthropic/models/"
            "claude-vertex-passthrough:rawPredict",
            PASS_BODY,
        ),
        id="vertex-rawPredict",
    ),
]


@pytest.mark.req("AUTH-003")
@pytest.mark.needs("bedrock-passthrough", "vertex-passthrough")
@pytest.mark.parametrize("call", KEYLESS)
def test_cloud_passthrough_without_a_key_gets_401(
    gateway, bedrock_provider, vertex_provider, call, observe
):
    """A Bedrock or Vertex pass-through request with no key gets 401, as Claude Code's keyless probe
    does."""
    method, path, body = call
    ex = gateway.request(
        method,
        path,
        json_body=body,
        auth="none",
        validate=False,
        reason="a refusal is the check's to judge, in whatever format the pass-through answers",
    )
    observe("client status", ex.status)
    observe("answer", ex.text[:200], volatile=True)
    assert_status(ex, 401)
    assert bedrock_provider.received() == []
    assert vertex_provider.received() == []


SECOND_TURN = [
    {"role": "user", "content": "What is the weather in Paris?"},
    {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Ask the tool.", "signature": "EqQBCgIYAhIMsig0001"},
            {"type": "text", "text": "Let me check."},
            {
                "type": "tool_use",
                "id": "toolu_01SecondTurn000000000001",
                "name": "get_weather",
                "input": {"city": "Paris"},
            },
        ],
    },
    {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01SecondTurn000000000001",
                "content": "18 C and sunny",
            }
        ],
    },
]


@pytest.mark.req("BEDROCK-004")
@pytest.mark.parametrize("stream", STREAMS)
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_converse_second_turn_keeps_tool_ids_inputs_and_results(
    gateway, bedrock_provider, stream, observe
):
    """On Converse, a second turn (thinking, text, tool_use, then tool_result) keeps its blocks, ids
    and input."""
    route = _script(bedrock_provider, BEDROCK_CONVERSE_MODEL[0], stream, Reply.text("Sunny, 18 C."))
    body = {
        **message_body(BEDROCK_CONVERSE_MODEL[0], stream=stream),
        "messages": SECOND_TURN,
        "tools": [
            {
                "name": "get_weather",
                "description": "Weather for a city.",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
    }
    ex = gateway.messages(body)
    assert_status(ex, 200)
    sent = bedrock_provider.last(route).body
    observe(
        "Converse blocks per message",
        [[next(iter(b)) for b in m["content"]] for m in sent["messages"]],
    )
    tool_use = [b["toolUse"] for m in sent["messages"] for b in m["content"] if "toolUse" in b]
    tool_result = [
        b["toolResult"] for m in sent["messages"] for b in m["content"] if "toolResult" in b
    ]
    assert [(t["toolUseId"], t["name"], t["input"]) for t in tool_use] == [
        ("toolu_01SecondTurn000000000001", "get_weather", {"city": "Paris"})
    ]
    assert [t["toolUseId"] for t in tool_result] == ["toolu_01SecondTurn000000000001"]
    assert "18 C and sunny" in json.dumps(tool_result)
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert client_view(ex)["blocks"] == [("text", "Sunny, 18 C.")]
