"""FUZZ: generated Claude-Code-shaped requests, valid and broken, against the gateway.

Four checks of 250 generated requests each (1,000 per run). The generation is derandomized
(the same requests every run for a given Hypothesis version), and every request is sent:
each broken invariant is collected with the smallest request that broke it, and the check
fails at the end listing them. So a gateway with a known bug is still fuzzed in full, and
its verdict is the same from run to run. The requests go through a plain httpx client: a
thousand exchanges are evidence for nobody.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.fuzzing import (
    Case,
    body_mistakes,
    broken_invariants,
    header_mistakes,
    size_and_encoding_mistakes,
    valid_cases,
)
from harness.gateways import SONNET
from harness.providers import Reply

# The harness's default gateway under the isolated profile: with LiteLLM's default retries each 5xx is retried
# twice with back-off and shrinking a failure takes minutes; with cooldowns on, a few failures bench the model
# and every later request gets the same 429, which tests nothing. Neither changes what a request is answered.
pytestmark = [pytest.mark.needs("litellm"), pytest.mark.settings(
    num_retries="0 (each 5xx would be retried twice with back-off: a thousand requests would not fit a minute)",
    disable_cooldowns="true (after a few failures every request would get the same cooldown 429)")]
EXAMPLES = 250
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.large_base_example])


class Fuzzer:
    """Sends a case through the gateway and holds the answer to the invariants."""

    def __init__(self, gateway, proxy, provider) -> None:
        self.url = gateway.base_url + "/v1/messages?beta=true"
        self.key, self.provider = proxy.master_key, provider
        self.upstream_key = proxy.gateway.env.get("FAKE_ANTHROPIC_UPSTREAM_KEY", "")
        self.http = httpx.Client(timeout=60, trust_env=False)
        self.sent = 0
        self.violations: dict[str, tuple[int, str]] = {}

    def send(self, case: Case) -> httpx.Response:
        self.provider.reset()
        self.provider.script("messages", Reply.text("fuzzed"), times=None)
        self.provider.strict = True
        headers = [*case.headers, ("authorization", f"Bearer {self.key}")]
        response = self.http.post(self.url, content=case.body, headers=headers)
        self.sent += 1
        return response

    def check(self, case: Case, response: httpx.Response) -> None:
        """Collect what this answer breaks, keeping the smallest request for each broken invariant."""
        for invariant, detail in broken_invariants(case, response, self.provider.received(), self.key,
                                                   self.upstream_key):
            shown = f"{case.show()}\n-> {response.status_code} {response.text[:300]}\n{detail}"
            kept = self.violations.get(invariant)
            if kept is None or len(case.body) < kept[0]:
                self.violations[invariant] = (len(case.body), shown)


@pytest.fixture
def fuzzer(gateway, proxy, anthropic_provider):
    fuzz = Fuzzer(gateway, proxy, anthropic_provider)
    yield fuzz
    fuzz.http.close()


CATEGORIES: dict[str, Callable[[str], st.SearchStrategy[Case]]] = {
    "valid": valid_cases, "body-mistakes": body_mistakes, "size-and-encoding": size_and_encoding_mistakes,
    "header-mistakes": header_mistakes}


def _fuzz(fuzzer: Fuzzer, category: str, model: str) -> None:
    @FUZZ
    @given(case=CATEGORIES[category](model))
    def one(case: Case) -> None:
        fuzzer.check(case, fuzzer.send(case))

    one()


@pytest.mark.req("FUZZ-001")
@pytest.mark.parametrize("category", list(CATEGORIES), ids=list(CATEGORIES))
def test_generated_requests_hold_the_gateway_invariants(fuzzer, category, observe):
    """250 generated requests per category: valid ones reach the provider intact; no mistake gets a 5xx; every
    4xx is in Anthropic's envelope; no key is echoed; the gateway key never reaches the provider."""
    _fuzz(fuzzer, category, SONNET)
    # The journal holds only the last generated request, which tells nothing: the fingerprint is what broke.
    fuzzer.provider.reset()
    observe("requests sent", fuzzer.sent)
    observe("invariants broken", sorted(fuzzer.violations))
    shown = "\n\n".join(f"{name}, e.g.\n{example}" for name, (_, example) in sorted(fuzzer.violations.items()))
    assert fuzzer.violations == {}, f"{len(fuzzer.violations)} invariant(s) broken:\n{shown}"
