"""Black-box mode (``--gateway-url``): a gateway someone else runs, in front of real providers.
Nothing is started, there is no provider journal, and only the ``blackbox`` checks run."""

from __future__ import annotations

from harness.errors import HarnessError
from harness.gateway.configs import GatewayConfig
from harness.gateway.drivers.base import Driver, Impl, Launch, register
from harness.gateway.targets import BlackBoxTarget, Target


class BlackBox(Driver):
    name = "black-box"
    capabilities = frozenset({"anthropic"})
    blackbox_only = True

    def label(self, impl: Impl) -> str:
        return impl.url

    def start(
        self, configs: list[GatewayConfig], how: Launch
    ) -> tuple[dict[str, Target], dict[str, HarnessError]]:
        impl = how.impl
        return {c.name: BlackBoxTarget(impl.url, impl.key) for c in configs}, {}


register(BlackBox())
