"""VERTEX: Vertex-routed Claude models through /v1/messages, on rawPredict and streamRawPredict.

The fake Vertex AI (harness/fakes/vertex.py) issues the OAuth token google-auth asks
for with the configured service account, and labels each prediction with the project,
location and model in its path and whether it carried that token.
"""

from __future__ import annotations

import json
import re
import subprocess
from urllib.parse import urlsplit

import pytest

from harness.fakes import HttpError, Reply, Text, Thinking, ToolUse
from harness.fakes.anthropic import message_json
from harness.fakes.journal import secret_places
from harness.gateway.configs import (
    VERTEX_LOCATION,
    VERTEX_MODEL,
    VERTEX_PASSTHROUGH_MODEL,
    VERTEX_PROJECT,
)
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

pytestmark = [pytest.mark.gateway("providers"), pytest.mark.needs("vertex")]

STREAMS = [pytest.param(False, id="json"), pytest.param(True, id="stream")]
NAME, MODEL_ID = VERTEX_MODEL

VERTEX_OWN = "the check reads the pass-through's answer itself (rawPredict's stream or Message)"


def _route(stream: bool) -> str:
    return "stream_raw_predict" if stream else "raw_predict"


@pytest.mark.req("ROUTE-007")
@pytest.mark.parametrize("stream", STREAMS)
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_vertex_model_reaches_vertex_with_its_model_id_and_answers_in_anthropic_shape(
    gateway, vertex_provider, stream, observe
):
    """A Vertex-routed model reaches Vertex's configured project, location and model id, and answers
    as Anthropic."""
    vertex_provider.script(_route(stream), Reply.text("hello from vertex"))
    ex = gateway.messages(message_body(NAME, stream=stream))
    assert_status(ex, 200)
    got = vertex_provider.last(_route(stream))
    observe("provider labels", got.labels)
    assert (got.labels["project"], got.labels["location"], got.labels["model"]) == (
        VERTEX_PROJECT,
        VERTEX_LOCATION,
        MODEL_ID,
    )
    assert client_view(ex)["blocks"] == [("text", "hello from vertex")]


@pytest.mark.req("VERTEX-001")
@pytest.mark.parametrize("stream", STREAMS)
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_vertex_body_carries_its_anthropic_version_and_the_service_account_token(
    gateway, vertex_provider, stream, observe
):
    """rawPredict gets anthropic_version vertex-2023-10-16, no model, and the service account's
    bearer token."""
    vertex_provider.script(_route(stream), Reply.text("ok"))
    assert_status(gateway.messages(message_body(NAME, stream=stream)), 200)
    got = vertex_provider.last(_route(stream))
    observe("body fields", sorted(got.body))
    assert got.body.get("anthropic_version") == "vertex-2023-10-16"
    assert "model" not in got.body
    assert got.labels["auth"] == "issued token", (
        f"Vertex got {got.labels['auth']}, not the issued token"
    )


@pytest.mark.req("AUTH-005")
@pytest.mark.parametrize("stream", STREAMS)
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_gateway_key_never_reaches_vertex(gateway, proxy, vertex_provider, stream):
    """The gateway's master key appears in no header, query or body Vertex receives."""
    vertex_provider.script(_route(stream), Reply.text("ok"))
    assert_status(gateway.messages(message_body(NAME, stream=stream)), 200)
    received = vertex_provider.received()
    assert received, "nothing reached Vertex: there is no request to find the key in"
    assert secret_places(received, proxy.master_key) == []


@pytest.mark.req("STREAM-013")
@pytest.mark.settings_sensitive  # a ping first was seen on defaults only (num_retries)
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_prompt_vertex_stream_opens_with_message_start(gateway, vertex_provider, observe):
    """A stream that starts promptly opens with message_start, with no ping ahead of it, however it
    is read."""
    reply = Reply.text("hello from vertex", delay=PROMPT_EVENT_GAP_S)
    vertex_provider.script(_route(True), reply, times=PROMPT_STREAMS)
    exchanges = [gateway.messages(message_body(NAME, stream=True)) for _ in range(PROMPT_STREAMS)]
    for ex in exchanges:
        assert_status(ex, 200)
    assert_opens_with_message_start([ex.stream for ex in exchanges], observe)


