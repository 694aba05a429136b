"""The reference gateway (:mod:`harness.gateway.reference`): in-process, with deliberate faults,
so a check can be shown to fail (the kill matrix)."""

from __future__ import annotations

from harness.gateway.configs import GatewayConfig
from harness.gateway.drivers.base import Driver, Impl, Launch, register
from harness.gateway.reference import ReferenceGateway
from harness.gateway.reference.config import CAPABILITIES as SERVED
from harness.gateway.targets import Target


class Reference(Driver):
    name = "reference"
    # It serves LiteLLM's management routes' auth (harness/gateway/reference/admin.py).
    capabilities = SERVED | {"config", "journal", "admin-api"}
    takes_faults = True

    def label(self, impl: Impl) -> str:
        return f"{self.name}:{','.join(sorted(impl.faults))}" if impl.faults else self.name

    def start_one(self, config: GatewayConfig, how: Launch) -> Target:
        gateway = ReferenceGateway(
            config, how.root / config.name, how.impl.faults | how.extra_faults
        )
        # Named by the run's own faults, not by the swept fault it happened to start under.
        gateway.version = ReferenceGateway.label(how.impl.faults)
        return gateway

    def set_faults(self, target: Target, faults: frozenset[str]) -> None:
        assert isinstance(target, ReferenceGateway), target
        target.set_faults(faults)


register(Reference())
