"""The run's state, as keys of ``config.stash`` (or an item's stash): one place, so a second session starts clean."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness import netguard
from harness.gateway.configs import ConfigBuilder
from harness.gateway.targets import Impl
from harness.protocol.client import GatewayClient

if TYPE_CHECKING:
    from harness.plugin.scheduling import DurationLog  # noqa: F401 (named in a string below)

# The conformance checks' folder: the plugin judges items by it, the parallel runner runs by it.
SUITES_DIR = Path(__file__).resolve().parents[2] / "suites"
WANTED_GATEWAYS = pytest.StashKey[set[str]]()
IMPL = pytest.StashKey[Impl]()
OVERRIDES = pytest.StashKey[dict[str, ConfigBuilder]]()
# The session's network guard, with the attempts it refused.
GUARD = pytest.StashKey[netguard.Guard]()
# Per check (item.stash): every gateway client it made, for its fingerprint, evidence and repro snapshot.
CLIENTS = pytest.StashKey[list[GatewayClient]]()
# What was actually run (LiteLLM version, settings, configs, launch mode ...): the report's run facts.
RUN_FACTS = pytest.StashKey[dict[str, Any]]()
# Each check's duration this run (harness.plugin.scheduling), for the next run's order.
DURATION_LOG = pytest.StashKey["DurationLog"]()


def gateway_name(node: pytest.Item) -> str:
    marker = node.get_closest_marker("gateway")
    return str(marker.args[0]) if marker else "default"
