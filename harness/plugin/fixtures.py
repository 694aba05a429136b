"""The harness's fixtures, in session/per-test pairs (like pytest-httpserver's).

``make_*`` fixtures start a server once per session; the plain-named ones hand
the same server to one test with its script and journal reset, and fail the
test if the provider got a request nobody scripted.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from harness import netguard
from harness.claude_code import PROFILES
from harness.errors import HarnessError
from harness.fakes import FakeAnthropic, FakeOpenAI, FakeProvider, Recorded, egress
from harness.fakes.bedrock import FakeBedrock
from harness.fakes.egress import EgressProxy
from harness.fakes.scenarios import Scenario
from harness.fakes.script import Scripted
from harness.fakes.vertex import VERTEX_HOSTS, FakeVertex
from harness.gateway.configs import (
    POOL_FALLBACK,
    ConfigBuilder,
    GatewayConfig,
    Upstreams,
    apply_settings,
    assert_loopback_only,
    build,
    pool_model,
)
from harness.gateway.process import resolve_python, start_many
from harness.gateway.reference import ReferenceGateway
from harness.gateway.targets import BlackBoxTarget, Impl, Target
from harness.plugin import evidence
from harness.plugin.deviations import forgiven
from harness.plugin.report import RUN_FACTS, config_digest, stable_config_text
from harness.plugin.stash import IMPL, OVERRIDES, WANTED_GATEWAYS, gateway_name
from harness.protocol.claude_cli import Installed, install, npm_unavailable
from harness.protocol.client import GatewayClient
from harness.verdict import fingerprint
from harness.verdict.fields import Direction

P = TypeVar("P", bound=FakeProvider)


class ProxyPool:
    """One gateway per named config, started together on first need and stopped at session end."""

    def __init__(self, impl: Impl, upstreams: Upstreams, python: str, root: Path, wanted: set[str],
                 timeout: float, port: int | None, facts: dict[str, Any] | None = None,
                 overrides: dict[str, ConfigBuilder] | None = None, settings: str = "isolated") -> None:
        self.impl, self.upstreams, self.python, self.root = impl, upstreams, python, root
        self.wanted, self.timeout, self.port = set(wanted), timeout, port
        self.running: dict[str, Target] = {}
        self.failed: dict[str, str] = {}
        # Shared with the report: what was actually run.
        self.facts = facts if facts is not None else {}
        # Builders that replace registered configs, e.g. "default" by the user's own config.
        self.overrides = overrides or {}
        # --litellm-settings: LiteLLM's defaults, or the isolation overlay (gateways.ISOLATION).
        self.settings = settings
        self.facts["settings"] = {"profile": settings, "applied": {}}

    def try_get(self, name: str) -> Target | str:
        """The running gateway for ``name``, or the paragraph explaining why it could not start."""
        if name not in self.running and name not in self.failed:
            self._start({name} | (self.wanted - set(self.running) - set(self.failed)))
        return self.failed.get(name) or self.running[name]

    def get(self, name: str) -> Target:
        got = self.try_get(name)
        if isinstance(got, str):
            pytest.fail(got, pytrace=False)
        if not got.alive():
            pytest.fail(f"the gateway for {name!r} has died (exit code {got.returncode}). "
                        f"Last lines of its log:\n{got.log_tail()}", pytrace=False)
        return got

    def _launch(self, configs: list[GatewayConfig]) -> tuple[dict[str, Target], dict[str, HarnessError]]:
        if self.impl.kind == "litellm":
            running, failed = start_many(configs, self.python, self.root, self.timeout, self.port)
            return dict(running), failed
        if self.impl.kind == "black-box":
            return {c.name: BlackBoxTarget(self.impl.url, self.impl.key) for c in configs}, {}
        started: dict[str, Target] = {}
        errors: dict[str, HarnessError] = {}
        for config in configs:
            try:
                started[config.name] = ReferenceGateway(config, self.root / config.name, self.impl.faults)
            except HarnessError as exc:
                errors[config.name] = exc
        return started, errors

    def _start(self, names: set[str]) -> None:
        configs = []
        for name in sorted(names):
            try:
                override = self.overrides.get(name)
                if override is None:
                    configs.append(build(name, self.upstreams))
                else:
                    configs.append(override(self.upstreams))
                    assert_loopback_only(configs[-1])
            except HarnessError as exc:
                self.failed[name] = str(exc)
        for config in configs:
            self.facts["settings"]["applied"].update(apply_settings(config, self.settings))
        running, failed = self._launch(configs)
        self.running.update(running)
        if self.running:
            self.facts["litellm_version"] = next(iter(self.running.values())).version
            launches = {str(getattr(p, "launch", "")) for p in self.running.values()} - {""}
            if launches:
                self.facts["proxy_launch"] = "/".join(sorted(launches))
            texts = self.facts.setdefault("config_texts", {})
            texts.update({name: stable_config_text(p.gateway) for name, p in self.running.items()})
            self.facts["config_hash"] = config_digest(list(texts.values()))
        # Remembered, so every later test on a broken config fails at once with the same paragraph.
        self.failed.update({name: str(exc) for name, exc in failed.items()})

    def stop_all(self) -> None:
        for proxy in self.running.values():
            proxy.stop()
        self.running.clear()


def _serving(provider: P) -> Iterator[P]:
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def make_anthropic_provider() -> Iterator[FakeAnthropic]:
    """The session's fake Anthropic server; prefer ``anthropic_provider`` in tests."""
    yield from _serving(FakeAnthropic())


