"""Anthropic's own gateway, ``claude gateway --config gateway.yaml``, in the Claude Code CLI
(issue 41; "Claude apps gateway" in Anthropic's docs, code.claude.com/docs/en/claude-apps-gateway).

It needs a PostgreSQL store and an OpenID Connect issuer for developers' sign-in. The driver
starts one PostgreSQL cluster and one fake issuer (:mod:`harness.fakes.oidc`) per run, a
database and a gateway process per harness config, and renders each config's Anthropic
deployments as ``gateway.yaml``: one upstream per distinct provider URL and key, and one curated
model per model name (``auto_include_builtin_models: false``, so a name the config lacks is not
served, as in every other gateway's rendering). Secrets go in as ``${VAR}`` references, as the
docs ask.

Clients authenticate with the session token the gateway mints. The driver signs in as a
developer does: the RFC 8628 device grant, the verification page approved (the harness is the
browser), the issuer's authorization-code round trip, and the token poll. That token is the
target's key.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from harness.claude_code.cli import install as install_cli
from harness.errors import HarnessError
from harness.fakes.oidc import FakeIdP
from harness.gateway.configs import GatewayConfig
from harness.gateway.configs.neutral import deployments
from harness.gateway.drivers.base import Driver, Launch, register, start_each
from harness.gateway.local import LocalProcess, spawn
from harness.gateway.postgres import Cluster
from harness.gateway.process import free_port, kill_process_tree
from harness.gateway.targets import Target

# The Claude Code release whose gateway is judged (the newest the suite installs).
VERSION = "2.1.332"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT_ID = "claude-code"


def localhost(url: str) -> str:
    """The URL on ``localhost``: the gateway refuses an IP-literal base_url as a "metadata
    endpoint" (measured with 2.1.332), and its loopback guard is lifted by
    CLAUDE_GATEWAY_ALLOW_LOOPBACK."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"localhost:{parts.port}").geturl().rstrip("/")


def render(gateway: GatewayConfig, port: int, env: dict[str, str]) -> dict[str, Any]:
    """``gateway.yaml`` for a harness config; ``env`` receives the secrets it references."""
    upstreams: dict[tuple[str, str, int], dict[str, Any]] = {}
    models: dict[str, dict[str, str]] = {}
    for deployment in sorted(deployments(gateway, "anthropic"), key=lambda d: d.order):
        if not deployment.base_url:
            continue
        served = models.setdefault(deployment.model_name, {})
        # A model name with several deployments (a pool) gets an upstream per deployment: the
        # gateway fails over along its upstreams in order, and maps a model to one id on each.
        where = (deployment.base_url, deployment.key, len(served))
        if where not in upstreams:
            n = len(upstreams)
            env[f"UPSTREAM_KEY_{n}"] = deployment.key
            upstreams[where] = {
                "name": f"anthropic-{n}",
                "provider": "anthropic",
                "base_url": localhost(deployment.base_url),
                "auth": {"api_key": f"${{UPSTREAM_KEY_{n}}}"},
            }
        served[upstreams[where]["name"]] = deployment.upstream_model
    if not upstreams:
        raise HarnessError(
            f"config {gateway.name!r} has no Anthropic deployment Anthropic's gateway can serve"
        )
    return {
        "listen": {"host": "127.0.0.1", "port": port},
        "oidc": {
            "issuer": "${OIDC_ISSUER}",
            "client_id": "${OIDC_CLIENT_ID}",
            "client_secret": "${OIDC_CLIENT_SECRET}",
        },
        "session": {"jwt_secret": "${GATEWAY_JWT_SECRET}", "ttl_hours": 1},
        "store": {"postgres_url": "${GATEWAY_POSTGRES_URL}"},
        "upstreams": list(upstreams.values()),
        "models": [{"id": n, "upstream_model": up} for n, up in models.items()],
        "auto_include_builtin_models": False,
    }


@dataclass
class Backing:
    """What every gateway of a run shares: one PostgreSQL cluster and one identity provider,
    stopped when the last gateway stops."""

    cluster: Cluster = field(default_factory=Cluster)
    idp: FakeIdP = field(default_factory=FakeIdP)
    users: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Backing:
        self.idp.start()
        try:
            self.cluster.start()
        except HarnessError:
            self.idp.stop()
            raise
        return self

    def acquire(self) -> None:
        with self.lock:
            self.users += 1

    def release(self) -> None:
        with self.lock:
            self.users -= 1
            last = self.users <= 0
        if last:
            self.cluster.stop()
            self.idp.stop()


@dataclass
class ClaudeGateway(LocalProcess):
    gateway: GatewayConfig
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    config_path: Path
    backing: Backing
    version: str = VERSION
    startup_seconds: float = 0.0
    token: str | None = None
    stopped: bool = False

    @property
    def master_key(self) -> str | None:
        return self.token

    def stop(self) -> None:
        kill_process_tree(self.process)
        if not self.stopped:
            self.stopped = True
            self.backing.release()


