"""The run's state, as keys of ``config.stash`` (or an item's stash): one place, so a second session
starts clean."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from harness import netguard
from harness.gateway.configs import ConfigBuilder
from harness.gateway.drivers import Impl
from harness.gateway.pool import ProxyPool
from harness.plugin.durations import DurationLog
from harness.protocol.client import GatewayClient


def _suites_dir() -> Path:
    """The conformance checks' folder: ``suites/`` beside this harness in a checkout, else the
    installed ``cc_gateway_suites``. The checkout's own first: an environment that installed another
    checkout (editable) maps ``cc_gateway_suites`` there, and would judge this checkout's checks by
    nothing (issue 38)."""
    beside = Path(__file__).resolve().parents[2] / "suites"
    if (beside / "conformance.ini").is_file():
        return beside
    spec = importlib.util.find_spec(SUITES_PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))).resolve()
    return Path(__file__).resolve().parents[2] / "suites"


# The suites' name once installed (a checkout's suites/ is that package's source; pyproject.toml
# maps it).
SUITES_PACKAGE = "cc_gateway_suites"
# The plugin judges items by it; the parallel runner runs by it.
SUITES_DIR = _suites_dir()
WANTED_GATEWAYS = pytest.StashKey[set[str]]()
IMPL = pytest.StashKey[Impl]()
OVERRIDES = pytest.StashKey[dict[str, ConfigBuilder]]()
# The session's network guard, with the attempts it refused.
GUARD = pytest.StashKey[netguard.Guard]()
# Per check (item.stash): every gateway client it made, for its fingerprint, evidence and repro
# snapshot.
CLIENTS = pytest.StashKey[list[GatewayClient]]()
# The secrets a check's gateway must keep from clients and its log, by name (KEYS-006/007).
GATEWAY_SECRETS = pytest.StashKey[dict[str, str]]()
# Headers the check's gateway needs on every request (Portkey's routing config, issue 41).
CLIENT_HEADERS = pytest.StashKey[dict[str, str]]()
# Per check (item.stash): whether its call raised (failed, xfailed or skipped); teardown complaints
# then keep quiet.
CALL_RAISED = pytest.StashKey[bool]()
# What was actually run (LiteLLM version, settings, configs, launch mode ...): the report's run
# facts.
RUN_FACTS = pytest.StashKey[dict[str, Any]]()
# The session's gateways (the proxy_pool fixture), for hooks that act on them between checks.
PROXY_POOL = pytest.StashKey[ProxyPool]()
# The kill matrix's kill matrix (harness.plugin.killmatrix): the faults of the check now being set
# up.
KILL_MATRIX_FAULTS = pytest.StashKey[frozenset[str]]()
# Each check's duration this run (harness.plugin.scheduling), for the next run's order.
DURATION_LOG = pytest.StashKey[DurationLog]()
# The controller's folder where each worker writes which units wait and which are timed (the
# scheduler's lanes).
LANES_DIR = pytest.StashKey[Path]()


def gateway_name(node: pytest.Item) -> str:
    marker = node.get_closest_marker("gateway")
    return str(marker.args[0]) if marker else "default"
