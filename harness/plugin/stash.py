"""Which gateway config each test runs against; shared by the plugin and the fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.gateway.configs import ConfigBuilder
from harness.gateway.targets import Impl

# The conformance checks' folder: the plugin judges items by it, the parallel runner runs by it.
SUITES_DIR = Path(__file__).resolve().parents[2] / "suites"
WANTED_GATEWAYS = pytest.StashKey[set[str]]()
IMPL = pytest.StashKey[Impl]()
OVERRIDES = pytest.StashKey[dict[str, ConfigBuilder]]()


def gateway_name(node: pytest.Item) -> str:
    marker = node.get_closest_marker("gateway")
    return str(marker.args[0]) if marker else "default"