@pytest.mark.req("VERTEX-002")
@pytest.mark.parametrize("stream", STREAMS)
def test_claude_code_betas_reach_vertex(gateway, vertex_provider, stream, observe):
    """The anthropic-beta values Claude Code sends reach Vertex in the anthropic-beta header."""
    vertex_provider.script(_route(stream), Reply.text("ok"))
    assert_status(gateway.messages(message_body(NAME, stream=stream)), 200)
    got = vertex_provider.last(_route(stream)).header("anthropic-beta")
    observe("anthropic-beta at Vertex", got, better="more")
    missing = sorted(beta_set(",".join(CLAUDE_CODE_BETAS)) - beta_set(got))
    assert missing == [], f"betas dropped before Vertex: {missing}"


@pytest.mark.req("STREAM-003")
@pytest.mark.parametrize("stream", STREAMS)
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_vertex_thinking_text_and_tool_input_arrive_intact(
    gateway, vertex_provider, stream, observe
):
    """Thinking (with its signature), text and tool input from Vertex reach the client intact and in
    order."""
    reply = Reply(
        blocks=(
            Thinking("check the tool"),
            Text("Let me look."),
            ToolUse("get_weather", {"city": "Oslo"}),
        ),
        stop_reason="tool_use",
    )
    vertex_provider.script(_route(stream), reply)
    ex = gateway.messages(message_body(NAME, stream=stream))
    assert_status(ex, 200)
    got = client_view(ex)
    observe("blocks", [b[0] for b in got["blocks"]])
    assert got == message_view(message_json(reply, MODEL_ID))


@pytest.mark.req("ERR-001")
@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, "invalid_request_error"), (429, "rate_limit_error"), (529, "overloaded_error")],
    ids=["400", "429", "529"],
)
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_vertex_error_status_reaches_the_client(
    gateway, vertex_provider, fresh_model, status, kind, observe
):
    """A Vertex error reaches the client with the same HTTP status, in Anthropic's envelope."""
    vertex_provider.script("raw_predict", HttpError(status, kind, f"scripted {kind}"), times=None)
    ex = gateway.messages(message_body(fresh_model("vertex")))
    observe("client status", ex.status)
    assert_status(ex, status)
    assert_anthropic_error(ex, status)


PASS_BODY = {
    "anthropic_version": "vertex-2023-10-16",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hi through the pass-through"}],
}
PASS_OPS = [
    pytest.param(("rawPredict", "raw_predict", False), id="rawPredict"),
    pytest.param(("streamRawPredict", "stream_raw_predict", True), id="streamRawPredict"),
]
PASSTHROUGH = pytest.mark.settings(
    use_in_pass_through="true on the deployment (LiteLLM's Vertex pass-through "
    "uses no deployment's credentials without it)"
)


def _pass_path(model: str, op: str) -> str:
    where = f"projects/{VERTEX_PROJECT}/locations/{VERTEX_LOCATION}"
    return f"/vertex_ai/v1/{where}/publishers/anthropic/models/{model}:{op}"


@pytest.mark.req("VERTEX-003")
@pytest.mark.needs("vertex-passthrough")
@PASSTHROUGH
@pytest.mark.parametrize("op", PASS_OPS)
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_vertex_passthrough_resolves_authenticates_and_relays_bytes_unchanged(
    gateway, vertex_provider, op, observe
):
    """/vertex_ai/v1/… resolves the model name, adds the deployment's token, relays the body and
    answer unchanged."""
    path_op, route, stream = op
    vertex_provider.script(route, Reply(blocks=(Thinking("think"), Text("through"))))
    ex = gateway.request(
        "POST",
        _pass_path(VERTEX_PASSTHROUGH_MODEL, path_op),
        json_body={**PASS_BODY, "stream": True} if stream else PASS_BODY,
        validate=False,
        reason=VERTEX_OWN,
    )
    assert_status(ex, 200)
    got = vertex_provider.last(route)
    observe("provider labels", got.labels)
    assert (got.labels["project"], got.labels["location"], got.labels["model"]) == (
        VERTEX_PROJECT,
        VERTEX_LOCATION,
        MODEL_ID,
    )
    assert got.labels["auth"] == "issued token", (
        f"Vertex got {got.labels['auth']}, not the issued token"
    )
    sent = {k: v for k, v in got.body.items() if k != "stream"}
    assert sent == PASS_BODY, "the body changed on the way"
    assert ex.content == got.response_body, "the answer's bytes changed on the way"


