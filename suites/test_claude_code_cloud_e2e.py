"""E2E: the real Claude Code CLI in Bedrock and in Vertex mode -> LiteLLM's pass-through -> the fake
cloud.

Claude Code's gateway protocol names three formats; these checks run the two cloud ones
as a team sets them up: skip-auth (the gateway signs), the gateway key in
``ANTHROPIC_CUSTOM_HEADERS``, and the base URL at LiteLLM's ``/bedrock`` or ``/vertex_ai/v1``.
One set per profiled Claude Code version.
"""

from __future__ import annotations

import pytest

from harness.claude_code.cli import SIDE_MODEL_ENV, cli_env, mode_env, run
from harness.errors import HarnessError
from harness.fakes import HttpError, ModelList, Reply
from harness.gateway.configs import VERTEX_LOCATION, VERTEX_PROJECT

pytestmark = [pytest.mark.gateway("providers"), pytest.mark.e2e]
VERTEX_PASSTHROUGH = pytest.mark.settings(
    use_in_pass_through="true on a deployment of the project and region "
    "(LiteLLM's Vertex pass-through uses no deployment's credentials without it)"
)


def claude_in(mode: str, cli, proxy, provider, tmp_path, *args: str, side_model: str | None = None):
    base = f"{proxy.url}/bedrock" if mode == "bedrock" else f"{proxy.url}/vertex_ai"
    extra = mode_env(
        mode, base, f"Authorization: Bearer {proxy.master_key}", VERTEX_PROJECT, VERTEX_LOCATION
    )
    if side_model:
        extra = {**extra, **dict.fromkeys(SIDE_MODEL_ENV, side_model)}
    env = cli_env(base, tmp_path / "home", extra=extra)
    (tmp_path / "home").mkdir(exist_ok=True)
    try:
        return run(cli.binary, "Say hi.", env, args, cwd=tmp_path, timeout=90)
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        provider.settle()


def assert_answered(result, fake, route: str, text: str, expected_model: str | None, observe):
    """The CLI printed the scripted answer, and its model call reached the fake with the profiled
    model id."""
    calls = fake.received(route)
    observe(f"requests at {fake.name}", [f"{r.method} {r.path}" for r in fake.received()])
    data = result.json()
    assert data.get("is_error") is False, result.transcript()
    assert data.get("result") == text
    assert calls, f"no model call reached {fake.name}"
    if expected_model is not None:  # an unprofiled --claude-code version has none to compare with
        # The CLI may send a small side request (a haiku call) first; the order of its calls is its
        # own.
        models = [r.labels["model"] for r in calls]
        assert expected_model in models, (
            f"the profiled model {expected_model!r} is not among the calls: {models}"
        )
    return calls


@pytest.mark.req("E2E-003")
@pytest.mark.needs("bedrock", "bedrock-passthrough")
def test_claude_code_in_bedrock_mode_succeeds_through_the_gateway(
    claude_code_cli, proxy, bedrock_provider, upstreams, tmp_path, observe
):
    """claude -p in Bedrock mode succeeds through the gateway's /bedrock pass-through, signed by the
    gateway."""
    cli, profile = claude_code_cli
    bedrock_provider.script("invoke_stream", Reply.text("hello through bedrock"), times=None)
    bedrock_provider.script("inference_profiles", ModelList(()), times=None)
    result = claude_in("bedrock", cli, proxy, bedrock_provider, tmp_path)
    calls = assert_answered(
        result,
        bedrock_provider,
        "invoke_stream",
        "hello through bedrock",
        profile.get("bedrock", {}).get("model"),
        observe,
    )
    assert {r.labels.get("access_key") for r in calls} == {upstreams.aws_access_key_id}
    assert {r.labels.get("signature") for r in calls} == {"valid"}


@pytest.mark.req("E2E-004")
@pytest.mark.needs("vertex", "vertex-passthrough")
@VERTEX_PASSTHROUGH
def test_claude_code_in_vertex_mode_succeeds_through_the_gateway(
    claude_code_cli, proxy, vertex_provider, tmp_path, observe
):
    """claude -p in Vertex mode succeeds through the gateway's /vertex_ai pass-through, with the
    gateway's token."""
    cli, profile = claude_code_cli
    vertex_provider.script("stream_raw_predict", Reply.text("hello through vertex"), times=None)
    result = claude_in("vertex", cli, proxy, vertex_provider, tmp_path)
    calls = assert_answered(
        result,
        vertex_provider,
        "stream_raw_predict",
        "hello through vertex",
        profile.get("vertex", {}).get("model"),
        observe,
    )
    assert {r.labels["auth"] for r in calls} == {"issued token"}


CLOUD_ERRORS = [
    (429, "ThrottlingException", "rate_limit_error"),
    (500, "InternalServerException", "api_error"),
]


@pytest.mark.req("E2E-002")
@pytest.mark.needs("bedrock", "bedrock-passthrough")
@pytest.mark.parametrize(("status", "bedrock_kind", "kind"), CLOUD_ERRORS, ids=["429", "500"])
def test_bedrock_error_gives_claude_code_in_bedrock_mode_an_error_result(
    claude_code_cli,
    proxy,
    bedrock_provider,
    fresh_model,
    tmp_path,
    status,
    bedrock_kind,
    kind,
    observe,
):
    """A Bedrock error ends `claude -p` in Bedrock mode with its error result, promptly, without
    hanging."""
    cli, _ = claude_code_cli
    for route in (
        "invoke_stream",
        "invoke",
    ):  # after a failed stream, the CLI retries without streaming
        bedrock_provider.script(
            route, HttpError(status, bedrock_kind, f"scripted {kind}"), times=None
        )
    bedrock_provider.script("inference_profiles", ModelList(()), times=None)
    # Deployments of its own (pool names are config names, which the Bedrock route serves): on
    # LiteLLM's defaults the error benches the deployment that answered it, and a shared one would
    # fail the next check.
    result = claude_in(
        "bedrock",
        cli,
        proxy,
        bedrock_provider,
        tmp_path,
        "--model",
        fresh_model("bedrock-invoke"),
        side_model=fresh_model("bedrock-invoke"),
    )
    observe("seconds", round(result.seconds, 1), volatile=True)
    assert result.json().get("is_error") is True, result.transcript()
