"""E2E: the real Claude Code CLI (from npm) -> the gateway -> the fake provider.

One set of checks per profiled Claude Code version (``--claude-code`` narrows it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from harness.claude_code import (
    CONTEXT_1M_BETA,
    DISCOVERY_ENV,
    DISCOVERY_SINCE,
    discovery_keeps,
    has_discovery,
)
from harness.claude_code.cli import cli_env, run
from harness.errors import HarnessError
from harness.fakes import HttpError, Live, Reply, Text, ToolUse, live
from harness.gateway.configs import is_pool_name

from .support.cli import claude_direct

# A proxy of their own (the default config): no other check's errors can bench the deployments the
# CLI asks for.
pytestmark = [pytest.mark.needs("anthropic"), pytest.mark.e2e, pytest.mark.gateway("claude-code")]
ERRORS = [
    (401, "authentication_error"),
    (404, "not_found_error"),
    (429, "rate_limit_error"),
    (500, "api_error"),
    (529, "overloaded_error"),
]


def claude(
    cli,
    proxy,
    provider,
    tmp_path,
    *args: str,
    prompt: str = "Say hi.",
    side_model: str | None = None,
):
    try:
        return claude_direct(cli, proxy, tmp_path, *args, prompt=prompt, side_model=side_model)
    finally:
        # Background requests (warm-ups, titles) may still be on their way through the gateway.
        provider.settle()


def main_turns(provider, prompt: str = "Say hi."):
    """The CLI's calls for the user's prompt: with tools and the prompt in the messages. Its side
    requests carry tools too (2.0.77 warms its subagents up with "Warmup", on their own tiers), in
    an order of its own."""
    return [r for r in provider.received("messages") if is_main_turn(r, prompt)]


def is_main_turn(request, prompt: str) -> bool:
    return bool(request.body.get("tools")) and prompt in json.dumps(request.body.get("messages"))


@pytest.mark.req("E2E-001")
def test_claude_code_succeeds_through_the_gateway_with_defaults(
    claude_code_cli, proxy, anthropic_provider, tmp_path, observe
):
    """claude -p succeeds through the gateway with default settings when the config maps its default
    names."""
    cli, profile = claude_code_cli
    served = proxy.gateway.user_models  # a user's config: only their own entries count
    missing = sorted(set(profile["defaults"].values()) - set(served)) if served is not None else []
    assert missing == [], (
        f"Claude Code {cli.version} asks for {missing}; the config does not serve them"
    )
    anthropic_provider.script("messages", Reply.text("hello through the gateway"), times=None)
    result = claude(cli, proxy, anthropic_provider, tmp_path)
    observe(
        "models requested",
        sorted({r.body["model"] for r in anthropic_provider.received("messages")}),
    )
    data = result.json()
    assert data.get("is_error") is False, result.transcript()
    assert data.get("result") == "hello through the gateway"
    main = main_turns(anthropic_provider)
    assert main, "the main turn never reached the provider"
    expected = profile["defaults"].get("main")
    if (
        expected is not None
    ):  # an unprofiled --claude-code version has no recorded default to compare with
        assert main[0].body["model"] == expected


LIVE_STREAM = "live/pydantic-ai/anthropic-thinking-part-stream"


@pytest.mark.req("LIVE-001")
def test_claude_code_shows_a_live_provider_stream_through_the_gateway(
    claude_code_cli, proxy, anthropic_provider, tmp_path, observe
):
    """The real CLI reads a live Anthropic stream (thinking, its signature, a ping, the API's
    padding) through the gateway and shows its text."""
    cli, _ = claude_code_cli
    expected = "".join(
        t for t, _ in _texts(live.sse_events(live.tape(LIVE_STREAM).interactions[0].body))
    )
    streamed = lambda r: bool(r.body.get("stream"))  # noqa: E731 - side calls may not stream
    anthropic_provider.script("messages", Live(LIVE_STREAM), times=None, when=streamed)
    anthropic_provider.script(
        "messages",
        Reply.text("side call"),
        times=None,
        optional=True,
        when=lambda r: not streamed(r),
    )
    result = claude(cli, proxy, anthropic_provider, tmp_path)
    data = result.json()
    observe("result", str(data.get("result"))[:200])
    assert data.get("is_error") is False, result.transcript()
    assert data.get("result") == expected.strip(), (
        f"expected the live answer's text {expected[:200]!r}, the CLI showed "
        f"{str(data.get('result'))[:200]!r}:\n{result.transcript()}"
    )


def _texts(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """The text deltas of a stream, with their block index."""
    return [
        (str(d["delta"]["text"]), int(d["index"]))
        for d in events
        if d.get("type") == "content_block_delta" and d["delta"].get("type") == "text_delta"
    ]


@pytest.mark.req("CTX1M-004")
def test_claude_code_sends_1m_model_without_suffix_and_with_the_beta(
    claude_code_cli, proxy, anthropic_provider, tmp_path, observe
):
    """Given a [1m] model, Claude Code strips the suffix and the context-1m beta reaches the
    provider."""
    cli, _ = claude_code_cli
    anthropic_provider.script("messages", Reply.text("long context ok"), times=None)
    result = claude(
        cli, proxy, anthropic_provider, tmp_path, "--model", "claude-sonnet-4-5-20250929[1m]"
    )
    main = main_turns(anthropic_provider)
    assert main, f"no main turn reached the provider:\n{result.transcript()}"
    observe("model at provider", main[0].body["model"])
    observe("anthropic-beta at provider", main[0].header("anthropic-beta"), better="more")
    assert main[0].body["model"] == "claude-sonnet-4-5-20250929"
    assert CONTEXT_1M_BETA in (main[0].header("anthropic-beta") or "")
    assert result.json().get("is_error") is False


@pytest.mark.req("FIELDS-003")
def test_tool_result_round_trip_reaches_the_provider(
    claude_code_cli, proxy, anthropic_provider, tmp_path
):
    """A tool-use round trip works: Claude Code's tool_result reaches the provider with its
    tool_use_id."""
    cli, _ = claude_code_cli
    target = tmp_path / "notes.txt"
    target.write_text("the gateway passed this file through\n")
    # For the main turn only: Claude Code may send side requests first (2.0.77 warms up its
    # subagents, some with Read among their tools), and none of them must take the tool call.
    anthropic_provider.script(
        "messages",
        Reply(
            blocks=(
                ToolUse("Read", {"file_path": str(target)}, id="toolu_01E2ERoundTrip00000001"),
            ),
            stop_reason="tool_use",
        ),
        when=lambda r: is_main_turn(r, "Read notes.txt"),
    )
    anthropic_provider.script("messages", Reply(blocks=(Text("read it"),)), times=None)
    result = claude(cli, proxy, anthropic_provider, tmp_path, prompt="Read notes.txt")
    results = [
        block
        for req in anthropic_provider.received("messages")
        for m in req.body.get("messages", [])
        if isinstance(m.get("content"), list)
        for block in m["content"]
        if isinstance(block, dict) and block.get("type") == "tool_result"
    ]
    assert results, f"no tool_result reached the provider:\n{result.transcript()}"
    assert results[0]["tool_use_id"] == "toolu_01E2ERoundTrip00000001"
    assert "passed this file through" in str(results[0].get("content"))


@pytest.mark.req("E2E-002")
@pytest.mark.parametrize(("status", "kind"), ERRORS, ids=[str(s) for s, _ in ERRORS])
def test_provider_error_gives_claude_code_an_error_result(
    claude_code_cli, proxy, anthropic_provider, fresh_model, tmp_path, status, kind, observe
):
    """A provider error ends `claude -p` with its error result (is_error), promptly, without
    hanging."""
    cli, _ = claude_code_cli
    anthropic_provider.script("messages", HttpError(status, kind, f"scripted {kind}"), times=None)
    # Deployments of its own, for the main turn and the side requests alike: on LiteLLM's defaults
    # the error benches the deployment that answered it, and a shared one would fail the next check
    # for 5 s.
    result = claude(
        cli,
        proxy,
        anthropic_provider,
        tmp_path,
        "--model",
        fresh_model("anthropic"),
        side_model=fresh_model("anthropic"),
    )
    observe("seconds", round(result.seconds, 1), volatile=True)
    data = result.json()
    observe("result", str(data.get("result"))[:200], volatile=True)
    assert data.get("is_error") is True, result.transcript()


def _ids(value: Any) -> Iterator[str]:
    """Every "id" string anywhere in the cache file (its layout is Claude Code's own)."""
    if isinstance(value, dict):
        if isinstance(value.get("id"), str):
            yield value["id"]
        for v in value.values():
            yield from _ids(v)
    elif isinstance(value, list):
        for v in value:
            yield from _ids(v)


@pytest.mark.req("DISC-007")
def test_claude_code_discovers_and_caches_the_gateways_models(
    claude_code_cli, proxy, anthropic_provider, tmp_path, make_client, observe
):
    """With discovery on, the real CLI asks GET /v1/models?limit=1000 and caches the gateway's
    Claude models."""
    cli, _ = claude_code_cli
    if not has_discovery(cli.version):
        pytest.skip(
            f"Claude Code {cli.version} predates gateway model discovery ({DISCOVERY_SINCE})"
        )
    anthropic_provider.script("messages", Reply.text("hi"), times=None)
    home = tmp_path / "home"
    home.mkdir()
    offset = proxy.log_size()
    env = cli_env(
        proxy.url, home, "ANTHROPIC_AUTH_TOKEN", str(proxy.master_key), extra={DISCOVERY_ENV: "1"}
    )
    try:
        result = run(cli.binary, "Say hi.", env, cwd=tmp_path, timeout=90)
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        anthropic_provider.settle()
    asked = [line for line in proxy.log_text(offset).splitlines() if "/v1/models" in line]
    observe(
        "discovery requests in the proxy log",
        [line.split(" - ", 1)[-1] for line in asked],
        volatile=True,
    )
    caches = sorted(home.rglob("gateway-models.json"))
    # A gateway whose log has no request lines (Anthropic's logs inference only, issue 41) is
    # judged by the cache the CLI wrote from this gateway's answer, which names its URL.
    fetched = [c for c in caches if json.loads(c.read_text()).get("baseUrl") == proxy.url]
    assert any("GET /v1/models?limit=1000" in line for line in asked) or fetched, (
        f"the CLI never asked for /v1/models?limit=1000:\n{result.transcript()}"
    )
    assert caches, f"no gateway-models.json under the CLI's home:\n{result.transcript()}"
    cached = set(_ids(json.loads(caches[0].read_text())))
    client = make_client(proxy.url, proxy.master_key)
    try:
        listed = {str(m["id"]) for m in client.request("GET", "/v1/models").json()["data"]}
    finally:
        client.close()
    expected = {i for i in listed if discovery_keeps(i, cli.version) and not is_pool_name(i)}
    observe("kept ids missing from the cache", sorted(expected - cached))
    observe("cached ids the gateway did not list", sorted(cached - listed))
    assert expected <= cached, f"the cache lacks {sorted(expected - cached)[:10]}"
