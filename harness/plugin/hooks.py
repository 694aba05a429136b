"""The code of :mod:`harness.plugin`; what it is for: the package's docstring."""

from __future__ import annotations

import gc
import os
import signal
import threading
from collections.abc import Generator, Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from harness import netguard
from harness.claude_code import PROFILES
from harness.errors import HarnessError
from harness.gateway import drivers, forkserver
from harness.gateway import process as proxy
from harness.gateway.configs import ConfigBuilder, GatewayConfig, Upstreams, renamed
from harness.gateway.configs import user as userconfig
from harness.gateway.drivers import parse_impl
from harness.plugin import collection, evidence, observing, snapshot
from harness.plugin import deviations as deviation_hooks
from harness.plugin.provider_clock import check_timings
from harness.plugin.report import ReportCollector
from harness.plugin.stash import (
    CALL_RAISED,
    CLIENTS,
    GATEWAY_SECRETS,
    GUARD,
    IMPL,
    OVERRIDES,
    RUN_FACTS,
    WANTED_GATEWAYS,
    gateway_name,
)
from harness.protocol.client import GatewayClient
from harness.verdict import fingerprint

pytest_plugins = [
    "harness.plugin.options",
    "harness.plugin.fixtures",
    "harness.plugin.deviations",
    "harness.plugin.rerun",
    "harness.plugin.scheduling",
    "harness.plugin.killmatrix",
    "harness.plugin.warmworkers",
]

MARKERS = (
    "req(id): the catalogue requirement this check states (harness/verdict/catalogue.yaml)",
    "gateway(name): the gateway config (harness.gateway.configs registry) the test's proxy runs "
    "with",
    "needs(*capabilities): skip unless the gateway under test has them (openai, litellm, config, "
    "journal)",
    "blackbox: the check needs no provider journal, so it also runs in black-box mode "
    "(--gateway-url)",
    "slow: a check that takes tens of seconds by design (a stall past Claude Code's watchdog); "
    "still run in CI",
    "e2e: the check runs the real Claude Code CLI from npm (once per --claude-code version)",
    "waits: the check spends most of its time waiting (a retry back-off, a silence), so the "
    "scheduler runs it in a waiting lane beside the computing checks; implied by e2e, slow and the "
    "fresh_model fixture",
    "timed: the verdict hangs on how quickly the gateway acts (a hang-up within 2 s, a broken "
    "stream ended within 30 s), so the check runs in a prompt lane, at full priority, even where "
    "it mostly waits",
    "lenient_provider(reason, rules=()): the fake providers accept what the real provider would "
    "refuse, for this check only (every rule, or only the rule ids named)",
    "witness: records what the real Claude Code CLI prints against a known cause; runs only with "
    "--witness (python -m harness witness), never in a default run",
    "settings(**name_why): the non-default gateway settings this check needs, and why; the report "
    "shows them",
    "settings_sensitive: the verdict may depend on retry, timeout and cooldown settings, so CI "
    "runs the check on both --litellm-settings profiles; set by the harness on checks that script "
    "provider faults on a deployment of their own (fresh_model), and by hand where a difference "
    "was seen",
)


