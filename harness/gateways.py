"""Gateway configs: built in Python, written as YAML, keyed by name.

A test picks a config with ``@pytest.mark.gateway("name")``; the default is
``"default"``. Each named config starts at most one proxy per session, and all
the configs a run needs start concurrently.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from harness.errors import HarnessError

# Claude Code's default names per the quickstart's table (v2.1.14). The Claude Code
# profiles replace this list once they are captured from the real CLI.
CLAUDE_CODE_DEFAULT_MODELS = (
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "claude-opus-4-5-20251101",
)
OPENAI_MODEL = "gpt-4o"


@dataclass(frozen=True)
class Upstreams:
    """Where the fake providers listen, and the dummy credentials the proxy sends them."""

    anthropic_url: str
    openai_url: str
    anthropic_key: str = field(default_factory=lambda: "sk-ant-fake-upstream-" + secrets.token_hex(8))
    openai_key: str = field(default_factory=lambda: "sk-fake-openai-upstream-" + secrets.token_hex(8))


@dataclass
class GatewayConfig:
    """A LiteLLM config plus the environment the proxy process gets."""

    name: str
    config: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)
    master_key: str | None = None

    def model_names(self) -> list[str]:
        return [str(m["model_name"]) for m in self.config.get("model_list", [])]


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
        raise HarnessError(f"no gateway config named {name!r}; known: {', '.join(sorted(REGISTRY))}")
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


@gateway_config("default")
def default_config(upstreams: Upstreams) -> GatewayConfig:
    """Claude Code's default model names on Anthropic, plus one OpenAI-routed model."""
    key = new_master_key()
    models = [anthropic_model(n, upstreams) for n in CLAUDE_CODE_DEFAULT_MODELS]
    models.append(openai_model(OPENAI_MODEL, upstreams))
    config = {
        "model_list": models,
        "general_settings": {"master_key": key},
        "litellm_settings": {"drop_params": False, "num_retries": 0, "request_timeout": 30},
    }
    return GatewayConfig("default", config, upstream_env(upstreams), key)


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
        if base is None or not _is_loopback(str(base)):
            raise HarnessError(
                f"gateway config {gateway.name!r}: model {entry.get('model_name')!r} has api_base "
                f"{base!r}, which is not a loopback fake provider. Tests never reach real providers."
            )
    for key, value in gateway.env.items():
        if key.endswith(("_API_BASE", "_BASE_URL")) and not _is_loopback(value):
            raise HarnessError(f"gateway config {gateway.name!r}: {key}={value!r} is not loopback")
