"""The named configs of the checks: Claude Code's defaults, the quickstart's, virtual keys, load
keys, cost."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

from harness.gateway.configs.model import (
    ALIAS_MODEL,
    CLAUDE_CODE_DEFAULT_MODELS,
    ENV_ROUTED_MODEL,
    LITELLM_SETTINGS,
    OPENAI_ALIAS_MODEL,
    OPENAI_MODEL,
    ROUTER_SETTINGS,
    SONNET,
    ConfigBuilder,
    GatewayConfig,
    Upstreams,
    anthropic_model,
    gateway_config,
    new_master_key,
    openai_model,
    program,
    upstream_env,
)
from harness.gateway.configs.pools import pool_deployments


@gateway_config("default")
def default_config(upstreams: Upstreams) -> GatewayConfig:
    """Claude Code's default model names on Anthropic, aliases, and OpenAI-routed models."""
    key = new_master_key()
    models = [anthropic_model(n, upstreams) for n in CLAUDE_CODE_DEFAULT_MODELS]
    models += [
        anthropic_model(ALIAS_MODEL[0], upstreams, ALIAS_MODEL[1]),
        openai_model(OPENAI_MODEL, upstreams),
        openai_model(OPENAI_ALIAS_MODEL[0], upstreams, OPENAI_ALIAS_MODEL[1]),
        {
            "model_name": ENV_ROUTED_MODEL,
            "litellm_params": {
                "model": f"anthropic/{SONNET}",
                "api_base": "os.environ/FAKE_ANTHROPIC_BASE",
                "api_key": "os.environ/FAKE_ANTHROPIC_UPSTREAM_KEY",
            },
        },
    ]
    models += pool_deployments("anthropic", anthropic_model(SONNET, upstreams))
    models += pool_deployments("openai", openai_model(OPENAI_MODEL, upstreams))
    config = {
        "model_list": models,
        "general_settings": {"master_key": key},
        "litellm_settings": dict(LITELLM_SETTINGS),
        "router_settings": dict(ROUTER_SETTINGS),
    }
    env = {**upstream_env(upstreams), "FAKE_ANTHROPIC_BASE": upstreams.anthropic_url}
    return GatewayConfig("default", config, env, key)


@gateway_config("claude-code")
def claude_code_config(upstreams: Upstreams) -> GatewayConfig:
    """The default config again, in a proxy of its own, for the real CLI's checks.

    The CLI asks for the default model names every other check uses too, and on LiteLLM's defaults a
    deployment that answered errors is benched for 5 s: sharing the proxy made the CLI's checks
    depend on which check ran before them.
    """
    return renamed(default_config, "claude-code")(upstreams)


def renamed(build: ConfigBuilder, name: str) -> ConfigBuilder:
    """``build``'s config under another gateway name: the same settings in a proxy of its own."""

    def build_renamed(upstreams: Upstreams) -> GatewayConfig:
        gateway = build(upstreams)
        gateway.name = name
        return gateway

    return build_renamed


@gateway_config("fuzz")
def fuzz_config(upstreams: Upstreams) -> GatewayConfig:
    """One Anthropic model with no retries and no cooldowns, whatever the profile (the fuzz check
    names both)."""
    key = new_master_key()
    config = {
        "model_list": [anthropic_model(SONNET, upstreams)],
        "general_settings": {"master_key": key},
        "litellm_settings": {**LITELLM_SETTINGS, "num_retries": 0},
        "router_settings": {**ROUTER_SETTINGS, "disable_cooldowns": True},
    }
    gateway = GatewayConfig("fuzz", config, upstream_env(upstreams), key)
    gateway.fixed_settings = True  # its settings are its own, named by the check's settings marker
    return gateway


@gateway_config("openai-chat")
def openai_chat_config(upstreams: Upstreams) -> GatewayConfig:
    """OpenAI models translated through chat completions instead of the Responses API."""
    key = new_master_key()
    models = [
        openai_model(OPENAI_MODEL, upstreams),
        openai_model(OPENAI_ALIAS_MODEL[0], upstreams, OPENAI_ALIAS_MODEL[1]),
    ]
    settings = {**LITELLM_SETTINGS, "use_chat_completions_url_for_anthropic_messages": True}
    config = {
        "model_list": models,
        "general_settings": {"master_key": key},
        "litellm_settings": settings,
        "router_settings": dict(ROUTER_SETTINGS),
    }
    return GatewayConfig("openai-chat", config, upstream_env(upstreams), key)


