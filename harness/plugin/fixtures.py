"""The harness's fixtures, in session/per-test pairs (like pytest-httpserver's).

``make_*`` fixtures start a server once per session; the plain-named ones hand
the same server to one test with its script and journal reset, and fail the
test if the provider got a request nobody scripted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar

import pytest

from harness.claude_code import PROFILES
from harness.claude_code.cli import Installed, install, npm_unavailable
from harness.errors import HarnessError
from harness.fakes import FakeAnthropic, FakeOpenAI, FakeProvider, Recorded, egress
from harness.fakes.bedrock import FakeBedrock
from harness.fakes.egress import EgressProxy
from harness.fakes.scenarios import Scenario
from harness.fakes.script import Scripted
from harness.fakes.vertex import VERTEX_HOSTS, FakeVertex
from harness.gateway.configs import (
    Upstreams,
)
from harness.gateway.drivers import Impl
from harness.gateway.pool import GatewayUnavailable, ProxyPool
from harness.gateway.process import resolve_python
from harness.gateway.targets import Target, client_headers
from harness.plugin import evidence, observing
from harness.plugin.deviations import forgiven
from harness.plugin.stash import (
    CALL_RAISED,
    CLIENT_HEADERS,
    CLIENTS,
    GATEWAY_SECRETS,
    GUARD,
    IMPL,
    KILL_MATRIX_FAULTS,
    OVERRIDES,
    PROXY_POOL,
    RUN_FACTS,
    WANTED_GATEWAYS,
    gateway_name,
)
from harness.protocol.client import Auth, GatewayClient
from harness.verdict import fingerprint
from harness.verdict.fields import Direction

P = TypeVar("P", bound=FakeProvider)


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
    # A check that loosens the fake says why, and the report shows it: all of its rules, or only
    # those named.
    waived = tuple(lenient.kwargs.get("rules", ())) if lenient is not None else ()
    provider.strict = lenient is None or bool(waived)
    provider.lenient_rules = frozenset(waived)
    if lenient is not None:
        scope = f" (rules {', '.join(waived)} only)" if waived else " (every provider rule)"
        item.user_properties.append(
            (f"observed:{provider.name} fake loosened", str(lenient.args[0]) + scope)
        )
    evidence.attach(item, f"provider journal ({provider.name})", lambda: evidence.journal(provider))
    observing.add_provider(item, provider)
    yield provider
    # A known deviation whose fingerprint recorded these very requests is not failed for them again.
    provider.strict, provider.lenient_rules = True, frozenset()
    if not forgiven(
        item, "unscripted", [f"{provider.name} {r.method} {r.path}" for r in provider.unexpected]
    ):
        provider.assert_no_unexpected()
    # An answer the check scripted and the gateway never asked for; a check that already failed said
    # enough.
    if not item.stash.get(CALL_RAISED, True):
        provider.assert_all_called()


@pytest.fixture(scope="session")
def make_bedrock_provider() -> Iterator[FakeBedrock]:
    """The session's fake Bedrock runtime; prefer ``bedrock_provider`` in tests."""
    yield from _serving(FakeBedrock())


@pytest.fixture(scope="session")
def make_vertex_provider() -> Iterator[FakeVertex]:
    """The session's fake Vertex AI (and its token endpoint); prefer ``vertex_provider`` in
    tests."""
    yield from _serving(FakeVertex())


@pytest.fixture
def vertex_provider(
    make_vertex_provider: FakeVertex, request: pytest.FixtureRequest
) -> Iterator[FakeVertex]:
    """The fake Vertex AI, reset for this test (its token endpoint always answers)."""
    yield from _provider_for_test(make_vertex_provider, request.node)


@pytest.fixture(scope="session")
def make_egress_proxy(
    make_vertex_provider: FakeVertex, pytestconfig: pytest.Config
) -> Iterator[EgressProxy]:
    """The provider-route gateway's way out: Vertex's hard-coded host to the fake, anything else
    refused."""
    proxy = egress.start(
        {VERTEX_HOSTS: make_vertex_provider.url}, on_escape=pytestconfig.stash[GUARD].record
    )
    yield proxy
    proxy.stop()


@pytest.fixture
def egress_proxy(make_egress_proxy: EgressProxy) -> EgressProxy:
    """The egress proxy, its journal of tunnels reset for this test."""
    make_egress_proxy.reset()
    return make_egress_proxy


