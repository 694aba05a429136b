"""``python -m harness record``: the provider scenarios through LiteLLM to a provider, written as
cassettes.

    client (scenario) -> LiteLLM proxy (real) -> recording relay
        -> provider (or a loopback stand-in)

Keys come only from the environment (``ANTHROPIC_API_KEY``, ``OPENAI_API_KEY``). The record
modes are pytest-recording's: ``once`` records scenarios that have no cassette yet,
``new_episodes`` adds interactions a cassette lacks, ``all`` re-records everything, and
``none`` records nothing (the default of every other command, so no plain run can reach the
network). A cassette is written only after its whole scenario succeeded and the scrubbed
result holds no secret; a failure leaves the previous cassette as it was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.fakes import FakeAnthropic, FakeOpenAI, FakeProvider
from harness.fakes.scenario_runner import for_provider, run_scenario, script_answers
from harness.fakes.scenarios import Scenario
from harness.gateway.configs import Upstreams, providers_config
from harness.gateway.process import LiteLLMProxy, resolve_python, start_many
from harness.protocol.client import GatewayClient
from harness.tapes import DIRECTORY, CassetteError, Interaction, Tape, load, path_for, save
from harness.tapes.matching import MATCHERS
from harness.tapes.scrub import Scrubber, environment_secrets, findings
from harness.tools.maintainer.recording.relay import RecordingRelay

MODES = ("none", "once", "new_episodes", "all")
UPSTREAM = {"anthropic": "https://api.anthropic.com", "openai": "https://api.openai.com"}
KEY_VARIABLE = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}
ROOT = Path(__file__).resolve().parents[4]


@dataclass
class Outcome:
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _revision() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def key_for(provider: str, standin: bool) -> str:
    if standin:
        return f"{'sk-ant-' if provider == 'anthropic' else 'sk-'}standin-{os.urandom(8).hex()}"
    key = os.environ.get(KEY_VARIABLE[provider], "")
    if not key:
        raise HarnessError(
            f"recording from {UPSTREAM[provider]} needs {KEY_VARIABLE[provider]} in the "
            "environment (keys are read from nowhere else); nothing was recorded. To try the "
            "round trip without a key, add --stand-in."
        )
    return key


@contextmanager
def standin_server(provider: str, scenarios: list[Scenario]) -> Iterator[FakeProvider]:
    """A fake that plays the provider with each scenario's stand-in answers, for the round trip."""
    fake: FakeProvider = (FakeAnthropic() if provider == "anthropic" else FakeOpenAI()).start()
    try:
        yield fake
    finally:
        fake.stop()


def script_standin(fake: FakeProvider, scenario: Scenario) -> None:
    fake.reset()
    script_answers(fake, scenario, scenario.answers("standin"))