def sign_in(base: str, timeout: float = 30.0) -> str:
    """A developer's sign-in, done as the browser would: a session token, or a HarnessError."""
    with httpx.Client(timeout=timeout) as web:
        grant = web.post(f"{base}/oauth/device_authorization", data={"client_id": CLIENT_ID})
        grant.raise_for_status()
        asked = grant.json()
        page = asked["verification_uri_complete"]
        web.get(page).raise_for_status()
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page))
        # The page refuses a form posted from another site, as a browser tells by Origin.
        approved = web.post(
            f"{origin}/device",
            data={"user_code": asked["user_code"]},
            headers={"origin": origin, "referer": page},
            follow_redirects=True,
        )
        if "signed in" not in approved.text:
            raise HarnessError(f"the gateway's sign-in page did not sign in: {approved.url}")
        form = {"grant_type": DEVICE_GRANT, "device_code": asked["device_code"]}
        token = web.post(f"{base}/oauth/token", data={**form, "client_id": CLIENT_ID})
        if token.status_code != 200:
            raise HarnessError(f"the gateway's token endpoint answered {token.text[:300]}")
        return str(token.json()["access_token"])


def process_env(
    folder: Path, secrets_env: dict[str, str], gateway: GatewayConfig
) -> dict[str, str]:
    env = {k: os.environ[k] for k in ("PATH", "LANG") if k in os.environ}
    env.update(secrets_env)
    env.update(
        {
            "HOME": str(folder),
            # The fakes and the issuer are on loopback, which its SSRF guard refuses by default
            # (code.claude.com/docs/en/claude-apps-gateway-deploy).
            "CLAUDE_GATEWAY_ALLOW_LOOPBACK": "1",
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "NO_PROXY": "localhost,127.0.0.1",
        }
    )
    for name in ("HTTPS_PROXY", "SSL_CERT_FILE"):
        if name in gateway.env:
            env[name] = gateway.env[name]
    return env


def start_one(
    gateway: GatewayConfig, folder: Path, backing: Backing, timeout: float
) -> ClaudeGateway:
    binary = install_cli(VERSION).binary
    folder.mkdir(parents=True, exist_ok=True)
    port, env = free_port(), dict[str, str]()
    config = render(gateway, port, env)
    database = "gw_" + "".join(c if c.isalnum() else "_" for c in gateway.name.lower())
    env.update(
        {
            "OIDC_ISSUER": backing.idp.issuer,
            "OIDC_CLIENT_ID": backing.idp.client_id,
            "OIDC_CLIENT_SECRET": backing.idp.client_secret,
            "GATEWAY_JWT_SECRET": secrets.token_urlsafe(32),
            "GATEWAY_POSTGRES_URL": backing.cluster.database(database),
        }
    )
    config_path = folder / "gateway.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    log_path = folder / "gateway.log"
    started = time.monotonic()
    argv = [str(binary), "gateway", "--config", str(config_path)]
    process = spawn(argv, log_path, process_env(folder, env, gateway))
    backing.acquire()
    running = ClaudeGateway(gateway, port, process, log_path, config_path, backing)
    named = f"Anthropic's gateway for {gateway.name!r}"
    running.wait_until_answering("/readyz", started, timeout, named, status=200)
    try:
        running.token = sign_in(f"http://localhost:{port}")
    except (HarnessError, httpx.HTTPError, KeyError, ValueError) as exc:
        running.stop()
        raise HarnessError(
            f"{named} started on {running.url} but a developer could not sign in ({exc}; exit "
            f"code {running.returncode}). Last lines of its log:\n{running.log_tail()}"
        ) from None
    running.startup_seconds = time.monotonic() - started
    return running


class ClaudeGatewayDriver(Driver):
    name = "claude-gateway"
    title = "Claude apps gateway"
    capabilities = frozenset({"anthropic", "journal"})
    deviations_prefix = "claude-gateway"
    liveness_path = "/healthz"  # code.claude.com/docs/en/claude-apps-gateway-deploy

    def version(self, python: str | None = None) -> str:
        return VERSION

    def start(
        self, configs: list[GatewayConfig], how: Launch
    ) -> tuple[dict[str, Target], dict[str, HarnessError]]:
        backing = Backing().start()
        backing.acquire()  # held while the gateways start, so an early failure keeps it up
        try:
            return start_each(
                configs, lambda c: start_one(c, how.root / c.name, backing, how.timeout)
            )
        finally:
            backing.release()

    def start_one(self, config: GatewayConfig, how: Launch) -> Target:
        backing = Backing().start()
        return start_one(config, how.root / config.name, backing, how.timeout)


register(ClaudeGatewayDriver())