@pytest.fixture
def bedrock_provider(
    make_bedrock_provider: FakeBedrock, upstreams: Upstreams, request: pytest.FixtureRequest
) -> Iterator[FakeBedrock]:
    """The fake Bedrock, reset for this test, checking SigV4 signatures against the configured
    secret."""
    make_bedrock_provider.aws_secret = upstreams.aws_secret_access_key
    yield from _provider_for_test(make_bedrock_provider, request.node)


@pytest.fixture
def anthropic_provider(
    make_anthropic_provider: FakeAnthropic, request: pytest.FixtureRequest
) -> Iterator[FakeAnthropic]:
    """The fake Anthropic, reset for this test; unscripted requests fail the test."""
    yield from _provider_for_test(make_anthropic_provider, request.node)


@pytest.fixture
def openai_provider(
    make_openai_provider: FakeOpenAI, request: pytest.FixtureRequest
) -> Iterator[FakeOpenAI]:
    """The fake OpenAI, reset for this test; unscripted requests fail the test."""
    yield from _provider_for_test(make_openai_provider, request.node)


class Observe(Protocol):
    def __call__(
        self, name: str, value: Any, *, volatile: bool = False, better: Direction | None = None
    ) -> None: ...


@pytest.fixture
def observe(request: pytest.FixtureRequest) -> Observe:
    """Record an observed value (a header, a status, a model id) in the report, pass or fail.

    It is also part of the check's fingerprint, which a known deviation is held to,
    unless ``volatile=True`` (timings, free text with ids): those change every run.
    """

    def record(
        name: str, value: Any, *, volatile: bool = False, better: Direction | None = None
    ) -> None:
        request.node.user_properties.append((f"observed:{name}", value))
        if not volatile:
            observing.declare(request.node, name, value, better)

    return record


@pytest.fixture
def gateway_secrets(proxy: Target, request: pytest.FixtureRequest) -> dict[str, str]:
    """The secrets this check's gateway must keep from clients and its log, by name
    (KEYS-006/007): the ones the ``proxy`` fixture holds every exchange to."""
    secrets: dict[str, str] = request.node.stash[GATEWAY_SECRETS]
    return secrets


@pytest.fixture
def fresh_model(proxy: Target, proxy_pool: ProxyPool) -> Callable[[str], str]:
    """A deployment of this gateway for ``route`` that no other check uses while LiteLLM's cooldown
    lasts.

    Gateways the harness writes carry pools (``harness.gateway.configs.pools``); elsewhere (a
    user's config, another implementation) the route's usual model name is all there is.
    """

    def take(route: str = "anthropic") -> str:
        return proxy_pool.ledger.take(proxy, route)

    return take


@pytest.fixture(scope="session")
def provider_answers(pytestconfig: pytest.Config) -> Callable[[Scenario], list[Scripted]]:
    """A scenario's provider answers: its live recording (the default) or script, or its cassette
    under ``--providers recorded``."""
    mode = pytestconfig.getoption("providers")

    def answers(scenario: Scenario) -> list[Scripted]:
        if mode in ("scripted", "live"):
            return list(scenario.answers(mode))
        recorded = Recorded(scenario.name)
        return [recorded] * len(scenario.answers("scripted"))

    return answers


@pytest.fixture(scope="session")
def claude_code_installs() -> dict[str, Installed | str]:
    """Installed CLIs by version (or why the install failed), shared by the session's e2e checks."""
    return {}


@pytest.fixture
def claude_code_cli(
    request: pytest.FixtureRequest, claude_code_installs: dict[str, Installed | str]
) -> tuple[Installed, dict[str, Any]]:
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
    """What the suite runs against (``--gateway-impl`` / ``--gateway-url``), with its
    capabilities."""
    return pytestconfig.stash[IMPL]


@pytest.fixture(scope="session")
def upstreams(
    make_anthropic_provider: FakeAnthropic,
    make_openai_provider: FakeOpenAI,
    make_bedrock_provider: FakeBedrock,
    make_vertex_provider: FakeVertex,
    make_egress_proxy: EgressProxy,
) -> Upstreams:
    return Upstreams(
        make_anthropic_provider.url,
        make_openai_provider.url,
        bedrock_url=make_bedrock_provider.url,
        vertex_url=make_vertex_provider.url,
        egress_env=make_egress_proxy.env(),
    )


