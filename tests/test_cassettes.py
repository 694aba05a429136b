"""Cassettes: vcrpy's format with provenance, replay, scrubbing, check / verify / diff, bad
input."""

from __future__ import annotations

import json
import string

import httpx
import pytest
import vcr
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from vcr.request import Request

from harness import tapes as cassettes
from harness.fakes import FakeAnthropic, Recorded
from harness.tapes import CassetteError, Interaction, Tape
from harness.tapes.scrub import Scrubber, environment_secrets
from harness.tools.maintainer.recording import audit

PROVENANCE = {
    "recorded_at": "2026-11-25T00:00:00+00:00",
    "base_url": "http://127.0.0.1:1",
    "provider": "anthropic",
    "provider_model": "claude-haiku-4-5-20251001",
    "harness_revision": "test",
    "recorded_by": "a test",
}
SSE = (
    'event: message_start\r\ndata: {"type":"message_start",'
    '"message":{"id":"msg_1","type":"message",'
    '"role":"assistant","content":[],"model":"m","stop_reason":null,"usage":{"input_tokens":1,'
    '"output_tokens":1}}}\r\n\r\nevent: ping\ndata: {"type": "ping"}\n\n'
)


def _tape(name: str = "anthropic/t", body: bytes = SSE.encode(), chunks=None, **provenance) -> Tape:
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"content-type": ["text/event-stream"]},
        "body": {"string": body},
    }
    if chunks is not None:
        response["chunks"] = chunks
    request = Request(
        "POST", "https://api.anthropic.com/v1/messages", b'{"model": "m", "max_tokens": 5}', {}
    )
    return Tape(name, [Interaction(request, response)], {**PROVENANCE, **provenance})


def test_the_repository_holds_at_least_20_cassettes_that_vcrpy_itself_loads():
    paths = [cassettes.path_for(n) for n in cassettes.names()]
    assert len(paths) >= 20
    for path in paths:
        loaded = vcr.cassette.Cassette.load(path=str(path))  # vcrpy's own loader, not ours
        assert len(loaded.data) >= 1, path
        assert cassettes.load(path).provenance["recorded_at"], path
    assert {cassettes.load(p).provider for p in paths} == set(cassettes.PROVIDERS)


def test_save_and_load_keep_the_bytes_and_the_pacing(tmp_path):
    body = SSE.encode() + "café ✓\n\n".encode()
    chunks = [[0.0, 200], [0.25, 40], [0.5, len(body) - 240]]
    cassettes.save(_tape(body=body, chunks=chunks), tmp_path)
    back = cassettes.load("anthropic/t", tmp_path).interactions[0]
    assert back.body == body
    assert [(round(p, 2), len(c)) for p, c in back.chunks()] == [
        (0.0, 200),
        (0.25, 40),
        (0.5, len(body) - 240),
    ]
    assert b"".join(c for _, c in back.chunks()) == body


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("interactions: [\n  - {", "not a readable vcrpy cassette"),
        ("", "no cassette"),
        ("interactions: []\nversion: 1\n", "no provenance"),
    ],
    ids=["truncated", "empty", "no-provenance"],
)
def test_a_broken_cassette_is_named_with_what_is_wrong(tmp_path, text, problem):
    path = tmp_path / "anthropic" / "broken.yaml"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(CassetteError, match=problem) as info:
        cassettes.load(path)
    assert str(path) in str(info.value)


def test_a_cassette_of_an_unknown_provider_is_refused(tmp_path):
    cassettes.save(_tape("mistral/x"), tmp_path)
    with pytest.raises(CassetteError, match="provider 'mistral' cannot be replayed"):
        cassettes.load("mistral/x", tmp_path)


def test_a_failed_save_leaves_the_previous_cassette_intact(tmp_path, monkeypatch):
    path = cassettes.save(_tape(), tmp_path)
    before = path.read_bytes()

    def broken(cassette_path, cassette_dict, serializer):
        with open(cassette_path, "w") as f:
            f.write("interactions: [half")
        raise OSError("disk full")

    monkeypatch.setattr(cassettes.FilesystemPersister, "save_cassette", staticmethod(broken))
    with pytest.raises(OSError, match="disk full"):
        cassettes.save(_tape(body=b"new"), tmp_path)
    assert path.read_bytes() == before
    assert list(path.parent.glob("*.part")) == []


