"""LiteLLM's proxy (``litellm.proxy.proxy_cli``), started as a subprocess per config, from a fork
server where it helps (:mod:`harness.gateway.process`)."""

from __future__ import annotations

from harness.errors import HarnessError
from harness.gateway.configs import GatewayConfig
from harness.gateway.drivers.base import Driver, Launch, register
from harness.gateway.process import litellm_version, resolve_python, start_many
from harness.gateway.targets import Target

# What a check may need (@pytest.mark.needs, issue 41), each a thing a gateway serves:
# "anthropic", "openai", "bedrock", "vertex": the routes that reach those providers;
# "anthropic-passthrough", "bedrock-passthrough", "vertex-passthrough": the raw pass-through routes;
# "passthrough-any-method": a pass-through relaying any method and path (GET /anthropic/v1/models);
# "admin-api", "virtual-keys", "cost-tracking": the management API, keys with model lists, spend;
# "litellm-quickstart", "litellm-settings", "litellm-package": LiteLLM's own quickstart configs,
# router settings and package (their checks judge LiteLLM itself); "litellm": the rest of that
# kind (the load profile, the witnesses); "config": it reads the gateway's config;
# "journal": the provider journal or a scripted provider reply.
CAPABILITIES = frozenset(
    {
        "anthropic",
        "anthropic-passthrough",
        "bedrock-passthrough",
        "vertex-passthrough",
        "passthrough-any-method",
        "admin-api",
        "virtual-keys",
        "cost-tracking",
        "openai",
        "bedrock",
        "vertex",
        "litellm",
        "litellm-quickstart",
        "litellm-settings",
        "litellm-package",
        "config",
        "journal",
    }
)


class LiteLLM(Driver):
    name = "litellm"
    title = "LiteLLM"
    capabilities = CAPABILITIES
    deviations_prefix = "litellm"
    forks = True

    def version(self, python: str | None = None) -> str:
        return litellm_version(resolve_python(python))

    def start(
        self, configs: list[GatewayConfig], how: Launch
    ) -> tuple[dict[str, Target], dict[str, HarnessError]]:
        running, failed = start_many(
            configs, how.python, how.root, how.timeout, how.port, how.launch
        )
        return dict(running), failed


register(LiteLLM())