QUICKSTART_MODELS = ("claude-3-5-sonnet-20241022", "claude-3-5-haiku-20241022")
# The quickstart's "Option 2" environment values; the opus one is not in its own config.
QUICKSTART_ENV_DEFAULTS = {
    "ANTHROPIC_DEFAULT_SONNET_MODEL": "claude-3-5-sonnet-20241022",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL": "claude-3-5-haiku-20241022",
    "ANTHROPIC_DEFAULT_OPUS_MODEL": "claude-opus-3-5-20240229",
}
QUICKSTART_EXAMPLE_KEY = "sk-1234567890"


def _quickstart_models(upstreams: Upstreams) -> list[dict[str, Any]]:
    return [anthropic_model(n, upstreams) for n in QUICKSTART_MODELS]


@gateway_config("quickstart-placement")
def quickstart_placement_config(upstreams: Upstreams) -> GatewayConfig:
    """The quickstart's Step 1 config as written: master_key under litellm_settings only."""
    key = new_master_key()
    config = {
        "model_list": _quickstart_models(upstreams),
        "litellm_settings": {"master_key": key},
        "router_settings": dict(ROUTER_SETTINGS),
    }
    return GatewayConfig("quickstart-placement", config, upstream_env(upstreams), key)


@gateway_config("quickstart-env-key")
def quickstart_env_key_config(upstreams: Upstreams) -> GatewayConfig:
    """The quickstart followed to the letter: its config plus `export
    LITELLM_MASTER_KEY="sk-1234567890"`."""
    config = {
        "model_list": _quickstart_models(upstreams),
        "litellm_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
        "router_settings": dict(ROUTER_SETTINGS),
    }
    env = {**upstream_env(upstreams), "LITELLM_MASTER_KEY": QUICKSTART_EXAMPLE_KEY}
    return GatewayConfig("quickstart-env-key", config, env, QUICKSTART_EXAMPLE_KEY)


VK_MODEL_A, VK_MODEL_B = "vk-model-a", "vk-model-b"
VK_ALIAS_B = "vk-alias-b"

CUSTOM_AUTH = program("custom_auth.py")


@gateway_config("virtual-keys-db")
def virtual_keys_db_config(upstreams: Upstreams) -> GatewayConfig:
    """Models A and B behind LiteLLM's own DB-backed keys; needs CC_GATEWAY_DATABASE_URL and
    Prisma."""
    key = new_master_key()
    models = [
        anthropic_model(VK_MODEL_A, upstreams, SONNET),
        anthropic_model(VK_MODEL_B, upstreams, SONNET),
    ]
    config = {
        "model_list": models,
        "router_settings": dict(ROUTER_SETTINGS),
        "litellm_settings": dict(LITELLM_SETTINGS),
        "general_settings": {"master_key": key, "database_url": "os.environ/DATABASE_URL"},
    }
    env = {**upstream_env(upstreams), "DATABASE_URL": os.environ.get("CC_GATEWAY_DATABASE_URL", "")}
    return GatewayConfig("virtual-keys-db", config, env, key)


@gateway_config("virtual-keys")
def virtual_keys_config(upstreams: Upstreams) -> GatewayConfig:
    """A key allowed only model A, enforced by LiteLLM's custom_auth + common checks (no
    database)."""
    key = new_master_key()
    limited = "sk-vk-" + secrets.token_hex(12)
    models = [
        anthropic_model(VK_MODEL_A, upstreams, SONNET),
        anthropic_model(VK_MODEL_B, upstreams, SONNET),
    ]
    config = {
        "model_list": models,
        "router_settings": {**ROUTER_SETTINGS, "model_group_alias": {VK_ALIAS_B: VK_MODEL_B}},
        "general_settings": {
            "master_key": key,
            "custom_auth": "custom_auth.user_api_key_auth",
            "custom_auth_run_common_checks": True,
        },
        "litellm_settings": {**LITELLM_SETTINGS, "enable_post_custom_auth_checks": True},
    }
    keys = {limited: [VK_MODEL_A]}
    env = {
        **upstream_env(upstreams),
        "CC_GATEWAY_VIRTUAL_KEYS": json.dumps(keys),
        "CC_GATEWAY_MASTER_KEY": key,
    }
    return GatewayConfig("virtual-keys", config, env, key, {"custom_auth.py": CUSTOM_AUTH}, keys)