@pytest.fixture
def fake():
    provider = FakeAnthropic().start()
    yield provider
    provider.stop()


def test_replay_serves_the_recorded_answer_byte_for_byte(fake):
    tape = cassettes.load("anthropic/text")
    fake.script("messages", Recorded("anthropic/text"))
    recorded = tape.interactions[0]
    got = httpx.post(fake.url + "/v1/messages", content=recorded.request.body)
    assert got.status_code == recorded.status
    assert got.content == recorded.body
    assert fake.received()[0].answer == "recorded anthropic/text"


def test_a_replay_miss_fails_with_the_request_beside_the_closest_interaction(fake):
    fake.script("messages", Recorded("anthropic/text"))
    body = json.loads(cassettes.load("anthropic/text").interactions[0].request.body)
    body["messages"][0]["content"] = "Something else entirely."
    got = httpx.post(fake.url + "/v1/messages", json=body)
    assert got.status_code == 501
    with pytest.raises(AssertionError) as info:
        fake.assert_no_unexpected()
    text = str(info.value)
    assert "no unplayed interaction matches POST /v1/messages" in text
    assert "closest: POST /v1/messages" in text
    assert "differs in body" in text
    assert "Something else entirely." in text


# -- scrubbing ------------------------------------------------------------------------------------

SECRETS = st.text(alphabet=string.ascii_letters + string.digits + "-_+/.", min_size=12, max_size=48)
PLACES = (
    "request-header",
    "request-body-json",
    "query",
    "response-header",
    "response-json",
    "sse-data",
    "sse-straddling-chunks",
)
TRIED: list[str] = []


def _planted(secret: str, place: str) -> tuple[Request, dict]:
    headers = {"x-custom": f"v {secret}"} if place == "request-header" else {"x-custom": "v"}
    body = json.dumps(
        {
            "messages": [
                {
                    "role": "user",
                    "content": f"key={secret}" if place == "request-body-json" else "hi",
                }
            ]
        }
    ).encode()
    query = f"?k={secret}" if place == "query" else ""
    request = Request("POST", f"https://api.anthropic.com/v1/messages{query}", body, headers)
    sse = f'data: {{"type":"content_block_delta","delta":{{"text":"{secret}"}}}}\n\n'.encode()
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"x-echo": [secret if place == "response-header" else "none"]},
        "body": {
            "string": json.dumps({"echo": secret}).encode() if place == "response-json" else sse
        },
    }
    if place in ("sse-data", "sse-straddling-chunks"):
        cut = (
            sse.index(secret.encode()) + len(secret) // 2
            if place == "sse-straddling-chunks"
            else len(sse)
        )
        response["chunks"] = (
            [[0.0, cut], [0.1, len(sse) - cut]] if cut < len(sse) else [[0.0, len(sse)]]
        )
        if place == "sse-data":
            response["body"]["string"] = sse
    return request, response


BASELINE: list[str] = []


def _baseline(tmp_path_factory) -> str:
    """What a cassette holds with no secret in it: the harness's own words, in every place."""
    if not BASELINE:
        scrubber = Scrubber([])
        texts = []
        for place in PLACES:
            request, response = _planted("NEUTRAL0VALUE0", place)
            tape = Tape(
                "anthropic/planted",
                [Interaction(scrubber.request(request), scrubber.response(response))],
                dict(PROVENANCE),
            )
            texts.append(cassettes.save(tape, tmp_path_factory.mktemp("baseline")).read_text())
        BASELINE.append("\n".join(texts))
    return BASELINE[0]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=SECRETS, place=st.sampled_from(PLACES))
