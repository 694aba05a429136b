"""The live recordings (``cassettes/live/``, issue 40): each passes the validators and agrees with
its manifest, the validators fail on what the provider would never send, and the importer and the
fakes keep the provider's bytes."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from botocore.eventstream import ChecksumMismatch

from harness import tapes as cassettes
from harness.fakes import Live, live
from harness.protocol.validators import bedrock
from harness.protocol.validators import openai as openai_streams
from harness.tools.maintainer.recording import audit, importing

LIVE = [n for n in cassettes.names() if n.startswith("live/")]


def test_at_least_fifteen_live_recordings_cover_every_provider_and_shape():
    """Anthropic JSON and stream, Bedrock Invoke and ConverseStream, OpenAI chat and Responses."""
    shapes = {(t.provider, s) for t in map(cassettes.load, LIVE) for s in t.provenance["shapes"]}
    kinds = [cassettes.load(n).provenance["kind"] for n in LIVE]
    assert kinds.count("live") >= 15, kinds
    for wanted in [
        ("anthropic", "json"),
        ("anthropic", "stream"),
        ("anthropic", "signature"),
        ("anthropic", "tool-use"),
        ("anthropic", "web-search"),
        ("anthropic", "cache-write"),
        ("anthropic", "cache-read"),
        ("bedrock", "invoke"),
        ("bedrock", "converse-stream"),
        ("openai", "chat"),
        ("openai", "responses"),
    ]:
        assert wanted in shapes, f"no live recording of {wanted}"


@pytest.mark.parametrize("name", LIVE)
def test_every_live_recording_passes_the_validators(name):
    """A disagreement is the validator's bug or a named quirk, never the recording's."""
    assert audit.verify(cassettes.load(name)) == []


def test_every_live_recording_agrees_with_its_manifest():
    count, problems = importing.audit()
    assert problems == []
    assert count == len(LIVE)


def test_an_answer_edited_after_its_import_is_named(tmp_path):
    root = tmp_path / "cassettes"
    shutil.copytree(cassettes.DIRECTORY, root)
    shutil.copy(cassettes.DIRECTORY.parent / "NOTICE", tmp_path / "NOTICE")
    path = root / "live/pydantic-ai/anthropic-error-400.yaml"
    path.write_text(path.read_text().replace("xhigh", "yhigh"))
    _, problems = importing.audit(root)
    assert any("anthropic-error-400" in p and "sha256" in p for p in problems), problems


def _converse_stream() -> bytes:
    return cassettes.load("live/pydantic-ai/bedrock-converse-stream").interactions[0].body


def test_a_converse_frame_with_a_broken_crc_is_refused():
    body = bytearray(_converse_stream())
    body[30] ^= 0xFF
    with pytest.raises(ChecksumMismatch):
        bedrock.frames(bytes(body))


def test_a_converse_stream_without_its_message_start_is_refused():
    body = _converse_stream()
    (first,) = struct.unpack("!I", body[:4])
    assert any("messageStart" in p for p in bedrock.converse_stream_problems(body[first:]))


def test_a_converse_field_aws_does_not_model_is_refused():
    tape = cassettes.load("live/pydantic-ai/bedrock-converse-tool-with-thinking")
    body = json.loads(tape.interactions[0].body)
    assert bedrock.converse_problems(body) == []
    body["usage"]["inputTokenz"] = 1
    assert bedrock.converse_problems(body) == ["$.usage.inputTokenz: no such member of TokenUsage"]


def test_openai_events_the_sdk_refuses_are_named():
    text = cassettes.load("live/pydantic-ai/openai-responses-stream-usage").interactions[0].body
    assert openai_streams.stream_problems("/v1/responses", text.decode()) == []
    broken = text.decode().replace('"item_id":', '"item_ix":', 1)
    assert openai_streams.stream_problems("/v1/responses", broken)
    assert openai_streams.stream_problems("/v1/chat/completions", 'data: {"choices": 3}\n\n')


@pytest.mark.parametrize("name", [n for n in LIVE if "stream" in n and "error" not in n])
def test_a_live_stream_is_sent_in_the_providers_own_pieces(name):
    """Cut at each event or frame, the pieces join to the recorded bytes."""
    body = cassettes.load(name).interactions[0].body
    sent = live.render(Live(name))
    assert sent.chunks
    assert len(sent.chunks) > 3
    assert b"".join(c for _, c in sent.chunks) == body


def test_a_derived_invoke_stream_carries_the_live_events_and_says_so():
    name = "live/pydantic-ai/anthropic-thinking-part-stream"
    sent = live.render(Live(name, derive="invoke-stream"))
    events = bedrock.invoke_stream_events(b"".join(c for _, c in sent.chunks or []))
    assert events == live.sse_events(cassettes.load(name).interactions[0].body)
    assert live.source_of(Live(name, derive="invoke-stream")).startswith("derived ")
    assert live.source_of(Live(name)) == f"live {name}"
    assert live.source_of(Live("live/vercel-ai/openai-chat-text-stream")).startswith("derived ")


def test_a_derived_vertex_answer_carries_vertex_message_ids():
    sent = live.render(Live("live/pydantic-ai/anthropic-thinking-part", derive="vertex"))
    assert json.loads(sent.body)["id"].startswith("msg_vrtx_")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def test_the_importer_keeps_a_streamed_answer_byte_for_byte(tmp_path):
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    stream = 'event: ping\ndata: {"type": "ping"}      \n\n'
    (upstream / "c.yaml").write_text(
        "interactions:\n- request:\n    method: POST\n    parsed_body: {model: m}\n"
        "    uri: https://api.anthropic.com/v1/messages\n    headers: {x-api-key: [k]}\n"
        f"  response:\n    status: {{code: 200, message: OK}}\n    headers: {{}}\n"
        f"    body: {{string: {json.dumps(stream)}}}\nversion: 1\n"
    )
    _git(upstream, "init", "-q")
    _git(upstream, "add", ".")
    _git(upstream, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    folder = tmp_path / "cassettes" / "live" / "up"
    folder.mkdir(parents=True)
    manifest = {
        "repository": "https://example.invalid/up",
        "commit": _git(upstream, "rev-parse", "HEAD").strip(),
        "licence": "MIT",
        "format": "vcrpy",
        "recordings": [
            {
                "name": "s",
                "path": "c.yaml",
                "provider": "anthropic",
                "shapes": ["stream"],
                "live": "x",
            }
        ],
    }
    (folder / importing.MANIFEST).write_text(json.dumps(manifest))
    (path,) = importing.import_source(importing.read_manifest(folder), upstream)
    tape = cassettes.load(path)
    assert tape.interactions[0].body == stream.encode()
    assert "x-api-key" not in tape.interactions[0].request.headers
    assert json.loads(tape.interactions[0].request.body) == {"model": "m"}
    assert "written back" in tape.provenance["changes"]
