"""Using the provider scenarios (:mod:`harness.fakes.scenarios`): choosing and listing them,
scripting their answers on a fake, and sending them through a gateway the way a client would.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from harness.fakes.openai import FakeOpenAI
from harness.fakes.scenarios import SCENARIOS, Scenario
from harness.fakes.script import HttpError, Scripted
from harness.fakes.server import FakeProvider
from harness.protocol.client import Exchange, GatewayClient


def script_answers(fake: FakeProvider, scenario: Scenario, answers: Iterable[Scripted]) -> None:
    """Queue ``answers`` on the fake the scenario reaches (OpenAI's on both of its generation
    routes)."""
    for answer in answers:
        # An error the provider is scripted to give may be given first by the strict fake's rule or
        # by the gateway itself (an unknown model); the check judges the error the client got.
        optional = isinstance(answer, HttpError)
        if isinstance(fake, FakeOpenAI) and scenario.route == "generation":
            fake.script_generation(answer, optional=optional)
        else:
            fake.script(scenario.route, answer, optional=optional)


SCENARIO_JUDGES = (
    "a scenario judges its own answer (a refusal, a stream that breaks, a recorded body)"
)


def run_scenario(client: GatewayClient, scenario: Scenario) -> list[Exchange]:
    """Send the scenario's request(s) the way a client would; the exchanges with the gateway."""
    first = client.request(
        scenario.method,
        scenario.path,
        json_body=scenario.body,
        validate=False,
        reason=SCENARIO_JUDGES,
    )
    out = [first]
    if scenario.followup and first.status == 200 and scenario.body is not None:
        answer = final_message(first)
        out.append(
            client.request(
                scenario.method,
                scenario.path,
                json_body=scenario.followup(scenario.body, answer),
                validate=False,
                reason=SCENARIO_JUDGES,
            )
        )
    return out


def final_message(ex: Exchange) -> dict[str, Any]:
    """The answer as one message, rebuilt from the stream when it streamed."""
    if ex.stream is not None:
        return {"content": [b.final() for b in ex.stream.blocks]}
    body: dict[str, Any] = json.loads(ex.text)
    return body


def for_provider(provider: str, only: list[str] | None = None) -> list[Scenario]:
    """The provider's scenarios, or the named ones; an unknown name is an error that lists the
    known."""
    mine = [s for s in SCENARIOS.values() if s.provider == provider]
    if not only:
        return mine
    known = {s.name.split("/", 1)[1]: s for s in mine}
    unknown = [n for n in only if n not in known]
    if unknown:
        raise ValueError(
            f"no {provider} scenario {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    return [known[n] for n in only]


def describe(s: Scenario) -> str:
    body = json.dumps(s.body)[:80] if s.body else ""
    return f"{s.name:<36} {s.requirement:<10} {s.method} {s.path} {body}"
