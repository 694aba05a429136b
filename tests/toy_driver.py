"""A toy gateway driver, kept outside harness/gateway/drivers/: the reference gateway under another
name. ``tests/test_drivers.py`` runs a slice of the catalogue through it, to show a new gateway is
one module (issue 41)."""

from __future__ import annotations

from harness.gateway.configs import GatewayConfig
from harness.gateway.drivers import Driver, Launch, register
from harness.gateway.reference import ReferenceGateway
from harness.gateway.reference.config import CAPABILITIES
from harness.gateway.targets import Target


class Toy(Driver):
    name = "toy"
    title = "Toy"
    capabilities = CAPABILITIES | {"config", "journal", "admin-api"}

    def start_one(self, config: GatewayConfig, how: Launch) -> Target:
        gateway = ReferenceGateway(config, how.root / config.name, frozenset())
        gateway.version = "0.1.0"
        return gateway


register(Toy())
