"""Portkey's open-source gateway (npm ``@portkey-ai/gateway``), a Node process per config.

It has no config file: routing travels with each request, in the ``x-portkey-config`` header
(Claude Code sends such headers through ``ANTHROPIC_CUSTOM_HEADERS``). The driver renders each
harness config's Anthropic deployments as one Portkey config: a conditional router on the
request's ``model`` whose targets are the fake provider (``custom_host``, trusted for loopback
hosts) with the deployment's upstream model id (``override_params``). The gateway's clients send
it as a default header (``Target.client_headers``).

What it serves here: the Anthropic Messages route. No client auth (no key is asked for), no
pass-through routes, no model discovery, no Bedrock, Vertex or OpenAI bridge in this rendering.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass, field
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

PACKAGE = "@portkey-ai/gateway"
VERSION = "1.15.2"
# The registry's sha512 of the 1.15.2 tarball: an install that resolves to other bytes is refused.
INTEGRITY = (
    "sha512-"
    "OuwwQEJ0rnKQuPgaCqyMpP+X5Uly2h9EBDm5Lx/NYu9MXTzB/nKrKgjd8J3vPGeNpYoyxTzKSzTV2tGv8Dd+fg=="
)
# The headers Claude Code sends that a provider reads (harness.claude_code profiles), forwarded.
FORWARDED = ("anthropic-beta", "x-claude-code-session-id", "x-app", "anthropic-workspace-id")
CACHE = Path(__file__).resolve().parents[3] / ".cache" / "portkey"
ENTRY = Path("node_modules") / "@portkey-ai" / "gateway" / "build" / "start-server.js"


PIN = NpmPin(PACKAGE, VERSION, INTEGRITY, ENTRY, "Portkey's gateway")


def install(version: str = VERSION, cache: Path = CACHE) -> Path:
    """Install the gateway into the cache once, its tarball held to the pinned integrity."""
    return npm_install_pinned(PIN, cache, version)


def render(gateway: GatewayConfig) -> dict[str, Any]:
    """The harness config's Anthropic deployments as one Portkey config: route on ``model``, one
    target per distinct upstream."""
    targets: dict[tuple[str, str, str], dict[str, Any]] = {}
    conditions = []
    for deployment in deployments(gateway, "anthropic"):
        if not deployment.base_url:
            continue
        upstream, key = deployment.upstream_model, deployment.key
        target = targets.setdefault(
            (deployment.base_url, key, upstream),
            {
                "name": f"t{len(targets)}",
                "provider": "anthropic",
                "api_key": key,
                "custom_host": deployment.base_url.rstrip("/") + "/v1",
                "override_params": {"model": upstream},
                # Without it Portkey sends its own anthropic-beta (messages-2023-12-15) instead of
                # Claude Code's (measured with 1.15.2): a platform team keeps the client's.
                "forward_headers": list(FORWARDED),
            },
        )
        query = {"params.model": {"$eq": deployment.model_name}}
        conditions.append({"query": query, "then": target["name"]})
    if not targets:
        raise HarnessError(f"config {gateway.name!r} has no Anthropic deployment Portkey can serve")
    # No default target: a model no deployment serves must not reach one (ROUTE-003).
    strategy = {"mode": "conditional", "conditions": conditions}
    return {"strategy": strategy, "targets": list(targets.values())}


@dataclass
class PortkeyGateway(LocalProcess):
    gateway: GatewayConfig
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    config_path: Path
    version: str = VERSION
    startup_seconds: float = 0.0
    client_headers: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        kill_process_tree(self.process)


def start_one(gateway: GatewayConfig, folder: Path, timeout: float) -> PortkeyGateway:
    entry = install()
    folder.mkdir(parents=True, exist_ok=True)
    config = render(gateway)
    config_path = folder / "portkey-config.json"
    config_path.write_text(json.dumps(config, indent=1))
    port, log_path = free_port(), folder / "portkey.log"
    started = time.monotonic()
    process = spawn(["node", str(entry), f"--port={port}", "--headless"], log_path)
    running = PortkeyGateway(gateway, port, process, log_path, config_path)
    running.client_headers = {"x-portkey-config": json.dumps(config, separators=(",", ":"))}
    running.wait_until_answering("/", started, timeout, f"Portkey's gateway for {gateway.name!r}")
    return running


class Portkey(Driver):
    name = "portkey"
    title = "Portkey"
    capabilities = frozenset({"anthropic", "journal"})
    deviations_prefix = "portkey"
    liveness_path = "/"  # its only route that needs no routing header

    def version(self, python: str | None = None) -> str:
        return VERSION

    def start_one(self, config: GatewayConfig, how: Launch) -> Target:
        return start_one(config, how.root / config.name, how.timeout)


register(Portkey())