LOAD_KEYS = 128
LOAD_MODEL = "claude-load"


@gateway_config("load-keys")
def load_keys_config(upstreams: Upstreams) -> GatewayConfig:
    """LiteLLM's defaults with a custom_auth allowlist of many keys: one per concurrent session in
    LOAD-002."""
    key = new_master_key()
    config = {
        "model_list": [anthropic_model(LOAD_MODEL, upstreams, SONNET)],
        "general_settings": {
            "master_key": key,
            "custom_auth": "custom_auth.user_api_key_auth",
            "custom_auth_run_common_checks": True,
        },
        "litellm_settings": {**LITELLM_SETTINGS, "enable_post_custom_auth_checks": True},
    }
    keys = {"sk-load-" + secrets.token_hex(12): [LOAD_MODEL] for _ in range(LOAD_KEYS)}
    env = {
        **upstream_env(upstreams),
        "CC_GATEWAY_VIRTUAL_KEYS": json.dumps(keys),
        "CC_GATEWAY_MASTER_KEY": key,
    }
    gateway = GatewayConfig("load-keys", config, env, key, {"custom_auth.py": CUSTOM_AUTH}, keys)
    gateway.fixed_settings = True  # LiteLLM's own retry, timeout and cooldown settings, as deployed
    return gateway


COST_CALLBACK = program("custom_callbacks.py")


@gateway_config("cost")
def cost_config(upstreams: Upstreams) -> GatewayConfig:
    """One Anthropic model, and a success callback that writes the cost LiteLLM books as spend to
    costs.jsonl."""
    key = new_master_key()
    config = {
        "model_list": [anthropic_model(SONNET, upstreams)],
        "general_settings": {"master_key": key},
        "litellm_settings": {
            **LITELLM_SETTINGS,
            "callbacks": "custom_callbacks.proxy_handler_instance",
        },
        "router_settings": dict(ROUTER_SETTINGS),
    }
    return GatewayConfig(
        "cost", config, upstream_env(upstreams), key, {"custom_callbacks.py": COST_CALLBACK}
    )


@gateway_config("byok-with-key")
def byok_with_key_config(upstreams: Upstreams) -> GatewayConfig:
    """The BYOK tutorial on a proxy that also holds ANTHROPIC_API_KEY (for the pass-through's
    API-key users): the caller's own credential must still take precedence."""
    byok = byok_config(upstreams)
    return GatewayConfig("byok-with-key", byok.config, upstream_env(upstreams), byok.master_key)


@gateway_config("byok")
def byok_config(upstreams: Upstreams) -> GatewayConfig:
    """LiteLLM's "Claude Code with BYOK" tutorial: no provider key in the model list, and
    `forward_llm_provider_auth_headers: true`, so the client's own Anthropic credential (a
    subscription's OAuth token) reaches Anthropic; the gateway key travels in x-litellm-api-key."""
    key = new_master_key()
    model = {"model": f"anthropic/{SONNET}", "api_base": upstreams.anthropic_url}
    config = {
        "model_list": [{"model_name": SONNET, "litellm_params": model}],
        "general_settings": {"master_key": key},
        "litellm_settings": {**LITELLM_SETTINGS, "forward_llm_provider_auth_headers": True},
        "router_settings": dict(ROUTER_SETTINGS),
    }
    # No Anthropic key anywhere: the tutorial's operator holds none (the pass-through would
    # otherwise send ANTHROPIC_API_KEY in the caller's place).
    env = {k: v for k, v in upstream_env(upstreams).items() if k != "ANTHROPIC_API_KEY"}
    return GatewayConfig("byok", config, env, key)


@gateway_config("mcp")
def mcp_config(upstreams: Upstreams) -> GatewayConfig:
    """The default config with one MCP server (on loopback, never reached by the ADMIN checks), so
    the gateway serves its MCP endpoint: LiteLLM opens /mcp only for a config that lists one."""
    base = default_config(upstreams)
    server = {"url": f"{upstreams.anthropic_url}/mcp", "transport": "http"}
    config = {**base.config, "mcp_servers": {"loopback_tools": server}}
    return GatewayConfig("mcp", config, base.env, base.master_key)