@pytest.mark.req("AUTH-005")
@pytest.mark.needs("vertex-passthrough")
@PASSTHROUGH
@pytest.mark.parametrize("op", PASS_OPS)
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_gateway_key_never_reaches_vertex_through_the_passthrough(
    gateway, proxy, vertex_provider, op
):
    """The gateway's master key appears in nothing the Vertex pass-through sends."""
    path_op, route, stream = op
    vertex_provider.script(route, Reply.text("ok"))
    ex = gateway.request(
        "POST",
        _pass_path(VERTEX_PASSTHROUGH_MODEL, path_op),
        json_body={**PASS_BODY, "stream": True} if stream else PASS_BODY,
        validate=False,
        reason=VERTEX_OWN,
    )
    assert_status(ex, 200)
    received = vertex_provider.received()
    assert received, "nothing reached Vertex: there is no request to find the key in"
    assert secret_places(received, proxy.master_key) == []


@pytest.mark.req("VERTEX-004")
@pytest.mark.needs("vertex-passthrough")
@PASSTHROUGH
@CLOUD_BETAS_JUDGED_ELSEWHERE
def test_vertex_passthrough_reaches_the_deployments_api_base(
    gateway, vertex_provider, upstreams, observe
):
    """The Vertex pass-through sends to the deployment's configured api_base, so a private endpoint
    can be used."""
    vertex_provider.script("raw_predict", Reply.text("ok"))
    ex = gateway.request(
        "POST",
        _pass_path(VERTEX_PASSTHROUGH_MODEL, "rawPredict"),
        json_body=PASS_BODY,
        validate=False,
        reason=VERTEX_OWN,
    )
    assert_status(ex, 200)
    hosts = sorted({r.header("host") or "" for r in vertex_provider.received("raw_predict")})
    observe("host at Vertex", hosts)
    # The Host header, not the tunnel list: a tunnel opened by an earlier check is reused.
    assert hosts == [urlsplit(upstreams.vertex_url).netloc], (
        f"the pass-through ignored api_base ({upstreams.vertex_url}) and went to {hosts}"
    )


PROBE = """import importlib.metadata as m, importlib.util as u, json, re
extra = re.compile(r"extra\\s*==\\s*['\\"]proxy['\\"]")
print(json.dumps({"proxy_extra": [r for r in m.requires('litellm') or [] if extra.search(r)],
                  "google_auth_installed": u.find_spec('google.auth') is not None}))"""


@pytest.mark.req("VERTEX-005")
@pytest.mark.needs("litellm-package")
def test_litellm_proxy_extra_installs_what_the_vertex_routes_need(litellm_python, observe):
    """Installing litellm[proxy] brings google-auth, without which every Vertex route fails before
    sending."""
    done = subprocess.run(
        [litellm_python, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    found = json.loads(done.stdout)
    observe(
        "google-auth importable in the environment under test",
        found["google_auth_installed"],
        volatile=True,
    )
    names = sorted(
        {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in found["proxy_extra"]}
    )
    observe("litellm[proxy] requires", names, volatile=True)
    observe("google-auth among litellm[proxy]'s requirements", "google-auth" in names)
    assert "google-auth" in names, (
        "litellm[proxy] does not require google-auth: a gateway installed as the docs say fails "
        "every Vertex request (the harness adds google-auth to the environment under test so the "
        "other checks can run)"
    )
