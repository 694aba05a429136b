"""The routes the RESIL checks run on, and the faults the fakes script in each provider's wire
format."""

from __future__ import annotations

import httpx
import openai
import pytest

from harness.fakes import Echo, Reply, StreamError, Text
from harness.fakes.bedrock import invoke_frames
from harness.plugin import scheduling as parallel
from harness.protocol.client import Exchange
from harness.verdict.catalogue import catalogue
from suites.support.routes import BY_NAME, ROUTES, client_events, route_params


def test_every_route_is_named_once_and_every_ruled_out_route_exists():
    assert len(BY_NAME) == len(ROUTES)
    for requirement in catalogue().values():
        assert {route for route, _ in requirement.not_on} <= set(BY_NAME), requirement.id


def test_a_route_the_catalogue_rules_out_is_skipped_with_the_catalogues_reason():
    params = {p.id: p for p in route_params("RESIL-012")}
    assert set(params) == set(BY_NAME)
    skip = next(m for m in params["bedrock-invoke"].marks if m.name == "skip")
    assert (
        skip.kwargs["reason"]
        == "not applicable on bedrock-invoke: Bedrock's event stream has no keep-alive frame"
    )
    assert not any(m.name == "skip" for m in params["anthropic"].marks)
    assert any(
        m.name == "gateway" and m.args == ("deployed-openai-chat",)
        for m in params["openai-chat"].marks
    )


def test_a_class_of_checks_runs_on_one_worker_a_check_alone_on_any():
    shared = "suites/test_resilience.py::TestSharedSilence::test_a[vertex]"
    assert parallel.unit(shared) == "suites/test_resilience.py::TestSharedSilence"
    assert (
        parallel.unit("suites/test_resilience.py::test_b[vertex]")
        == "suites/test_resilience.py::test_b[vertex]"
    )


def test_a_bedrock_passthrough_stream_is_read_as_anthropic_events_and_its_exception_frame_as_an_error():  # noqa: E501
    reply = Reply(
        blocks=(Text("partial answer", chunks=("partial", " answer")),),
        stream_error=StreamError(4, "serviceUnavailableException", "unavailable"),
    )
    ex = Exchange(
        "POST",
        "http://gw/bedrock/model/m/invoke-with-response-stream",
        {},
        {},
        status=200,
        content=b"".join(invoke_frames(reply, "m")),
    )
    assert client_events(BY_NAME["bedrock-passthrough"], ex) == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "error",
    ]
    cut = Exchange("POST", "http://gw/x", {}, {}, status=200, content=ex.content[:-20])
    assert client_events(BY_NAME["bedrock-passthrough"], cut)[-1] == "(cut frame)"


def _openai(fake) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=fake.url + "/v1",
        api_key="sk-test",
        max_retries=0,
        http_client=httpx.Client(trust_env=False),
    )


def test_the_openai_sdk_raises_on_the_fakes_chat_error_chunk(openai_provider):
    """A chat stream's error chunk is what openai-python raises APIError on (its Stream reads
    `error` in data)."""
    reply = Reply(
        blocks=(Text("partial answer", chunks=("partial", " answer")),),
        stream_error=StreamError(2, "server_error", "The server had an error"),
    )
    openai_provider.script("chat", reply)
    stream = _openai(openai_provider).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(openai.APIError, match="The server had an error"):
        list(stream)


def test_the_openai_sdk_reads_the_fakes_responses_error_event(openai_provider):
    reply = Reply(
        blocks=(Text("partial"),),
        stream_error=StreamError(3, "server_error", "The server had an error"),
    )
    openai_provider.script("responses", reply)
    events = list(
        _openai(openai_provider).responses.create(model="gpt-4o", input="hi", stream=True)
    )
    assert [e.type for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "error",
    ]
    assert events[-1].message == "The server had an error"
    assert events[-1].sequence_number == 3


def test_the_fake_bedrock_echoes_a_converse_users_text(bedrock_provider):
    bedrock_provider.script("converse", Echo())
    body = {"messages": [{"role": "user", "content": [{"text": "session 1234"}]}]}
    got = httpx.post(
        bedrock_provider.url + "/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/converse",
        json=body,
        headers={"content-type": "application/json"},
        trust_env=False,
    ).json()
    assert got["output"]["message"]["content"] == [{"text": "echo: session 1234"}]


def test_keepalive_pings_follow_message_start(anthropic_provider):
    anthropic_provider.script("messages", Reply(blocks=(Text("kept"),), pings=3))
    with httpx.stream(
        "POST",
        anthropic_provider.url + "/v1/messages",
        trust_env=False,
        json={
            "model": "claude-sonnet-4-5-20250929",
            "max_tokens": 8,
            "stream": True,
            "messages": [{"role": "user", "content": "hi"}],
        },
        headers={"anthropic-version": "2023-06-01", "x-api-key": "k"},
    ) as response:
        names = [
            line.split(": ", 1)[1] for line in response.iter_lines() if line.startswith("event: ")
        ]
    assert names[:6] == ["message_start", "ping", "ping", "ping", "ping", "content_block_start"]
