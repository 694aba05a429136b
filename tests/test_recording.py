"""Recording end to end, hermetically: client -> real LiteLLM -> recording relay -> a loopback
stand-in.

This machine reaches no provider, so the stand-in plays one: the harness's fake with each
scenario's stand-in answers (different from the scripted ones). The round trip holds the
replay to the recording: the same bytes, and the same pacing within a tolerance.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from harness import tapes as cassettes
from harness.errors import HarnessError
from harness.fakes import FakeAnthropic, Recorded
from harness.fakes.scenarios import SCENARIOS
from harness.tapes.scrub import Scrubber
from harness.tools.maintainer.recording.record import record, script_standin

ROUND_TRIP = ["text", "text-stream", "paced-stream", "tool-use", "error-404"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    root = tmp_path_factory.mktemp("cassettes")
    outcome = record("anthropic", ROUND_TRIP, "once", root, standin=True)
    assert outcome.failed == {}
    return root, outcome


# As the gateway sent them: the real API (and so the stand-in) refuses a request without its version
# header.
HEADERS = {"content-type": "application/json", "anthropic-version": "2023-06-01"}


def _timed_post(url: str, body: bytes) -> tuple[int, bytes, list[float]]:
    arrivals, data = [], b""
    started = time.monotonic()
    with httpx.stream("POST", url, content=body, headers=HEADERS) as response:
        for chunk in response.iter_raw():
            arrivals.append(time.monotonic() - started)
            data += chunk
        return response.status_code, data, arrivals


@pytest.mark.parametrize("name", ROUND_TRIP, ids=str)
def test_replay_equals_the_recording_byte_for_byte(recorded, name):
    root, _ = recorded
    scenario = SCENARIOS[f"anthropic/{name}"]
    tape = cassettes.load(scenario.name, root)
    standin, replay = FakeAnthropic().start(), FakeAnthropic().start()
    try:
        script_standin(standin, scenario)
        replay.script(
            scenario.route, Recorded(scenario.name, root=root), times=len(tape.interactions)
        )
        for interaction in tape.interactions:
            body = interaction.request.body
            live = httpx.post(standin.url + interaction.request.path, content=body, headers=HEADERS)
            status, replayed, _ = _timed_post(replay.url + interaction.request.path, body)
            # Byte for byte, once scrubbed: the recording never holds the provider's request ids.
            assert (status, replayed) == (live.status_code, Scrubber([]).scrub_bytes(live.content))
            assert replayed == interaction.body
        replay.assert_no_unexpected()
    finally:
        standin.stop()
        replay.stop()


def test_a_paced_stream_replays_paced(recorded):
    root, _ = recorded
    tape = cassettes.load("anthropic/paced-stream", root)
    recorded_span = sum(p for p, _ in tape.interactions[0].chunks())
    assert 1.0 < recorded_span < 3.0, (
        f"the stand-in paces 30 pieces 50 ms apart; recorded {recorded_span:.2f} s"
    )
    replay = FakeAnthropic().start()
    try:
        replay.script("messages", Recorded("anthropic/paced-stream", root=root))
        _, _, arrivals = _timed_post(replay.url + "/v1/messages", tape.interactions[0].request.body)
    finally:
        replay.stop()
    replayed_span = arrivals[-1] - arrivals[0]
    assert abs(replayed_span - recorded_span) < 0.25 * recorded_span, (recorded_span, replayed_span)


def test_each_cassette_records_its_provenance(recorded):
    root, outcome = recorded
    for path in outcome.written:
        provenance = cassettes.load(path).provenance
        assert "loopback stand-in" in provenance["base_url"]
        unknown = provenance["scenario"] == "anthropic/error-404"
        assert provenance["provider_model"] == (
            "claude-no-such-model-0" if unknown else "claude-haiku-4-5-20251001"
        )
        assert provenance["gateway"].startswith("LiteLLM ")
    assert (
        cassettes.load("anthropic/tool-use", root)
        .interactions[1]
        .request.body.count(b"tool_result")
        == 1
    )


def test_record_mode_once_keeps_what_exists_and_none_records_nothing(recorded):
    root, _ = recorded
    before = cassettes.path_for("anthropic/text", root).read_bytes()
    again = record("anthropic", ["text"], "once", root, standin=True)
    assert (again.written, again.kept) == ([], ["anthropic/text"])
    nothing = record("anthropic", ["text", "models"], "none", root, standin=True)
    assert nothing.written == []
    assert not cassettes.path_for("anthropic/models", root).exists()
    assert cassettes.path_for("anthropic/text", root).read_bytes() == before


def test_record_mode_all_rewrites_and_new_episodes_adds_only_what_is_new(tmp_path):
    record("anthropic", ["count-tokens"], "once", tmp_path, standin=True)
    path = cassettes.path_for("anthropic/count-tokens", tmp_path)
    first = cassettes.load(path).provenance["recorded_at"]
    time.sleep(1.1)
    record("anthropic", ["count-tokens"], "new_episodes", tmp_path, standin=True)
    assert len(cassettes.load(path).interactions) == 1, (
        "the same request is not an episode of its own"
    )
    record("anthropic", ["count-tokens"], "all", tmp_path, standin=True)
    assert cassettes.load(path).provenance["recorded_at"] > first


def test_recording_without_a_key_says_so_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(
        HarnessError, match=r"needs ANTHROPIC_API_KEY in the environment.*nothing was recorded"
    ):
        record("anthropic", ["text"], "all", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_recording_leaves_the_previous_cassette_intact(recorded, monkeypatch):
    root, _ = recorded
    path = cassettes.path_for("anthropic/text", root)
    before = path.read_bytes()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-for-an-unreachable-upstream")
    outcome = record("anthropic", ["text"], "all", root, base_url="http://127.0.0.1:9")
    assert "anthropic/text" in outcome.failed
    assert path.read_bytes() == before


def test_an_unknown_scenario_lists_the_known_ones(tmp_path):
    with pytest.raises(HarnessError, match=r"no anthropic scenario nope; known: .*text"):
        record("anthropic", ["nope"], "all", tmp_path, standin=True)


def test_a_recorded_request_body_is_json_the_replay_can_match(recorded):
    root, _ = recorded
    body = json.loads(cassettes.load("anthropic/text", root).interactions[0].request.body)
    assert body["messages"][0]["content"] == "Say hello in five words."


def test_every_scenario_asks_for_its_own_model():
    assert [
        n for n, s in SCENARIOS.items() if s.body is not None and s.body["model"] != s.model
    ] == []


def test_the_relay_forwards_to_the_real_provider_url_and_records_both_sides():
    """respx stands in for api.anthropic.com inside this process, so the relay's upstream call is
    checked against the real base URL without any network."""
    import respx

    from harness.tools.maintainer.recording.relay import RecordingRelay

    relay = RecordingRelay("https://api.anthropic.com")
    sse = b'event: ping\ndata: {"type": "ping"}\n\n'
    try:
        with respx.mock(assert_all_called=True) as mock:
            mock.route(host="127.0.0.1").pass_through()
            upstream = mock.post("https://api.anthropic.com/v1/messages").respond(
                200,
                headers={"content-type": "text/event-stream", "request-id": "req_1"},
                content=sse,
            )
            got = httpx.post(
                relay.url + "/v1/messages?beta=true",
                json={"model": "m"},
                headers={"x-api-key": "sk-ant-api03-relaytest0000", "accept-encoding": "gzip"},
            )
        assert got.content == sse
        sent = upstream.calls.last.request
        assert sent.headers["accept-encoding"] == "identity"
        assert sent.headers["x-api-key"] == "sk-ant-api03-relaytest0000"
        assert str(sent.url) == "https://api.anthropic.com/v1/messages?beta=true"
        (interaction,), failures = relay.take()
    finally:
        relay.stop()
    assert failures == []
    assert interaction.body == sse
    assert interaction.response["chunks"][0][1] == len(sse)
    assert interaction.request.uri == "https://api.anthropic.com/v1/messages?beta=true"
