"""The event-stream encoder, proven by botocore's own decoder; the fake Bedrock's SigV4 check."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.eventstream import EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.fakes import Reply, Text, Thinking, ToolUse
from harness.fakes import eventstream as es
from harness.fakes.anthropic import message_events
from harness.fakes.bedrock import FakeBedrock, converse_frames, invoke_frames

FRAMES: list[int] = []
NAMES = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40
)
PAYLOADS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=60),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _decode(data: bytes, cuts: list[int]) -> list:
    buffer, out, at = EventStreamBuffer(), [], 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        buffer.add_data(data[at:cut])
        at = max(at, cut)
        out += list(buffer)
    return out


@settings(max_examples=300, deadline=None)
@given(
    frames=st.lists(st.tuples(NAMES, PAYLOADS, st.booleans()), min_size=1, max_size=8),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=6),
)
def test_botocore_decodes_every_frame_the_encoder_writes(frames, cuts):
    data = b"".join(
        es.exception(n, json.dumps(p)) if exc else es.event(n, json.dumps(p).encode())
        for n, p, exc in frames
    )
    decoded = _decode(data, cuts)
    FRAMES.append(len(frames))
    assert len(decoded) == len(frames)
    for (name, payload, exc), message in zip(frames, decoded, strict=True):
        kind = ":exception-type" if exc else ":event-type"
        assert message.headers[kind] == name
        assert message.headers[":message-type"] == ("exception" if exc else "event")
        body = json.loads(message.payload)
        assert (body["message"] if exc else body) == (json.dumps(payload) if exc else payload)


def test_the_round_trip_tried_many_frames():
    # Runs after the property test; the figures are in the closing note.
    print(
        f"\nevent-stream round trip: {len(FRAMES)} streams, {sum(FRAMES)} frames encoded and "
        "decoded by botocore"
    )
    assert sum(FRAMES) >= 300


REPLY = Reply(
    blocks=(Thinking("hmm"), Text("Hello there"), ToolUse("get", {"a": 1})), stop_reason="tool_use"
)


def test_invoke_frames_carry_each_anthropic_event_base64():
    decoded = _decode(b"".join(invoke_frames(REPLY, "m")), [])
    events = [json.loads(base64.b64decode(json.loads(m.payload)["bytes"])) for m in decoded]
    assert events == [data for _, data in message_events(REPLY, "m")]
    assert {m.headers[":event-type"] for m in decoded} == {"chunk"}


def test_converse_frames_are_named_as_converse_stream_names_them():
    names = [m.headers[":event-type"] for m in _decode(b"".join(converse_frames(REPLY)), [3, 50])]
    assert names[0] == "messageStart"
    assert names[-2:] == ["messageStop", "metadata"]
    assert set(names) == {
        "messageStart",
        "contentBlockStart",
        "contentBlockDelta",
        "contentBlockStop",
        "messageStop",
        "metadata",
    }


VALID = json.dumps(
    {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 8, "messages": []}
).encode()


@pytest.fixture
def bedrock():
    provider = FakeBedrock().start()
    provider.aws_secret = "the-right-secret"
    yield provider
    provider.stop()


@pytest.mark.parametrize(
    ("secret", "verdict"),
    [("the-right-secret", "valid"), ("a-wrong-secret", "invalid")],
    ids=["right-secret", "wrong-secret"],
)
def test_the_fake_checks_the_sigv4_signature(bedrock, secret, verdict):
    bedrock.script("invoke", Reply.text("ok"))
    url = f"{bedrock.url}/model/anthropic.claude-sonnet-4-5-20250929-v1:0/invoke"
    request = AWSRequest("POST", url, data=VALID, headers={"content-type": "application/json"})
    SigV4Auth(Credentials("AKIDEXAMPLE", secret), "bedrock", "eu-west-1").add_auth(request)
    httpx.post(url, content=request.body, headers=dict(request.headers))
    labels = bedrock.last("invoke").labels
    assert (labels["signature"], labels["region"], labels["service"]) == (
        verdict,
        "eu-west-1",
        "bedrock",
    )
    assert labels["model"] == "anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_an_unsigned_request_is_labelled_as_such(bedrock):
    bedrock.script("invoke", Reply.text("ok"))
    httpx.post(f"{bedrock.url}/model/x/invoke", content=VALID)
    assert bedrock.last("invoke").labels["auth"] == "none"


@pytest.mark.parametrize(
    ("body", "wording"),
    [
        ({"max_tokens": 8, "messages": []}, "required key [anthropic_version] not found"),
        (
            {"anthropic_version": "bedrock-2023-05-31", "messages": []},
            "required key [max_tokens] not found",
        ),
        ({**json.loads(VALID), "model": "claude"}, "extraneous key [model] is not permitted"),
        ({**json.loads(VALID), "stream": True}, "extraneous key [stream] is not permitted"),
    ],
    ids=["no-version", "no-max-tokens", "model-in-body", "stream-in-body"],
)
def test_the_fake_bedrock_refuses_what_bedrock_refuses(bedrock, body, wording):
    bedrock.script("invoke", Reply.text("should not be sent"))
    response = httpx.post(f"{bedrock.url}/model/anthropic.claude-x/invoke", json=body)
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"].startswith("ValidationException")
    assert wording in response.json()["message"]
    assert bedrock.last("invoke").answer.startswith("refused by provider rule")