@pytest.fixture(scope="session")
def make_openai_provider() -> Iterator[FakeOpenAI]:
    """The session's fake OpenAI server; prefer ``openai_provider`` in tests."""
    yield from _serving(FakeOpenAI())


def _provider_for_test(provider: P, item: pytest.Item) -> Iterator[P]:
    provider.reset()
    lenient = item.get_closest_marker("lenient_provider")
    # A check that loosens the fake says why, and the report shows it: all of its rules, or only those named.
    waived = tuple(lenient.kwargs.get("rules", ())) if lenient is not None else ()
    provider.strict = lenient is None or bool(waived)
    provider.lenient_rules = frozenset(waived)
    if lenient is not None:
        scope = f" (rules {', '.join(waived)} only)" if waived else " (every provider rule)"
        item.user_properties.append((f"observed:{provider.name} fake loosened", str(lenient.args[0]) + scope))
    evidence.attach(item, f"provider journal ({provider.name})", lambda: evidence.journal(provider))
    fingerprint.add_provider(item, provider)
    yield provider
    # A known deviation whose fingerprint recorded these very requests is not failed for them again.
    provider.strict, provider.lenient_rules = True, frozenset()
    if not forgiven(item, "unscripted", [f"{provider.name} {r.method} {r.path}" for r in provider.unexpected]):
        provider.assert_no_unexpected()


@pytest.fixture(scope="session")
def make_bedrock_provider() -> Iterator[FakeBedrock]:
    """The session's fake Bedrock runtime; prefer ``bedrock_provider`` in tests."""
    yield from _serving(FakeBedrock())


@pytest.fixture(scope="session")
def make_vertex_provider() -> Iterator[FakeVertex]:
    """The session's fake Vertex AI (and its token endpoint); prefer ``vertex_provider`` in tests."""
    yield from _serving(FakeVertex())


@pytest.fixture
def vertex_provider(make_vertex_provider: FakeVertex, request: pytest.FixtureRequest) -> Iterator[FakeVertex]:
    """The fake Vertex AI, reset for this test (its token endpoint always answers)."""
    yield from _provider_for_test(make_vertex_provider, request.node)


@pytest.fixture(scope="session")
def make_egress_proxy(make_vertex_provider: FakeVertex) -> Iterator[EgressProxy]:
    """The provider-route gateway's way out: Vertex's hard-coded host to the fake, anything else refused."""
    proxy = egress.start({VERTEX_HOSTS: make_vertex_provider.url}, on_escape=netguard.record)
    yield proxy
    proxy.stop()