def test_a_secret_placed_anywhere_never_reaches_the_cassette(tmp_path_factory, secret, place):
    # A "secret" that is a piece of the cassette's own structure (say "provider_mod") is no leak.
    assume(secret not in _baseline(tmp_path_factory))
    TRIED.append(secret)
    scrubber = Scrubber(environment_secrets({"ANTHROPIC_API_KEY": secret, "HOME": "/root"}))
    request, response = _planted(secret, place)
    tape = Tape(
        "anthropic/planted",
        [Interaction(scrubber.request(request), scrubber.response(response))],
        dict(PROVENANCE),
    )
    path = cassettes.save(tape, tmp_path_factory.mktemp("scrub"))
    written = path.read_text()
    assert secret not in written
    assert audit.check([path], [secret]) == []


def test_the_property_test_tried_many_secrets():
    # Runs after the property test (same module, definition order); the count is in the closing
    # note.
    print(f"\nscrubber property test: {len(TRIED)} generated secrets, {len(set(TRIED))} distinct")
    assert len(set(TRIED)) >= 200


def test_credential_headers_are_scrubbed_and_pacing_kept():
    scrubber = Scrubber([])
    request = Request(
        "POST",
        "https://x/v1/messages",
        b"{}",
        {"x-api-key": "sk-ant-api03-abcdefghijkl", "authorization": "Bearer abc", "cookie": "s=1"},
    )
    clean = scrubber.request(request)
    assert set(clean.headers.values()) == {"<scrubbed>"}
    _, response = _planted("sk-ant-api03-zzzzzzzzzzzz", "sse-data")
    assert scrubber.response(response)["chunks"] == [
        [0.0, len(scrubber.response(response)["body"]["string"])]
    ]


# -- check / verify / diff ------------------------------------------------------------------------


def test_check_finds_a_secret_that_was_never_scrubbed(tmp_path):
    leaked = _tape(body=b'{"note": "key sk-ant-api03-0123456789abcdef"}')
    leaked.interactions[0].request.headers["x-api-key"] = "sk-ant-api03-0123456789abcdef"
    path = cassettes.save(leaked, tmp_path)
    problems = audit.check([path], [])
    assert any("response body" in p and str(path) in p for p in problems)
    assert any("header x-api-key is kept unscrubbed" in p for p in problems)


def test_check_passes_every_shipped_cassette():
    assert audit.check(sorted(cassettes.DIRECTORY.glob("*/*.yaml"))) == []


def test_verify_holds_every_shipped_cassette_to_its_protocol():
    problems = [p for name in cassettes.names() for p in audit.verify(cassettes.load(name))]
    assert problems == []


def test_verify_flags_a_broken_stream_unless_it_is_declared_broken(tmp_path):
    broken = cassettes.load("anthropic/sdk-incomplete-partial-json-response")
    assert audit.verify(broken) == []  # declared: expect invalid-stream
    broken.provenance.pop("expect")
    assert any("stream grammar" in p for p in audit.verify(broken))


def test_verify_flags_a_body_the_sdk_types_refuse():
    tape = _tape(body=b'{"type": "message", "content": "not a list"}')
    tape.interactions[0].response["headers"] = {"content-type": ["application/json"]}
    assert any("BodyShapeError" in p for p in audit.verify(tape))


def test_diff_names_what_the_provider_changed():
    old = cassettes.load("anthropic/text")
    new = cassettes.load("anthropic/text")
    body = json.loads(new.interactions[0].body)
    body["content"][0]["citations"] = []
    body.pop("stop_sequence")
    new.interactions[0].response["body"]["string"] = json.dumps(body).encode()
    new.interactions[0].response["status"]["code"] = 201
    changes = audit.diff(old, new)
    assert "interaction 0 fields: + $.content[].citations" in changes
    assert "interaction 0 fields: - $.stop_sequence" in changes
    assert "interaction 0 status: + 201" in changes
    basic, refusal = (
        cassettes.load("anthropic/sdk-basic-response"),
        cassettes.load("anthropic/sdk-refusal-response"),
    )
    assert any("events:" in c for c in audit.diff(basic, refusal))
    assert audit.diff(old, old) == []
