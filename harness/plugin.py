"""The pytest plugin: options, markers, the network guard, requirement checks and evidence.

The root ``conftest.py`` loads this module and nothing else.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from harness import evidence, netguard
from harness.errors import HarnessError
from harness.report.collect import ReportCollector
from harness.requirements import catalogue
from harness.selection import WANTED_GATEWAYS, gateway_name

pytest_plugins = ["harness.fixtures"]

SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"
MARKERS = (
    "req(id): the catalogue requirement this check states (harness/catalogue.yaml)",
    "gateway(name): the gateway config (harness.gateways registry) the test's proxy runs with",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cc-gateway", "Claude Code gateway conformance")
    group.addoption("--litellm-python", default=None, metavar="PATH",
                    help="Python interpreter (or virtualenv directory) whose litellm is under test; "
                         "default: the interpreter running pytest")
    group.addoption("--proxy-startup-timeout", default=120.0, type=float, metavar="SECONDS",
                    help="how long a proxy may take to become ready (default 120)")
    group.addoption("--report-dir", default="reports", metavar="DIR",
                    help="where compat.json and compat.html are written (default: reports/)")
    group.addoption("--no-report", action="store_true", help="write no compatibility report")
    group.addoption("--proxy-port", default=None, type=int, metavar="PORT",
                    help="fixed port for the default gateway's proxy (default: a free port)")


def _interrupt_on_sigterm(signum: int, frame: object) -> None:
    # CI runners stop jobs with SIGTERM; turning it into KeyboardInterrupt makes
    # pytest run its session teardown, which stops every proxy.
    raise KeyboardInterrupt(f"received signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    netguard.install()
    # xdist workers report to the controller; only the controller writes the report.
    if not config.getoption("no_report") and not hasattr(config, "workerinput"):
        out = Path(config.getoption("report_dir"))
        config.pluginmanager.register(ReportCollector(config, out if out.is_absolute() else config.rootpath / out),
                                      "cc-gateway-report")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt_on_sigterm)


def pytest_unconfigure(config: pytest.Config) -> None:
    netguard.uninstall()


def _in_suites(item: pytest.Item) -> bool:
    return SUITES_DIR in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Every conformance check must state exactly one known requirement."""
    try:
        known = catalogue()
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    problems = []
    for item in items:
        if not _in_suites(item):
            continue
        ids = [str(m.args[0]) for m in item.iter_markers("req")]
        if len(ids) != 1 or ids[0] not in known:
            problems.append(f"  {item.nodeid}: req markers {ids or 'none'}")
            continue
        req = known[ids[0]]
        item.user_properties += [("req", req.id), ("area", req.area), ("level", req.level)]
    if problems:
        raise pytest.UsageError(
            "every check in suites/ needs exactly one @pytest.mark.req(ID) naming a requirement in "
            "harness/catalogue.yaml:\n" + "\n".join(problems)
        )
    config.stash[WANTED_GATEWAYS] = {
        gateway_name(i) for i in items if {"proxy", "gateway", "proxy_pool"} & set(getattr(i, "fixturenames", ()))
    }


@pytest.fixture(autouse=True)
def _no_network_escape() -> Iterator[None]:
    """Fail the test if it tried to leave loopback, even if the caller swallowed the error."""
    before = len(netguard.attempts)
    yield
    escaped = netguard.attempts[before:]
    if escaped:
        pytest.fail(f"network guard: this test tried to reach {', '.join(escaped)}; "
                    "only loopback is allowed", pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for title, text in evidence.collect(item):
            report.sections.append((title, text))
    return report
