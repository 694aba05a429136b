"""The config type, the registry of named builders, model entries, settings profiles and the
loopback rule."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.claude_code import default_model_names
from harness.errors import HarnessError
from harness.gateway.configs.pools import is_pool_name
from harness.netguard import is_loopback_host

# Every name a known Claude Code version asks for by default (harness.claude_code),
# so the default gateway serves Claude Code out of the box, as a team's config should.
CLAUDE_CODE_DEFAULT_MODELS = tuple(default_model_names())
SONNET = "claude-sonnet-4-5-20250929"
OPENAI_MODEL = "gpt-4o"
# A model_name that differs from the provider-side id, for routing checks.
ALIAS_MODEL = ("team-sonnet", "claude-sonnet-4-5-20250929")
OPENAI_ALIAS_MODEL = ("team-gpt", "gpt-4o-mini")
# Routed through os.environ/ references for api_base as well as api_key.
ENV_ROUTED_MODEL = "claude-env-routed"


@dataclass(frozen=True)
class Upstreams:
    """Where the fake providers listen, and the dummy credentials the proxy sends them."""

    anthropic_url: str
    openai_url: str
    anthropic_key: str = field(
        default_factory=lambda: "sk-ant-fake-upstream-" + secrets.token_hex(8)
    )
    openai_key: str = field(
        default_factory=lambda: "sk-fake-openai-upstream-" + secrets.token_hex(8)
    )
    bedrock_url: str = ""
    vertex_url: str = ""
    # Dummy AWS credentials the gateway signs Bedrock requests with (never a real key).
    aws_access_key_id: str = field(
        default_factory=lambda: "AKIDFAKE" + secrets.token_hex(6).upper()
    )
    aws_secret_access_key: str = field(
        default_factory=lambda: "fake-aws-secret-" + secrets.token_hex(12)
    )
    # HTTPS_PROXY and SSL_CERT_FILE for the loopback egress proxy, where a route's host is
    # hard-coded.
    egress_env: dict[str, str] = field(default_factory=dict)


@dataclass
class GatewayConfig:
    """A LiteLLM config plus the environment the proxy process gets."""

    name: str
    config: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)
    master_key: str | None = None
    # Files written beside config.yaml (LiteLLM resolves custom_auth modules there).
    files: dict[str, str] = field(default_factory=dict)
    # Virtual keys this config defines: key → the models it may use.
    virtual_keys: dict[str, list[str]] = field(default_factory=dict)
    # For a user's config (--litellm-config): their own model names, and the config as they wrote
    # it.
    user_models: list[str] | None = None
    source_config: dict[str, Any] | None = None
    # Settings of its own that --litellm-settings never overlays (the "deployed" and "fuzz"
    # gateways).
    fixed_settings: bool = False

    def model_names(self, providers: frozenset[str] | None = None) -> list[str]:
        """Every model_name but the harness's pools, or those whose litellm_params.model names one
        of ``providers``."""
        entries = self.config.get("model_list") or []
        return [
            str(m["model_name"])
            for m in entries
            if not is_pool_name(str(m["model_name"]))
            and (providers is None or str(m["litellm_params"]["model"]).split("/")[0] in providers)
        ]

    def serves(self, name: str) -> bool:
        return any(m.get("model_name") == name for m in self.config.get("model_list") or [])


ConfigBuilder = Callable[[Upstreams], GatewayConfig]
REGISTRY: dict[str, ConfigBuilder] = {}


def gateway_config(name: str) -> Callable[[ConfigBuilder], ConfigBuilder]:
    """Register a config builder under ``name``."""

    def register(builder: ConfigBuilder) -> ConfigBuilder:
        if name in REGISTRY and REGISTRY[name] is not builder:
            raise HarnessError(f"two gateway configs are registered as {name!r}")
        REGISTRY[name] = builder
        return builder

    return register


def build(name: str, upstreams: Upstreams) -> GatewayConfig:
    if name not in REGISTRY:
        raise HarnessError(
            f"no gateway config named {name!r}; known: {', '.join(sorted(REGISTRY))}"
        )
    gateway = REGISTRY[name](upstreams)
    assert_loopback_only(gateway)
    return gateway


def new_master_key() -> str:
    # Recent LiteLLM refuses well-known keys such as sk-1234; a random one also
    # makes any leak of it into a provider request or an error body unmistakable.
    return "sk-gw-" + secrets.token_hex(16)


def anthropic_model(name: str, upstreams: Upstreams, model: str | None = None) -> dict[str, Any]:
    return {
        "model_name": name,
        "litellm_params": {
            "model": f"anthropic/{model or name}",
            "api_base": upstreams.anthropic_url,
            "api_key": "os.environ/FAKE_ANTHROPIC_UPSTREAM_KEY",
        },
    }


def openai_model(name: str, upstreams: Upstreams, model: str | None = None) -> dict[str, Any]:
    return {
        "model_name": name,
        "litellm_params": {
            "model": f"openai/{model or name}",
            "api_base": upstreams.openai_url + "/v1",
            "api_key": "os.environ/FAKE_OPENAI_UPSTREAM_KEY",
        },
    }


def upstream_env(upstreams: Upstreams) -> dict[str, str]:
    """Environment that points every provider integration, pass-through included, at the fakes."""
    return {
        "FAKE_ANTHROPIC_UPSTREAM_KEY": upstreams.anthropic_key,
        "FAKE_OPENAI_UPSTREAM_KEY": upstreams.openai_key,
        # The /anthropic pass-through reads these, not the model list.
        "ANTHROPIC_API_BASE": upstreams.anthropic_url,
        "ANTHROPIC_BASE_URL": upstreams.anthropic_url,
        "ANTHROPIC_API_KEY": upstreams.anthropic_key,
        "OPENAI_API_KEY": upstreams.openai_key,
        "OPENAI_BASE_URL": upstreams.openai_url + "/v1",
    }


LITELLM_SETTINGS: dict[str, Any] = {"drop_params": False}
ROUTER_SETTINGS: dict[str, Any] = {}
# What the harness used to set everywhere for test independence, and `--litellm-settings isolated`
# still does: no retries, a 30 s provider timeout, and no cooldown (LiteLLM benches a deployment
# after a few provider errors, so one check's scripted 429 could answer the next check's request).
# `--litellm-settings defaults` leaves LiteLLM's own (2 retries with backoff, a 6000 s timeout,
# cooldowns on), as teams deploy it; the report names the profile and what it set, per column.
ISOLATION: dict[str, dict[str, Any]] = {
    "litellm_settings": {"num_retries": 0, "request_timeout": 30},
    "router_settings": {"disable_cooldowns": True},
}
SETTINGS_PROFILES = ("defaults", "isolated")


def apply_settings(gateway: GatewayConfig, profile: str) -> dict[str, Any]:
    """Overlay the profile's settings (a config's own values win); returns what was set, for the
    report."""
    applied: dict[str, Any] = {}
    if profile != "isolated" or gateway.fixed_settings:
        return applied
    for section, values in ISOLATION.items():
        target = gateway.config.setdefault(section, {})
        for key, value in values.items():
            if key not in target:
                target[key] = value
                applied[f"{section}.{key}"] = value
    return applied


def _is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def assert_loopback_only(gateway: GatewayConfig) -> None:
    """Refuse a config that would send the proxy anywhere but a fake provider.

    A malformed model list is left for LiteLLM itself to reject: how it does so is
    part of what the suite observes.
    """
    entries = gateway.config.get("model_list")
    for entry in entries if isinstance(entries, list) else []:
        params = entry.get("litellm_params") if isinstance(entry, dict) else None
        if not isinstance(params, dict):
            continue
        base = params.get("api_base")
        if isinstance(base, str) and base.startswith("os.environ/"):
            base = gateway.env.get(base.removeprefix("os.environ/"))
        if base is None or not _is_loopback(str(base)):
            raise HarnessError(
                f"gateway config {gateway.name!r}: model {entry.get('model_name')!r} has api_base "
                f"{base!r}, which is not a loopback fake provider. "
                "Tests never reach real providers."
            )
    for key, value in gateway.env.items():
        if key.endswith(("_API_BASE", "_BASE_URL")) and not _is_loopback(value):
            raise HarnessError(f"gateway config {gateway.name!r}: {key}={value!r} is not loopback")


def program(name: str) -> str:
    """A program LiteLLM loads from beside its config (:mod:`harness.gateway.configs.programs`), as
    text."""
    return (Path(__file__).with_name("programs") / name).read_text()


def stable_config_text(gateway: GatewayConfig) -> str:
    """The config without what changes every run (the random master key, the fakes' ports)."""
    text = json.dumps(gateway.config, sort_keys=True)
    if gateway.master_key:
        text = text.replace(gateway.master_key, "<master-key>")
    return gateway.name + re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)


def config_digest(texts: list[str]) -> str:
    return hashlib.sha256("\n---\n".join(sorted(texts)).encode()).hexdigest()[:16]
