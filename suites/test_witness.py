"""Witnesses: what the real Claude Code CLI prints when the gateway shows one of its known causes.

A cause in a deviations file (docs/impact.md#causes) says what a Claude Code user sees; a witness is
the proof: `claude -p` run through the gateway in the cause's situation, its exit status and what it
printed. These run only with ``--witness`` (``python -m harness witness`` writes what they saw into
the causes table); a default run deselects them, since they observe known failures rather than judge
them. Each asserts only that the CLI ran to its end and that the situation arose (the provider saw
what the cause needs), so a witness never records a harness accident.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from harness.claude_code.cli import CliResult
from harness.fakes import HttpError, Reply
from harness.gateway.configs import BEDROCK_INVOKE_MODEL, SONNET, VERTEX_MODEL

from .support.cli import claude_direct

pytestmark = [pytest.mark.witness, pytest.mark.e2e, pytest.mark.needs("litellm")]
LOOPBACK_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")
OVERLOADED = HttpError(529, "overloaded_error", "Overloaded")
RATE_LIMITED = HttpError(
    429,
    "rate_limit_error",
    "Number of request tokens has exceeded your per-minute rate limit",
    headers=(("retry-after", "1"), ("x-should-retry", "true")),
)


@dataclass
class Situation:
    """What a witness needs: the CLI, the gateway, the fakes and a scratch folder."""

    cli: Any
    profile: dict[str, Any]
    proxy: Any
    request: pytest.FixtureRequest
    tmp_path: Any

    def provider(self, name: str) -> Any:
        return self.request.getfixturevalue(f"{name}_provider")

    def claude(self, model: str, key: str | None = None, side: bool = True) -> CliResult:
        return claude_direct(
            self.cli,
            self.proxy,
            self.tmp_path,
            "--model",
            model,
            key=key,
            side_model=model if side else None,
            timeout=120,
        )


def wrong_key(s: Situation) -> tuple[CliResult, str]:
    s.provider("anthropic").script("messages", Reply.text("never sent"), times=None)
    result = s.claude(s.profile["defaults"]["main"], key="sk-not-the-gateway-key")
    assert not s.provider("anthropic").received("messages"), "a wrong key reached the provider"
    return result, "a key that is not the gateway's"


def provider_fault(
    fault: HttpError, situation: str
) -> Callable[[Situation], tuple[CliResult, str]]:
    """The Anthropic provider answers every request of a deployment of the CLI's own with
    ``fault``."""

    def act(s: Situation) -> tuple[CliResult, str]:
        s.provider("anthropic").script("messages", fault, times=None)
        result = s.claude(s.request.getfixturevalue("fresh_model")("anthropic"))
        assert s.provider("anthropic").received("messages"), (
            f"the fault {fault.status} was never asked for"
        )
        return result, situation

    return act


def fields_dropped(s: Situation) -> tuple[CliResult, str]:
    fake = s.provider("anthropic")
    fake.script("messages", Reply.text("hello through the gateway"), times=None)
    # The model LiteLLM 1.108.7 does not know takes adaptive thinking (the cause); its default main
    # model keeps both.
    result = s.claude(SONNET, side=False)
    main = [r for r in fake.received("messages") if r.body.get("tools")]
    assert main, "the main turn never reached the provider"
    sent = {k: k in main[0].body for k in ("thinking", "output_config", "context_management")}
    return result, f"--model {SONNET}; the provider answers; at the provider: " + ", ".join(
        f"{k} {'present' if v else 'absent'}" for k, v in sent.items()
    )


def cloud_route(
    fake_name: str, routes: tuple[str, str], model: str, label: str
) -> Callable[[Situation], tuple[CliResult, str]]:
    """The CLI's model is routed to a cloud whose strict fake keeps that cloud's rules; the fake
    would answer."""

    def act(s: Situation) -> tuple[CliResult, str]:
        fake = s.provider(fake_name)
        for route in routes:
            fake.script(route, Reply.text(f"hello through {fake_name}"), times=None)
        result = s.claude(model)
        assert fake.received(), f"nothing reached {label}"
        return (
            result,
            f"the model is routed to {label}, whose strict fake keeps its rules; {journal(fake)}",
        )

    return act


def journal(fake: Any) -> str:
    """What the provider answered the CLI's requests, in order (a refused one, then a retry without
    it)."""
    got = fake.received()
    return f"{len(got)} request(s), answered " + ", ".join(str(r.response_status) for r in got)


def vertex_refuses(s: Situation) -> tuple[CliResult, str]:
    fake = s.provider("vertex")
    fake.script("stream_raw_predict", Reply.text("hello through vertex"), times=None)
    fake.script("raw_predict", Reply.text("hello through vertex"), times=None)
    result = s.claude(VERTEX_MODEL[0])
    assert fake.received(), "nothing reached Vertex"
    return (
        result,
        "the model is routed to Vertex AI, whose strict fake keeps Vertex's rules; "
        f"{journal(fake)}",
    )


@dataclass(frozen=True)
class Scenario:
    cause: str
    requirement: str
    gateway: str
    act: Callable[[Situation], tuple[CliResult, str]]


SCENARIOS = [
    Scenario("no-db-virtual-key-lookup", "AUTH-003", "claude-code", wrong_key),
    Scenario(
        "provider-errors-remapped",
        "ERR-001",
        "claude-code",
        provider_fault(OVERLOADED, "the provider answers 529 overloaded_error"),
    ),
    Scenario(
        "provider-headers-not-relayed",
        "ERR-003",
        "claude-code",
        provider_fault(
            RATE_LIMITED, "the provider answers 429 with retry-after: 1 and x-should-retry: true"
        ),
    ),
    Scenario("adaptive-thinking-dropped", "FIELDS-001", "claude-code", fields_dropped),
    Scenario(
        "cloud-beta-table",
        "ROUTE-008",
        "providers",
        cloud_route(
            "bedrock", ("invoke_stream", "invoke"), BEDROCK_INVOKE_MODEL[0], "Bedrock InvokeModel"
        ),
    ),
    Scenario(
        "vertex-context-management-forwarded",
        "ROUTE-008",
        "providers",
        cloud_route("vertex", ("stream_raw_predict", "raw_predict"), VERTEX_MODEL[0], "Vertex AI"),
    ),
]


def printed(result: CliResult) -> str:
    """What the user reads: the JSON result's text, else the CLI's own output; loopback ports as
    PORT."""
    try:
        text = str(result.json().get("result"))[:600]
    except AssertionError:  # no JSON result: what it printed instead
        text = (result.stdout.strip() or result.stderr.strip())[-600:]
    return LOOPBACK_PORT.sub(r"\1:PORT", text)


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(
            s, id=s.cause, marks=[pytest.mark.req(s.requirement), pytest.mark.gateway(s.gateway)]
        )
        for s in SCENARIOS
    ],
)
def test_what_claude_code_prints_for_a_known_cause(
    scenario, claude_code_cli, proxy, request, tmp_path, observe
):
    """The real Claude Code CLI runs to its end through the gateway in the cause's situation."""
    cli, profile = claude_code_cli
    result, situation = scenario.act(Situation(cli, profile, proxy, request, tmp_path))
    observe("cause", scenario.cause, volatile=True)
    observe("situation", f"{situation} (CLAUDE_CODE_MAX_RETRIES=0)", volatile=True)
    observe("exit code", result.returncode, volatile=True)
    observe("printed", printed(result), volatile=True)
    observe("seconds", round(result.seconds, 1), volatile=True)
    assert result.returncode >= 0, f"the CLI was killed:\n{result.transcript()}"