@pytest.fixture(scope="session")
def litellm_python(pytestconfig: pytest.Config) -> str:
    """The interpreter whose ``litellm`` is under test (``--litellm-python``)."""
    return resolve_python(pytestconfig.getoption("litellm_python"))


@pytest.fixture(scope="session")
def proxy_pool(
    upstreams: Upstreams,
    litellm_python: str,
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ProxyPool]:
    wanted = pytestconfig.stash.get(WANTED_GATEWAYS, set())
    pool = ProxyPool(
        pytestconfig.stash[IMPL],
        upstreams,
        litellm_python,
        tmp_path_factory.mktemp("gateways"),
        wanted,
        float(pytestconfig.getoption("proxy_startup_timeout")),
        pytestconfig.getoption("proxy_port"),
        pytestconfig.stash.setdefault(RUN_FACTS, {}),
        pytestconfig.stash.get(OVERRIDES, {}),
        pytestconfig.getoption("litellm_settings"),
        pytestconfig.getoption("proxy_launch"),
    )
    pool.extra_faults = pytestconfig.stash.get(KILL_MATRIX_FAULTS, frozenset())
    pytestconfig.stash[PROXY_POOL] = pool
    try:
        yield pool
    finally:
        pool.stop_all()


def secrets_of(running: Target, upstreams: Upstreams, vertex: FakeVertex) -> dict[str, str]:
    """What must never reach a client or the gateway's log, by name (issue 39, KEYS-006/007)."""
    found = {
        "the Anthropic provider key": upstreams.anthropic_key,
        "the OpenAI provider key": upstreams.openai_key,
        "the AWS secret key": upstreams.aws_secret_access_key,
        "the Vertex access token": vertex.token,
        "the master key": running.master_key or "",
    }
    keys = getattr(getattr(running, "gateway", None), "virtual_keys", None) or {}
    found.update({f"virtual key #{n}": key for n, key in enumerate(sorted(keys), 1)})
    return found


@pytest.fixture
def proxy(
    proxy_pool: ProxyPool,
    upstreams: Upstreams,
    make_vertex_provider: FakeVertex,
    request: pytest.FixtureRequest,
) -> Target:
    """The running gateway for this test's ``@pytest.mark.gateway`` config (default: "default")."""
    try:
        running = proxy_pool.get(gateway_name(request.node))
    except GatewayUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    observing.add_secret(request.node, running.master_key)
    request.node.stash[CLIENT_HEADERS] = client_headers(running)
    offset = running.log_size()
    node = request.node
    secrets = node.stash[GATEWAY_SECRETS] = secrets_of(running, upstreams, make_vertex_provider)
    # Every exchange of the check, and its part of the gateway's log (issue 39).
    observing.attach(
        node,
        "secret_exposed",
        lambda: (
            fingerprint.secret_exposures(
                (ex for c in node.stash.get(CLIENTS, []) for ex in c.exchanges),
                secrets,
                running.log_text(offset),
            )
            or None
        ),
    )
    evidence.attach(
        request.node, "proxy log (during this test)", lambda: running.log_text(offset)[-6000:]
    )
    return running


@pytest.fixture
def make_client(request: pytest.FixtureRequest) -> Callable[..., GatewayClient]:
    """Make a gateway client (``make_client(url, key, auth="bearer", timeout=60.0)``) whose
    exchanges count as the check's own: its fingerprint, its evidence on failure and its repro
    snapshot cover them."""
    made = request.node.stash.setdefault(CLIENTS, [])

    def make(
        base_url: str, key: str | None, auth: Auth = "bearer", timeout: float = 60.0
    ) -> GatewayClient:
        client = GatewayClient(base_url, key, auth, timeout)
        # Headers the gateway needs on every request (Portkey's routing config), as Claude Code
        # sends them through ANTHROPIC_CUSTOM_HEADERS (issue 41).
        client.profile_headers.update(request.node.stash.get(CLIENT_HEADERS, {}))
        made.append(client)
        return client

    return make


@pytest.fixture
def gateway(
    proxy: Target, make_client: Callable[..., GatewayClient], request: pytest.FixtureRequest
) -> Iterator[GatewayClient]:
    """A Claude Code-like client for the proxy, authenticated with the master key as a Bearer
    token."""
    client = make_client(proxy.url, proxy.master_key)
    evidence.attach(
        request.node,
        "client <-> gateway transcript",
        lambda: evidence.exchanges(client, proxy.master_key),
    )
    yield client
    with contextlib.suppress(Exception):
        client.close()