def _use_litellm_config(config: pytest.Config) -> None:
    """--litellm-config: the user's config replaces the "default" gateway, made safe by
    userconfig.adapt."""
    chosen = config.getoption("litellm_config")
    if not chosen:
        return
    path = Path(chosen).resolve()
    try:
        userconfig.load(path)  # fail now, with the file named, rather than in every test
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    versions = config.getoption("claude_code")
    facts = config.stash.setdefault(RUN_FACTS, {})

    def build_user_config(upstreams: Upstreams) -> GatewayConfig:
        gateway, report = userconfig.adapt(path, upstreams, versions)
        facts["user_config"] = asdict(report)
        return gateway

    # The user's config serves the real CLI's checks too (their gateway is the "claude-code" one).
    overrides: dict[str, ConfigBuilder] = {
        "default": build_user_config,
        "claude-code": renamed(build_user_config, "claude-code"),
    }
    config.stash[OVERRIDES] = overrides


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    # CI runners stop jobs with SIGTERM; turning it into KeyboardInterrupt makes
    # pytest run its session teardown, which stops every proxy.
    raise KeyboardInterrupt(f"received signal {signum}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    """What this run is against, before anything runs: the gateway, its settings, the deviations,
    Claude Code."""
    impl = config.stash.get(IMPL, None)
    if impl is None:
        return []
    gateway = impl.label
    if impl.kind == "litellm":
        python = config.getoption("litellm_python")
        try:
            gateway = (
                f"LiteLLM {proxy.litellm_version(proxy.resolve_python(python))} "
                f"({proxy.resolve_python(python)})"
            )
        except HarnessError as exc:
            gateway = f"LiteLLM not found: {str(exc).splitlines()[0]}"
    deviations = deviation_hooks.deviations_file(config, impl)
    versions = config.getoption("claude_code") or [str(p["version"]) for p in PROFILES]
    return [
        f"cc-gateway: {gateway}; settings profile {config.getoption('litellm_settings')}; "
        f"proxy launch {config.getoption('proxy_launch')}",
        "cc-gateway: known deviations "
        f"{deviations.name if deviations else 'none (every failure counts)'}; "
        f"Claude Code profiles {', '.join(versions)}",
    ]


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    _refuse_another_checkout(config.rootpath)
    config.stash[GUARD] = netguard.Guard().install()
    # Hypothesis runs every installed package's plugin on import; trio's (a dependency of the
    # report's browser) scans the whole heap twice, 0.5-0.8 CPU-s in each worker, for a generator no
    # check uses.
    os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")
    try:
        drivers.load(tuple(config.getoption("gateway_driver") or ()))
        config.stash[IMPL] = parse_impl(
            config.getoption("gateway_impl"),
            config.getoption("gateway_url"),
            config.getoption("gateway_key"),
        )
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    _use_litellm_config(config)
    config.stash.setdefault(RUN_FACTS, {})["providers"] = config.getoption("providers")
    chosen = config.stash[IMPL].driver
    config.stash[RUN_FACTS].update(gateway=chosen.name, gateway_title=chosen.title or chosen.name)
    if config.getoption("proxy_port") and getattr(config.option, "numprocesses", None):
        raise pytest.UsageError(
            "--proxy-port pins one proxy to one port, and the checks run on several workers: "
            "add -n 0 to run them in one process"
        )
    # xdist workers report to the controller; only the controller writes the report.
    # With --no-report it still collects, for the closing verdict, and writes nothing.
    if not hasattr(config, "workerinput"):
        out = Path(config.getoption("report_dir"))
        collector = ReportCollector(
            config,
            out if out.is_absolute() else config.rootpath / out,
            write=not config.getoption("no_report"),
        )
        config.pluginmanager.register(collector, "cc-gateway-report")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


def _refuse_another_checkout(rootpath: Path) -> None:
    """A run judges by one checkout's files, or not at all (issue 38).

    The plugin, the catalogue and the known deviations are read from where ``harness`` was imported;
    the checks from where pytest runs. An environment that installed one checkout (editable, so its
    ``pytest11`` entry point) and runs in another would judge the second's checks by the first's
    files: every known deviation of a check the first does not know would fail with no verdict.
    Refused, naming both places and the fix.
    """
    here = rootpath.resolve()
    loaded = Path(__file__).resolve().parents[2]
    if (
        here == loaded
        or not (here / "harness" / "plugin").is_dir()
        or not (here / "suites").is_dir()
    ):
        return
    raise pytest.UsageError(
        f"this pytest loads the harness from {loaded} (its plugin, requirements catalogue and "
        f"known deviations), but runs in the checkout {here}, whose own harness and deviations "
        f"it would not read: {here}'s checks would be judged by {loaded}'s files. "
        "Run the checkout's own environment "
        f"(`python3 dev.py suite` in {here} creates {here / '.venv'}), or install it into this one "
        f"(`pip install -e {here}`)."
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    if GUARD in config.stash:
        config.stash[GUARD].uninstall()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "claude_code_cli" in metafunc.fixturenames:
        versions = metafunc.config.getoption("claude_code") or [p["version"] for p in PROFILES]
        metafunc.parametrize(
            "claude_code_cli", versions, indirect=True, ids=[f"cc-{v}" for v in versions]
        )


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Every conformance check must state exactly one known requirement; the steps:
    :mod:`harness.plugin.collection`."""
    collection.prepare(config, items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The gateways the selected checks need: after -k/-m deselection, so a narrow run starts only
    those."""
    wanted = session.config.stash[WANTED_GATEWAYS] = {
        gateway_name(i)
        for i in session.items
        if {"proxy", "gateway", "proxy_pool"} & set(getattr(i, "fixturenames", ()))
        and not i.get_closest_marker("skip")
    }
    if (
        wanted
        and session.config.stash[IMPL].driver.forks
        and session.config.getoption("proxy_launch") == "fork"
        and not session.config.option.collectonly
    ):
        # LiteLLM imports in the fork server while the fakes start and the first checks set up.
        forkserver.prestart(
            proxy.resolve_python(session.config.getoption("litellm_python")), proxy.zygote_env()
        )
    # What collection built lives as long as the run. Out of the cyclic collector's sight, each full
    # collection (one a few minutes, and pytest's at exit) skips its 260,000 objects: 65-130 ms a
    # time in each worker.
    gc.freeze()


@pytest.fixture(autouse=True)
def _observe_the_wire(request: pytest.FixtureRequest) -> None:
    """Every check's fingerprint covers each gateway client it used, however it made them."""
    # A fresh list each time the check runs: a rerun (harness.plugin.rerun) is judged on its own
    # exchanges.
    clients: list[GatewayClient] = []
    request.node.stash[CLIENTS] = clients
    observing.attach(
        request.node,
        "client",
        lambda: fingerprint.client_summary(ex for c in clients for ex in c.exchanges) or None,
    )


@pytest.fixture(autouse=True)
def _no_network_escape(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if it tried to leave loopback, even if the caller swallowed the error."""
    attempts = request.config.stash[GUARD].attempts
    before = len(attempts)
    observing.attach(request.node, "network_escape", lambda: attempts[before:] or None)
    yield
    escaped = attempts[before:]
    if escaped:
        pytest.fail(
            f"network guard: this test tried to reach {', '.join(escaped)}; "
            "only loopback is allowed",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[CALL_RAISED] = call.excinfo is not None
        # Where the fakes' answers came from (scripted, recorded <cassette>, refused ...), for the
        # report.
        providers = item.stash.get(observing.PROVIDERS, [])
        report.user_properties.append(
            (
                "provider_answers",
                sorted({r.answer for p in providers for r in p.received() if r.answer}),
            )
        )
        report.user_properties.append(
            (
                "reply_sources",
                sorted(
                    {
                        f"{p.name} {r.route or r.path}: {r.source}"
                        for p in providers
                        for r in p.received()
                        if r.source
                    }
                ),
            )
        )
        # Every streamed exchange on the provider's clock (harness.plugin.provider_clock): evidence,
        # never fingerprinted.
        timings = check_timings(
            [ex for c in item.stash.get(CLIENTS, []) for ex in c.exchanges],
            [r for p in providers for r in p.received()],
        )
        if timings:
            report.user_properties.append(("observed:stream timing (provider clock)", timings))
    # Known deviations (xfail) keep their evidence too: the report shows what the gateway did.
    if report.failed or (call.excinfo is not None and hasattr(report, "wasxfail")):
        _redact_secrets(item, report)
        for title, text in evidence.collect(item):
            report.sections.append((title, text))
        if report.when == "call":
            _keep_the_wire(item, report)
    return report


def _redact_secrets(item: pytest.Item, report: pytest.TestReport) -> None:
    """A failure's text quotes transcripts, and every request carries the gateway's key: the
    report, the terminal and a deviations entry get each secret's name instead (issue 39,
    KEYS-006/007)."""
    if isinstance(report.longrepr, tuple):
        return
    text = report.longreprtext
    redacted = text
    for name, value in item.stash.get(GATEWAY_SECRETS, {}).items():
        if len(value) >= 8:  # an empty or toy value would blank ordinary text
            redacted = redacted.replace(value, f"<{name}>")
    if redacted != text:
        report.longrepr = redacted


def _keep_the_wire(item: pytest.Item, report: pytest.TestReport) -> None:
    """What a repro folder needs: this check's wire, and its gateway's config once per run."""
    snap = snapshot.snapshot(item)
    if snap is None:
        return
    report.user_properties.append(("repro", snap))
    kept = item.config.stash.setdefault(RUN_FACTS, {}).setdefault("gateways", {})
    if snap["gateway"] not in kept:
        kept[snap["gateway"]] = snapshot.gateway_record(item.funcargs["proxy"])  # type: ignore[attr-defined]
