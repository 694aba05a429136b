"""Provider scenarios: what a provider answered reaches the client intact, from a script or a
recording.

Each scenario (``harness/fakes/scenarios.py``) is sent through the gateway the way
Claude Code sends it. The fake provider answers with the scenario's script, or, under
``--providers recorded``, with the cassette recorded from the provider
(``cassettes/<scenario>.yaml``). The check holds the client's answer to what the
provider actually sent, so it reads the same on either.
"""

from __future__ import annotations

import json

import pytest

from harness.fakes.scenario_runner import run_scenario, script_answers
from harness.fakes.scenarios import SCENARIOS, Scenario

from .support.answers import client_view, provider_view, substance
from .support.asserts import NEEDS_OPENAI
from .support.pacing import best_try

pytestmark = [pytest.mark.gateway("providers"), pytest.mark.needs("config")]


def _param(s: Scenario) -> object:
    marks = [pytest.mark.req(s.requirement)] + ([NEEDS_OPENAI] if s.provider == "openai" else [])
    if s.path.startswith("/anthropic"):
        marks.append(pytest.mark.needs("anthropic-passthrough", "passthrough-any-method"))
    return pytest.param(s, id=s.name, marks=marks)


def _script(scenario: Scenario, answers, anthropic_provider, openai_provider) -> None:
    fake = openai_provider if scenario.provider == "openai" else anthropic_provider
    script_answers(fake, scenario, answers(scenario))


def _provider_requests(scenario: Scenario, anthropic_provider, openai_provider):
    if scenario.provider == "openai":
        return [r for r in openai_provider.received() if r.route in ("chat", "responses")]
    return anthropic_provider.received(scenario.route)


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS.values()])
def test_provider_answer_reaches_the_client_intact(
    gateway, anthropic_provider, openai_provider, provider_answers, scenario, observe
):
    """What the provider answered (status, blocks, tool input, thinking signature, stop reason)
    reaches the client."""

    def attempt() -> list:
        _script(scenario, provider_answers, anthropic_provider, openai_provider)
        before = len(_provider_requests(scenario, anthropic_provider, openai_provider))
        exchanges = run_scenario(gateway, scenario)
        sent = _provider_requests(scenario, anthropic_provider, openai_provider)[before:]
        observe("provider answers", [r.answer for r in sent])
        assert len(sent) == len(exchanges), (
            f"expected {len(exchanges)} provider request(s), observed {len(sent)}"
        )
        for ex, req in zip(exchanges, sent, strict=True):
            _assert_intact(scenario, ex, req, observe)
        return list(zip(exchanges, sent, strict=True))

    if "paced" not in scenario.tags:
        attempt()
        return
    pairs = best_try(
        lambda: attempt()[-1:], lambda p: _pace_shortfall(*p[0]), observe, "pace shortfall (s)"
    )
    _assert_paced(*pairs[0], observe)


def _assert_intact(scenario: Scenario, ex, req, observe) -> None:
    observe("statuses (provider -> client)", f"{req.response_status} -> {ex.status}")
    assert ex.status == req.response_status, (
        f"expected the provider's HTTP {req.response_status}, observed {ex.status}: {ex.text[:300]}"
    )
    if ex.status != 200:
        return
    if scenario.route == "count_tokens":
        assert ex.json()["input_tokens"] == json.loads(req.response_body)["input_tokens"]
    elif scenario.route == "models":
        assert ex.json() == json.loads(req.response_body), "the model list changed on the way"
    elif scenario.provider == "openai":
        assert substance(client_view(ex)) == substance(provider_view(req))
    else:
        got, expected = client_view(ex), provider_view(req)
        assert got == expected, f"expected the provider's {expected}, observed {got}"


def _spread(ex, req) -> tuple[float, float]:
    """How long the provider took to send its events, and how far apart the client received them."""
    arrivals = [e.at for e in ex.events or [] if e.at is not None]
    return sum(req.response_pauses), (arrivals[-1] - arrivals[0] if arrivals else 0.0)


def _pace_shortfall(ex, req) -> float:
    emitted, spread = _spread(ex, req)
    return 0.5 * emitted - spread


def _assert_paced(ex, req, observe) -> None:
    """The stream keeps the provider's pace: its events are not held back and released at once."""
    emitted, spread = _spread(ex, req)
    observe("provider pacing vs client spread (s)", f"{emitted:.2f} vs {spread:.2f}", volatile=True)
    assert spread >= 0.5 * emitted, (
        f"expected the events spread over about {emitted:.2f} s as the provider sent them, "
        f"observed {spread:.2f} s"
    )
