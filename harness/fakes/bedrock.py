"""The fake Amazon Bedrock runtime: InvokeModel (Anthropic's body) and Converse, JSON and event
streams.

Paths carry the model id (``/model/{id}/invoke``), so each request is labelled with the
id it named and with its SigV4 credential scope (access key, date, region, service);
with the expected secret set, the signature itself is checked with botocore's signer.
Streams are AWS event stream frames (:mod:`harness.fakes.eventstream`).
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar
from urllib.parse import unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness.fakes import eventstream
from harness.fakes.anthropic import last_user_text, message_events, message_json
from harness.fakes.journal import RecordedRequest, WireResponse
from harness.fakes.script import (
    Block,
    Echo,
    HttpError,
    ModelList,
    RedactedThinking,
    Reply,
    Scripted,
    Text,
    Thinking,
    TokenCount,
    ToolUse,
)
from harness.fakes.server import FakeProvider

EVENTSTREAM = "application/vnd.amazon.eventstream"
PATH = re.compile(
    r"^/model/(?P<model>[^/]+)/(?P<op>invoke|invoke-with-response-stream|converse|converse-stream|"
    r"count-tokens)$"
)
OPS = {
    "invoke": "invoke",
    "invoke-with-response-stream": "invoke_stream",
    "converse": "converse",
    "converse-stream": "converse_stream",
    "count-tokens": "count_tokens",
}
SCOPE = re.compile(
    r"Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<signature>[0-9a-f]+)"
)
CONVERSE_STOP = {
    "end_turn": "end_turn",
    "tool_use": "tool_use",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "refusal": "content_filtered",
}


class FakeBedrock(FakeProvider):
    name = "bedrock"
    routes: ClassVar[dict[tuple[str, str], str]] = {
        **{("POST", op): name for op, name in OPS.items()},
        ("GET", "/inference-profiles"): "inference_profiles",
    }

    def __init__(self) -> None:
        super().__init__()
        # The secret the gateway was given; with it, each signature is checked, not just parsed.
        self.aws_secret: str | None = None

    def route_for(self, request: RecordedRequest) -> str | None:
        self._label_auth(request)
        if request.method == "GET" and request.path == "/inference-profiles":
            return "inference_profiles"
        match = PATH.match(request.path) if request.method == "POST" else None
        if match is None:
            return None
        request.labels["model"] = unquote(match["model"])
        return OPS[match["op"]]

    def _label_auth(self, request: RecordedRequest) -> None:
        scope = SCOPE.search(request.header("authorization") or "")
        if scope is None:
            request.labels["auth"] = "none" if not request.header("authorization") else "not SigV4"
            return
        request.labels.update(
            {
                "auth": "SigV4",
                "access_key": scope["key"],
                "region": scope["region"],
                "service": scope["service"],
            }
        )
        if self.aws_secret is not None:
            request.labels["signature"] = (
                "valid" if _signature_ok(request, scope, self.aws_secret) else "invalid"
            )

    def render(self, request: RecordedRequest, item: Scripted) -> WireResponse:
        model = request.labels.get("model", "unknown")
        if isinstance(item, HttpError):
            headers = {
                "x-amzn-ErrorType": f"{item.type}:http://internal.amazon.com/coral/com.amazon.bedrock/",
                "x-amzn-RequestId": "fake-bedrock-request-0001",
                **dict(item.headers),
            }
            return WireResponse.json({"message": item.message}, item.status, **headers)
        if isinstance(item, TokenCount):
            return WireResponse.json({"inputTokens": item.input_tokens})
        if isinstance(item, ModelList):
            return WireResponse.json(
                {
                    "inferenceProfileSummaries": [
                        {
                            "inferenceProfileId": i,
                            "inferenceProfileName": i,
                            "status": "ACTIVE",
                            "type": "SYSTEM_DEFINED",
                        }
                        for i in item.ids
                    ]
                }
            )
        if isinstance(item, Echo):
            body = request.body if isinstance(request.body, dict) else {}
            item = Reply.text(item.prefix + last_user_text(body), delay=item.delay)
        assert isinstance(item, Reply), item
        return self._reply(request.route or "", item, model)

    def _reply(self, route: str, reply: Reply, model: str) -> WireResponse:
        if route == "invoke":
            return WireResponse.json(message_json(reply, model))
        if route == "converse":
            return WireResponse.json(converse_json(reply))
        frames = invoke_frames(reply, model) if route == "invoke_stream" else converse_frames(reply)
        chunks = [(reply.delay if i else 0.0, f) for i, f in enumerate(frames)]
        return WireResponse(200, {"content-type": EVENTSTREAM}, chunks=chunks)

    def unscripted(self, request: RecordedRequest) -> WireResponse:
        return WireResponse.json(
            {"message": f"fake bedrock: nothing scripted for {request.method} {request.path}"},
            501,
            **{"x-amzn-ErrorType": "InternalServerException"},
        )


def _signature_ok(request: RecordedRequest, scope: re.Match[str], secret: str) -> bool:
    signed = scope["signed"].split(";")
    host = request.header("host") or ""
    query = request.query_string
    aws = AWSRequest(
        request.method,
        f"http://{host}{request.path}{'?' + query if query else ''}",
        data=request.raw_body,
        headers={h: request.header(h) or "" for h in signed},
    )
    aws.context["timestamp"] = request.header("x-amz-date") or ""
    auth = SigV4Auth(Credentials(scope["key"], secret), scope["service"], scope["region"])
    expected = auth.signature(auth.string_to_sign(aws, auth.canonical_request(aws)), aws)
    return bool(expected == scope["signature"])


def invoke_frames(reply: Reply, model: str) -> list[bytes]:
    """InvokeModelWithResponseStream: each Anthropic event in a chunk frame; a stream error as an
    exception."""
    events = message_events(reply, model)
    if reply.stream_error is None:
        return [eventstream.invoke_chunk(data) for _, data in events]
    head = [eventstream.invoke_chunk(data) for name, data in events if name != "error"]
    return [*head, eventstream.exception(reply.stream_error.type, reply.stream_error.message)]


def _converse_block(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"text": block.text}
    if isinstance(block, ToolUse):
        return {"toolUse": {"toolUseId": block.id, "name": block.name, "input": block.input}}
    if isinstance(block, Thinking):
        return {
            "reasoningContent": {
                "reasoningText": {"text": block.thinking, "signature": block.signature}
            }
        }
    assert isinstance(block, RedactedThinking)
    return {"reasoningContent": {"redactedContent": block.data}}


def _converse_usage(reply: Reply) -> dict[str, int]:
    u = reply.usage
    out = {
        "inputTokens": u.input_tokens,
        "outputTokens": u.output_tokens,
        "totalTokens": u.input_tokens + u.output_tokens,
    }
    # Converse's TokenUsage names cache reads and writes only when a prompt cache was used
    # (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_TokenUsage.html).
    if u.cache_read_input_tokens or u.cache_creation_input_tokens:
        out["cacheReadInputTokens"] = u.cache_read_input_tokens
        out["cacheWriteInputTokens"] = u.cache_creation_input_tokens
        out["totalTokens"] += u.cache_read_input_tokens + u.cache_creation_input_tokens
    return out


def converse_json(reply: Reply) -> dict[str, Any]:
    return {
        "output": {
            "message": {"role": "assistant", "content": [_converse_block(b) for b in reply.blocks]}
        },
        "stopReason": CONVERSE_STOP.get(reply.stop_reason, reply.stop_reason),
        "usage": _converse_usage(reply),
        "metrics": {"latencyMs": 12},
    }


def _converse_deltas(block: Block) -> list[dict[str, Any]]:
    if isinstance(block, Text):
        return [{"text": piece} for piece in block.pieces()]
    if isinstance(block, ToolUse):
        return [{"toolUse": {"input": piece}} for piece in block.json_pieces()]
    if isinstance(block, Thinking):
        text = [{"reasoningContent": {"text": block.thinking}}] if block.thinking else []
        return [*text, {"reasoningContent": {"signature": block.signature}}]
    assert isinstance(block, RedactedThinking)
    return [{"reasoningContent": {"redactedContent": block.data}}]


def converse_frames(reply: Reply) -> list[bytes]:
    """ConverseStream: messageStart, per block start/deltas/stop, messageStop, metadata."""
    out = [eventstream.event("messageStart", json.dumps({"role": "assistant"}).encode())]
    for i, block in enumerate(reply.blocks):
        if isinstance(block, ToolUse):
            start = {
                "start": {"toolUse": {"toolUseId": block.id, "name": block.name}},
                "contentBlockIndex": i,
            }
            out.append(eventstream.event("contentBlockStart", json.dumps(start).encode()))
        out += [
            eventstream.event(
                "contentBlockDelta", json.dumps({"delta": d, "contentBlockIndex": i}).encode()
            )
            for d in _converse_deltas(block)
        ]
        out.append(
            eventstream.event("contentBlockStop", json.dumps({"contentBlockIndex": i}).encode())
        )
    stop = {"stopReason": CONVERSE_STOP.get(reply.stop_reason, reply.stop_reason)}
    out.append(eventstream.event("messageStop", json.dumps(stop).encode()))
    metadata = {"usage": _converse_usage(reply), "metrics": {"latencyMs": 12}}
    out.append(eventstream.event("metadata", json.dumps(metadata).encode()))
    if reply.stream_error is not None:
        out = [
            *out[: reply.stream_error.after_events],
            eventstream.exception(reply.stream_error.type, reply.stream_error.message),
        ]
    return out