class Recorder:
    def __init__(
        self,
        provider: str,
        mode: str,
        root: Path,
        base_url: str | None,
        standin: bool,
        python: str | None,
        anthropic_model: str,
        openai_model: str,
    ) -> None:
        if mode not in MODES:
            raise HarnessError(f"record mode {mode!r} is not one of {', '.join(MODES)}")
        self.provider, self.mode, self.root, self.standin = provider, mode, root, standin
        self.base_url = base_url
        self.python = resolve_python(python)
        self.models = (anthropic_model, openai_model)
        self.key = key_for(provider, standin)
        self.scrubber = Scrubber([*environment_secrets(), self.key])

    def wanted(self, scenarios: list[Scenario]) -> tuple[list[Scenario], list[str]]:
        if self.mode == "none":
            return [], [s.name for s in scenarios]
        if self.mode == "once":
            todo = [s for s in scenarios if not path_for(s.name, self.root).exists()]
            return todo, [s.name for s in scenarios if s not in todo]
        return scenarios, []

    def record(self, scenarios: list[Scenario]) -> Outcome:
        started = time.monotonic()
        todo, kept = self.wanted(scenarios)
        outcome = Outcome(kept=kept)
        if todo:
            with self._upstream(todo) as (upstream_url, fake):
                self._record_all(todo, upstream_url, fake, outcome)
        outcome.seconds = time.monotonic() - started
        return outcome

    @contextmanager
    def _upstream(self, todo: list[Scenario]) -> Iterator[tuple[str, FakeProvider | None]]:
        if not self.standin:
            yield self.base_url or UPSTREAM[self.provider], None
            return
        with standin_server(self.provider, todo) as fake:
            yield fake.url, fake

    def _record_all(
        self, todo: list[Scenario], upstream_url: str, fake: FakeProvider | None, outcome: Outcome
    ) -> None:
        relay = RecordingRelay(upstream_url)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                proxy = self._start_proxy(relay.url, Path(tmp))
                relay.take()  # what LiteLLM asked on its own while starting belongs to no scenario
                try:
                    for scenario in todo:
                        self._one(scenario, proxy, relay, fake, upstream_url, outcome)
                finally:
                    proxy.stop()
        finally:
            relay.stop()

    def _start_proxy(self, relay_url: str, workdir: Path) -> LiteLLMProxy:
        upstreams = Upstreams(relay_url, relay_url)
        if self.provider == "anthropic":
            upstreams = dataclasses.replace(upstreams, anthropic_key=self.key)
        else:
            upstreams = dataclasses.replace(upstreams, openai_key=self.key)
        gateway = providers_config(upstreams, *self.models)
        running, failed = start_many([gateway], self.python, workdir)
        if failed:
            raise next(iter(failed.values()))
        return running["providers"]

    def _one(
        self,
        scenario: Scenario,
        proxy: LiteLLMProxy,
        relay: RecordingRelay,
        fake: FakeProvider | None,
        upstream_url: str,
        outcome: Outcome,
    ) -> None:
        if fake is not None:
            script_standin(fake, scenario)
        client = GatewayClient(proxy.url, proxy.master_key)
        try:
            run_scenario(client, scenario)
        except (
            Exception
        ) as exc:  # a failed scenario must not stop the others, nor touch its cassette
            outcome.failed[scenario.name] = f"the request failed: {exc!r}"
            return
        finally:
            client.close()
        taken, failures = relay.take()
        # LiteLLM lists OpenAI's models on its own now and then; that is not the scenario's traffic.
        interactions = [i for i in taken if i.request.path in scenario.provider_paths]
        if failures or not interactions:
            outcome.failed[scenario.name] = (
                "; ".join(failures) or "the gateway sent the provider nothing"
            )
            return
        try:
            path = self._write(scenario, interactions, upstream_url)
        except HarnessError as exc:
            outcome.failed[scenario.name] = str(exc)
            return
        outcome.written.append(str(path))

    def _write(
        self, scenario: Scenario, interactions: list[Interaction], upstream_url: str
    ) -> Path:
        clean = [
            Interaction(self.scrubber.request(i.request), self.scrubber.response(i.response))
            for i in interactions
        ]
        if self.mode == "new_episodes" and path_for(scenario.name, self.root).exists():
            clean = _merged(load(scenario.name, self.root).interactions, clean)
        tape = Tape(scenario.name, clean, self._provenance(scenario, upstream_url, clean))
        leaks = [f for i in clean for f in findings(i.body + (i.request.body or b""), [self.key])]
        if leaks:
            raise CassetteError(
                f"{path_for(scenario.name, self.root)}: not written, the scrubbed recording still "
                f"holds {leaks[0]}"
            )
        return save(tape, self.root)

    def _provenance(
        self, scenario: Scenario, upstream_url: str, clean: list[Interaction]
    ) -> dict[str, Any]:
        model = next(
            (
                json.loads(i.request.body).get("model")
                for i in clean
                if i.request.body and i.request.body.startswith(b"{")
            ),
            None,
        )
        return {
            "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "base_url": upstream_url
            if not self.standin
            else f"{upstream_url} (a loopback stand-in: the harness's fake {self.provider} with "
            "the scenario's stand-in answers, not the real provider)",
            "provider": self.provider,
            "provider_model": model or "none (the request names no model)",
            "harness_revision": _revision(),
            "recorded_by": (
                f"python -m harness record --provider {self.provider} --record-mode {self.mode}"
                + (" --stand-in" if self.standin else "")
            ),
            "scenario": scenario.name,
            "requirement": scenario.requirement,
            "match_on": ["method", "path", "body"],
            "gateway": f"LiteLLM {_litellm_version(self.python)}",
            **({"note": scenario.note} if scenario.note else {}),
        }


def _merged(old: list[Interaction], new: list[Interaction]) -> list[Interaction]:
    """new_episodes: the old interactions, plus the new ones none of them matches."""

    def same(a: Interaction, b: Interaction) -> bool:
        return all(_matches(m, a, b) for m in MATCHERS.values())

    return [*old, *[n for n in new if not any(same(n, o) for o in old)]]


def _matches(matcher: Any, a: Interaction, b: Interaction) -> bool:
    try:
        return matcher(a.request, b.request) is not False
    except AssertionError:
        return False


def _litellm_version(python: str) -> str:
    from harness.gateway.process import litellm_version

    try:
        return litellm_version(python)
    except HarnessError:
        return "unknown"


def record(
    provider: str,
    names: list[str] | None,
    mode: str = "once",
    root: Path = DIRECTORY,
    base_url: str | None = None,
    standin: bool = False,
    python: str | None = None,
    anthropic_model: str = "claude-haiku-4-5-20251001",
    openai_model: str = "gpt-4o-mini",
) -> Outcome:
    try:
        scenarios = for_provider(provider, names)
    except ValueError as exc:
        raise HarnessError(str(exc)) from None
    recorder = Recorder(
        provider, mode, root, base_url, standin, python, anthropic_model, openai_model
    )
    return recorder.record(scenarios)
