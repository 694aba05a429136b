"""claude-code-router (npm ``@musistudio/claude-code-router``), the most installed Claude Code
router, a Node process per config (issue 41).

It reads ``~/.claude-code-router/config.json``: ``Providers`` (each an endpoint, a key, its
models and the transformers that rewrite requests for it) and a ``Router`` that picks
``provider,model`` per request by scenario (default, background, thinking, long context), not by
the model name the client sends. The driver renders each harness config's Anthropic deployments
as one provider per upstream URL and key, through CCR's ``Anthropic`` transformer, and a custom
router script (``CUSTOM_ROUTER_PATH``, its documented hook) that routes by model name, so the
catalogue's routing checks mean what they mean on every other gateway. A name the config lacks is
routed to a provider that does not exist, so it is not served.

3.1.1 does not install here (it needs a package the registry lacks); 2.0.0 does, and is pinned.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.claude_code.cli import NpmPin, npm_install_pinned
from harness.errors import HarnessError
from harness.gateway.configs import GatewayConfig
from harness.gateway.configs.neutral import deployments
from harness.gateway.drivers.base import Driver, Launch, register
from harness.gateway.local import LocalProcess, spawn
from harness.gateway.process import free_port, kill_process_tree
from harness.gateway.targets import Target

PACKAGE = "@musistudio/claude-code-router"
VERSION = "2.0.0"
# The registry's sha512 of the 2.0.0 tarball (a bundle with no dependencies of its own).
INTEGRITY = (
    "sha512-"
    "41CRIOgBtYAxY4+xBn+plXv87ghuv0kVcdTUOFcVdf2cwQMY8u+g6DJ9hX9JiSdlX3xVFpW2UFlx7xRUTx5I5g=="
)
CACHE = Path(__file__).resolve().parents[3] / ".cache" / "claude-code-router"
ENTRY = Path("node_modules") / "@musistudio" / "claude-code-router" / "dist" / "cli.js"
# What the custom router answers for a model name the config lacks: no such provider.
UNSERVED = "no-such-provider,unserved"
ROUTER_JS = """// Rendered by the conformance harness: route on the model name the client sent.
const routes = %s;
module.exports = async function router(req) {
  return routes[req.body.model] || "%s";
};
"""


PIN = NpmPin(PACKAGE, VERSION, INTEGRITY, ENTRY, "claude-code-router")


def install(version: str = VERSION, cache: Path = CACHE) -> Path:
    """Install the gateway into the cache once, its tarball held to the pinned integrity."""
    return npm_install_pinned(PIN, cache, version)


def render(gateway: GatewayConfig, port: int, router_path: Path) -> tuple[dict[str, Any], str]:
    """config.json and the router script for a harness config."""
    providers: dict[tuple[str, str], dict[str, Any]] = {}
    routes: dict[str, str] = {}
    for deployment in sorted(deployments(gateway, "anthropic"), key=lambda d: d.order):
        if not deployment.base_url:
            continue
        where = (deployment.base_url, deployment.key)
        provider = providers.setdefault(
            where,
            {
                "name": f"anthropic-{len(providers)}",
                "api_base_url": deployment.base_url.rstrip("/") + "/v1/messages",
                "api_key": deployment.key,
                "models": [],
                "transformer": {"use": ["Anthropic"]},
            },
        )
        if deployment.upstream_model not in provider["models"]:
            provider["models"].append(deployment.upstream_model)
        routes.setdefault(deployment.model_name, f"{provider['name']},{deployment.upstream_model}")
    if not providers:
        raise HarnessError(f"config {gateway.name!r} has no Anthropic deployment CCR can serve")
    config = {
        "HOST": "127.0.0.1",
        "PORT": port,
        "APIKEY": gateway.master_key or "",
        "LOG": True,
        "Providers": list(providers.values()),
        "Router": {"default": next(iter(routes.values()))},
        "CUSTOM_ROUTER_PATH": str(router_path),
    }
    return config, ROUTER_JS % (json.dumps(routes, indent=1), UNSERVED)


@dataclass
class RouterGateway(LocalProcess):
    gateway: GatewayConfig
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    config_path: Path
    version: str = VERSION
    startup_seconds: float = 0.0

    def stop(self) -> None:
        kill_process_tree(self.process)


def start_one(gateway: GatewayConfig, folder: Path, timeout: float) -> RouterGateway:
    entry = install()
    home = folder / "home"
    settings = home / ".claude-code-router"
    settings.mkdir(parents=True, exist_ok=True)
    port = free_port()
    router_path = folder / "router.js"
    config, script = render(gateway, port, router_path)
    router_path.write_text(script)
    config_path = settings / "config.json"
    config_path.write_text(json.dumps(config, indent=1))
    log_path = folder / "ccr.log"
    started = time.monotonic()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "NO_PROXY": "*"}
    process = spawn(["node", str(entry), "start"], log_path, env)
    running = RouterGateway(gateway, port, process, log_path, config_path)
    running.wait_until_answering("/health", started, timeout, f"CCR for {gateway.name!r}")
    return running


class ClaudeCodeRouter(Driver):
    name = "claude-code-router"
    title = "claude-code-router"
    capabilities = frozenset({"anthropic", "journal"})
    deviations_prefix = "claude-code-router"
    liveness_path = "/health"

    def version(self, python: str | None = None) -> str:
        return VERSION

    def start_one(self, config: GatewayConfig, how: Launch) -> Target:
        return start_one(config, how.root / config.name, how.timeout)


register(ClaudeCodeRouter())