@pytest.fixture
def egress_proxy(make_egress_proxy: EgressProxy) -> EgressProxy:
    """The egress proxy, its journal of tunnels reset for this test."""
    make_egress_proxy.reset()
    return make_egress_proxy


@pytest.fixture
def bedrock_provider(make_bedrock_provider: FakeBedrock, upstreams: Upstreams,
                     request: pytest.FixtureRequest) -> Iterator[FakeBedrock]:
    """The fake Bedrock, reset for this test, checking SigV4 signatures against the configured secret."""
    make_bedrock_provider.aws_secret = upstreams.aws_secret_access_key
    yield from _provider_for_test(make_bedrock_provider, request.node)


@pytest.fixture
def anthropic_provider(
    make_anthropic_provider: FakeAnthropic, request: pytest.FixtureRequest
) -> Iterator[FakeAnthropic]:
    """The fake Anthropic, reset for this test; unscripted requests fail the test."""
    yield from _provider_for_test(make_anthropic_provider, request.node)


@pytest.fixture
def openai_provider(make_openai_provider: FakeOpenAI, request: pytest.FixtureRequest) -> Iterator[FakeOpenAI]:
    """The fake OpenAI, reset for this test; unscripted requests fail the test."""
    yield from _provider_for_test(make_openai_provider, request.node)


class Observe(Protocol):
    def __call__(self, name: str, value: Any, *, volatile: bool = False, better: Direction | None = None) -> None: ...


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Observe:
    """Record an observed value (a header, a status, a model id) in the report, pass or fail.

    It is also part of the check's fingerprint, which a known deviation is held to,
    unless ``volatile=True`` (timings, free text with ids): those change every run.
    """

    def record(name: str, value: Any, *, volatile: bool = False, better: Direction | None = None) -> None:
        request.node.user_properties.append((f"observed:{name}", value))
        if not volatile:
            fingerprint.declare(request.node, name, value, better)

    return record


# LiteLLM's default cooldown is 5 s; a pool entry is not handed out again sooner than this.
POOL_REUSE_S = 6.0
_POOL_NEXT: dict[str, itertools.count[int]] = collections.defaultdict(itertools.count)
_POOL_USED: dict[str, float] = {}


def take_fresh(proxy: Target, route: str = "anthropic") -> str:
    """A deployment of ``proxy``'s gateway for ``route`` that no other check uses while LiteLLM's cooldown lasts."""
    name = pool_model(route, next(_POOL_NEXT[route]))
    if not proxy.gateway.serves(name):
        if route not in POOL_FALLBACK:
            pytest.fail(f"the {proxy.gateway.name!r} gateway has no {route!r} pool", pytrace=False)
        return POOL_FALLBACK[route]
    wait = _POOL_USED.get(name, -POOL_REUSE_S) + POOL_REUSE_S - time.monotonic()
    if wait > 0:
        time.sleep(wait)  # the pool wrapped around inside a cooldown: reusing now would inherit it
    _POOL_USED[name] = time.monotonic()
    return name


@pytest.fixture
def fresh_model(proxy: Target) -> Callable[[str], str]:
    """A deployment of this gateway for ``route`` that no other check uses while LiteLLM's cooldown lasts.

    Gateways the harness writes carry pools (``gateways.pool_deployments``); elsewhere (a
    user's config, another implementation) the route's usual model name is all there is.
    """
    def take(route: str = "anthropic") -> str:
        return take_fresh(proxy, route)

    return take


@pytest.fixture(scope="session")
def provider_answers(pytestconfig: pytest.Config) -> Callable[[Scenario], list[Scripted]]:
    """A scenario's provider answers: its script, or its cassette under ``--providers recorded``."""
    mode = pytestconfig.getoption("providers")

    def answers(scenario: Scenario) -> list[Scripted]:
        if mode == "scripted":
            return list(scenario.answers("scripted"))
        recorded = Recorded(scenario.name)
        return [recorded] * len(scenario.answers("scripted"))

    return answers


@pytest.fixture(scope="session")
def claude_code_installs() -> dict[str, Installed | str]:
    """Installed CLIs by version (or why the install failed), shared by the session's e2e checks."""
    return {}


@pytest.fixture
def claude_code_cli(request: pytest.FixtureRequest,
                    claude_code_installs: dict[str, Installed | str]) -> tuple[Installed, dict[str, Any]]:
    """The real Claude Code CLI of the version this check is parametrized with, and its profile."""
    version = str(request.param)
    reason = npm_unavailable()
    if reason:
        pytest.skip(f"end-to-end checks skipped: {reason}")
    if version not in claude_code_installs:
        try:
            claude_code_installs[version] = install(version)
        except HarnessError as exc:
            claude_code_installs[version] = str(exc)
    got = claude_code_installs[version]
    if isinstance(got, str):
        pytest.fail(got, pytrace=False)
    profiles = {p["version"]: p for p in PROFILES}
    return got, profiles.get(version, {"defaults": {}})


@pytest.fixture(scope="session")
def impl(pytestconfig: pytest.Config) -> Impl:
    """What the suite runs against (``--gateway-impl`` / ``--gateway-url``), with its capabilities."""
    return pytestconfig.stash[IMPL]


@pytest.fixture(scope="session")
def upstreams(make_anthropic_provider: FakeAnthropic, make_openai_provider: FakeOpenAI,
              make_bedrock_provider: FakeBedrock, make_vertex_provider: FakeVertex,
              make_egress_proxy: EgressProxy) -> Upstreams:
    return Upstreams(make_anthropic_provider.url, make_openai_provider.url, bedrock_url=make_bedrock_provider.url,
                     vertex_url=make_vertex_provider.url, egress_env=make_egress_proxy.env())


@pytest.fixture(scope="session")
def litellm_python(pytestconfig: pytest.Config) -> str:
    """The interpreter whose ``litellm`` is under test (``--litellm-python``)."""
    return resolve_python(pytestconfig.getoption("litellm_python"))


@pytest.fixture(scope="session")
def proxy_pool(upstreams: Upstreams, litellm_python: str, pytestconfig: pytest.Config,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyPool]:
    wanted = pytestconfig.stash.get(WANTED_GATEWAYS, set())
    pool = ProxyPool(pytestconfig.stash[IMPL], upstreams, litellm_python, tmp_path_factory.mktemp("gateways"), wanted,
                     float(pytestconfig.getoption("proxy_startup_timeout")),
                     pytestconfig.getoption("proxy_port"), pytestconfig.stash.setdefault(RUN_FACTS, {}),
                     pytestconfig.stash.get(OVERRIDES, {}), pytestconfig.getoption("litellm_settings"))
    try:
        yield pool
    finally:
        pool.stop_all()


@pytest.fixture
def proxy(proxy_pool: ProxyPool, request: pytest.FixtureRequest) -> Target:
    """The running gateway for this test's ``@pytest.mark.gateway`` config (default: "default")."""
    running = proxy_pool.get(gateway_name(request.node))
    fingerprint.add_secret(request.node, running.master_key)
    offset = running.log_size()
    evidence.attach(request.node, "proxy log (during this test)", lambda: running.log_text(offset)[-6000:])
    return running


@pytest.fixture
def gateway(proxy: Target, request: pytest.FixtureRequest) -> Iterator[GatewayClient]:
    """A Claude Code-like client for the proxy, authenticated with the master key as a Bearer token."""
    client = GatewayClient(proxy.url, proxy.master_key)
    evidence.attach(request.node, "client <-> gateway transcript",
                    lambda: evidence.exchanges(client, proxy.master_key))
    yield client
    with contextlib.suppress(Exception):
        client.close()
