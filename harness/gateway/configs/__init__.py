"""Gateway configs: built in Python, written as YAML, keyed by name.

A test picks a config with ``@pytest.mark.gateway("name")``; the default is
``"default"``. Each named config starts at most one proxy per session, and all
the configs a run needs start concurrently.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from harness.claude_code import cloud_model_ids, default_model_names
from harness.errors import HarnessError
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
    anthropic_key: str = field(default_factory=lambda: "sk-ant-fake-upstream-" + secrets.token_hex(8))
    openai_key: str = field(default_factory=lambda: "sk-fake-openai-upstream-" + secrets.token_hex(8))
    bedrock_url: str = ""
    vertex_url: str = ""
    # Dummy AWS credentials the gateway signs Bedrock requests with (never a real key).
    aws_access_key_id: str = field(default_factory=lambda: "AKIDFAKE" + secrets.token_hex(6).upper())
    aws_secret_access_key: str = field(default_factory=lambda: "fake-aws-secret-" + secrets.token_hex(12))
    # HTTPS_PROXY and SSL_CERT_FILE for the loopback egress proxy, where a route's host is hard-coded.
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
    # For a user's config (--litellm-config): their own model names, and the config as they wrote it.
    user_models: list[str] | None = None
    source_config: dict[str, Any] | None = None
    # Settings of its own that --litellm-settings never overlays (the "deployed" and "fuzz" gateways).
    fixed_settings: bool = False

    def model_names(self, providers: frozenset[str] | None = None) -> list[str]:
        """Every model_name but the harness's pools, or those whose litellm_params.model names one of ``providers``."""
        entries = self.config.get("model_list") or []
        return [str(m["model_name"]) for m in entries if not is_pool_name(str(m["model_name"]))
                and (providers is None or str(m["litellm_params"]["model"]).split("/")[0] in providers)]

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


LITELLM_SETTINGS: dict[str, Any] = {"drop_params": False}
ROUTER_SETTINGS: dict[str, Any] = {}
# What the harness used to set everywhere for test independence, and `--litellm-settings isolated`
# still does: no retries, a 30 s provider timeout, and no cooldown (LiteLLM benches a deployment
# after a few provider errors, so one check's scripted 429 could answer the next check's request).
# `--litellm-settings defaults` leaves LiteLLM's own (2 retries with backoff, a 6000 s timeout,
# cooldowns on), as teams deploy it; the report names the profile and what it set, per column.
ISOLATION: dict[str, dict[str, Any]] = {"litellm_settings": {"num_retries": 0, "request_timeout": 30},
                                        "router_settings": {"disable_cooldowns": True}}
SETTINGS_PROFILES = ("defaults", "isolated")


def apply_settings(gateway: GatewayConfig, profile: str) -> dict[str, Any]:
    """Overlay the profile's settings (a config's own values win); returns what was set, for the report."""
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


@gateway_config("default")
def default_config(upstreams: Upstreams) -> GatewayConfig:
    """Claude Code's default model names on Anthropic, aliases, and OpenAI-routed models."""
    key = new_master_key()
    models = [anthropic_model(n, upstreams) for n in CLAUDE_CODE_DEFAULT_MODELS]
    models += [
        anthropic_model(ALIAS_MODEL[0], upstreams, ALIAS_MODEL[1]),
        openai_model(OPENAI_MODEL, upstreams),
        openai_model(OPENAI_ALIAS_MODEL[0], upstreams, OPENAI_ALIAS_MODEL[1]),
        {"model_name": ENV_ROUTED_MODEL,
         "litellm_params": {"model": f"anthropic/{SONNET}", "api_base": "os.environ/FAKE_ANTHROPIC_BASE",
                            "api_key": "os.environ/FAKE_ANTHROPIC_UPSTREAM_KEY"}},
    ]
    models += pool_deployments("anthropic", anthropic_model(SONNET, upstreams))
    models += pool_deployments("openai", openai_model(OPENAI_MODEL, upstreams))
    config = {"model_list": models, "general_settings": {"master_key": key}, "litellm_settings": dict(LITELLM_SETTINGS),
              "router_settings": dict(ROUTER_SETTINGS)}
    env = {**upstream_env(upstreams), "FAKE_ANTHROPIC_BASE": upstreams.anthropic_url}
    return GatewayConfig("default", config, env, key)


@gateway_config("claude-code")
def claude_code_config(upstreams: Upstreams) -> GatewayConfig:
    """The default config again, in a proxy of its own, for the real CLI's checks.

    The CLI asks for the default model names every other check uses too, and on LiteLLM's defaults a
    deployment that answered errors is benched for 5 s: sharing the proxy made the CLI's checks depend
    on which check ran before them.
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
    """One Anthropic model with no retries and no cooldowns, whatever the profile (the fuzz check names both)."""
    key = new_master_key()
    config = {"model_list": [anthropic_model(SONNET, upstreams)], "general_settings": {"master_key": key},
              "litellm_settings": {**LITELLM_SETTINGS, "num_retries": 0},
              "router_settings": {**ROUTER_SETTINGS, "disable_cooldowns": True}}
    gateway = GatewayConfig("fuzz", config, upstream_env(upstreams), key)
    gateway.fixed_settings = True  # its settings are its own, named by the check's settings marker
    return gateway


@gateway_config("openai-chat")
def openai_chat_config(upstreams: Upstreams) -> GatewayConfig:
    """OpenAI models translated through chat completions instead of the Responses API."""
    key = new_master_key()
    models = [openai_model(OPENAI_MODEL, upstreams),
              openai_model(OPENAI_ALIAS_MODEL[0], upstreams, OPENAI_ALIAS_MODEL[1])]
    settings = {**LITELLM_SETTINGS, "use_chat_completions_url_for_anthropic_messages": True}
    config = {"model_list": models, "general_settings": {"master_key": key}, "litellm_settings": settings,
              "router_settings": dict(ROUTER_SETTINGS)}
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
    config = {"model_list": _quickstart_models(upstreams), "litellm_settings": {"master_key": key},
              "router_settings": dict(ROUTER_SETTINGS)}
    return GatewayConfig("quickstart-placement", config, upstream_env(upstreams), key)


@gateway_config("quickstart-env-key")
def quickstart_env_key_config(upstreams: Upstreams) -> GatewayConfig:
    """The quickstart followed to the letter: its config plus `export LITELLM_MASTER_KEY="sk-1234567890"`."""
    config = {"model_list": _quickstart_models(upstreams),
              "litellm_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY"},
              "router_settings": dict(ROUTER_SETTINGS)}
    env = {**upstream_env(upstreams), "LITELLM_MASTER_KEY": QUICKSTART_EXAMPLE_KEY}
    return GatewayConfig("quickstart-env-key", config, env, QUICKSTART_EXAMPLE_KEY)


VK_MODEL_A, VK_MODEL_B = "vk-model-a", "vk-model-b"
VK_ALIAS_B = "vk-alias-b"

CUSTOM_AUTH = """\
# Written by the conformance harness: an offline key -> allowed-models policy for LiteLLM's
# custom_auth hook, so virtual-key behaviour can be checked without a database.
import json
import os

from fastapi import Request
from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth

KEYS = json.loads(os.environ["CC_GATEWAY_VIRTUAL_KEYS"])
MASTER = os.environ["CC_GATEWAY_MASTER_KEY"]


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    if api_key == MASTER:
        return UserAPIKeyAuth(api_key=api_key, user_role=LitellmUserRoles.PROXY_ADMIN)
    if api_key in KEYS:
        return UserAPIKeyAuth(api_key=api_key, token=api_key, models=KEYS[api_key])
    raise Exception("Authentication Error: invalid key")
"""


@gateway_config("virtual-keys-db")
def virtual_keys_db_config(upstreams: Upstreams) -> GatewayConfig:
    """Models A and B behind LiteLLM's own DB-backed keys; needs CC_GATEWAY_DATABASE_URL and Prisma."""
    key = new_master_key()
    models = [anthropic_model(VK_MODEL_A, upstreams, SONNET), anthropic_model(VK_MODEL_B, upstreams, SONNET)]
    config = {"model_list": models, "router_settings": dict(ROUTER_SETTINGS),
              "litellm_settings": dict(LITELLM_SETTINGS),
              "general_settings": {"master_key": key, "database_url": "os.environ/DATABASE_URL"}}
    env = {**upstream_env(upstreams), "DATABASE_URL": os.environ.get("CC_GATEWAY_DATABASE_URL", "")}
    return GatewayConfig("virtual-keys-db", config, env, key)


@gateway_config("virtual-keys")
def virtual_keys_config(upstreams: Upstreams) -> GatewayConfig:
    """A key allowed only model A, enforced by LiteLLM's custom_auth + common checks (no database)."""
    key = new_master_key()
    limited = "sk-vk-" + secrets.token_hex(12)
    models = [anthropic_model(VK_MODEL_A, upstreams, SONNET), anthropic_model(VK_MODEL_B, upstreams, SONNET)]
    config = {
        "model_list": models,
        "router_settings": {**ROUTER_SETTINGS, "model_group_alias": {VK_ALIAS_B: VK_MODEL_B}},
        "general_settings": {"master_key": key, "custom_auth": "custom_auth.user_api_key_auth",
                             "custom_auth_run_common_checks": True},
        "litellm_settings": {**LITELLM_SETTINGS, "enable_post_custom_auth_checks": True},
    }
    keys = {limited: [VK_MODEL_A]}
    env = {**upstream_env(upstreams), "CC_GATEWAY_VIRTUAL_KEYS": json.dumps(keys), "CC_GATEWAY_MASTER_KEY": key}
    return GatewayConfig("virtual-keys", config, env, key, {"custom_auth.py": CUSTOM_AUTH}, keys)


LOAD_KEYS = 128
LOAD_MODEL = "claude-load"


@gateway_config("load-keys")
def load_keys_config(upstreams: Upstreams) -> GatewayConfig:
    """LiteLLM's defaults with a custom_auth allowlist of many keys: one per concurrent session in LOAD-002."""
    key = new_master_key()
    config = {
        "model_list": [anthropic_model(LOAD_MODEL, upstreams, SONNET)],
        "general_settings": {"master_key": key, "custom_auth": "custom_auth.user_api_key_auth",
                             "custom_auth_run_common_checks": True},
        "litellm_settings": {**LITELLM_SETTINGS, "enable_post_custom_auth_checks": True},
    }
    keys = {"sk-load-" + secrets.token_hex(12): [LOAD_MODEL] for _ in range(LOAD_KEYS)}
    env = {**upstream_env(upstreams), "CC_GATEWAY_VIRTUAL_KEYS": json.dumps(keys), "CC_GATEWAY_MASTER_KEY": key}
    gateway = GatewayConfig("load-keys", config, env, key, {"custom_auth.py": CUSTOM_AUTH}, keys)
    gateway.fixed_settings = True  # LiteLLM's own retry, timeout and cooldown settings, as deployed
    return gateway


COST_CALLBACK = """\
import json
import os

from litellm.integrations.custom_logger import CustomLogger

LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "costs.jsonl")


class CostRecorder(CustomLogger):
    \"\"\"Writes what LiteLLM would book as spend for each successful call.\"\"\"

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        logged = kwargs.get("standard_logging_object") or {}
        with open(LOG, "a") as out:
            out.write(json.dumps({"model_group": logged.get("model_group"), "stream": logged.get("stream"),
                                  "response_cost": kwargs.get("response_cost", logged.get("response_cost"))}) + "\\n")


proxy_handler_instance = CostRecorder()
"""


@gateway_config("cost")
def cost_config(upstreams: Upstreams) -> GatewayConfig:
    """One Anthropic model, and a success callback that writes the cost LiteLLM books as spend to costs.jsonl."""
    key = new_master_key()
    config = {"model_list": [anthropic_model(SONNET, upstreams)], "general_settings": {"master_key": key},
              "litellm_settings": {**LITELLM_SETTINGS, "callbacks": "custom_callbacks.proxy_handler_instance"},
              "router_settings": dict(ROUTER_SETTINGS)}
    return GatewayConfig("cost", config, upstream_env(upstreams), key, {"custom_callbacks.py": COST_CALLBACK})


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
                f"{base!r}, which is not a loopback fake provider. Tests never reach real providers."
            )
    for key, value in gateway.env.items():
        if key.endswith(("_API_BASE", "_BASE_URL")) and not _is_loopback(value):
            raise HarnessError(f"gateway config {gateway.name!r}: {key}={value!r} is not loopback")




VERTEX_PROJECT, VERTEX_LOCATION = "cc-conformance", "us-east5"
VERTEX_MODEL = ("claude-vertex", "claude-sonnet-4-5@20250929")
# LiteLLM's Vertex pass-through uses only credentials of deployments that opt in (`use_in_pass_through`,
# not a default); this one does, and claude-vertex does not.
VERTEX_PASSTHROUGH_MODEL = "claude-vertex-passthrough"
BEDROCK_REGION = "us-west-2"
BEDROCK_INVOKE_MODEL = ("claude-bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
BEDROCK_CONVERSE_MODEL = ("claude-bedrock-converse", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")


def vertex_credentials(vertex_url: str) -> str:
    """A throwaway service account whose token endpoint is the fake Vertex (google-auth posts its JWT there)."""
    from harness.fakes.vertex import credentials_json

    return credentials_json(vertex_url + "/token", VERTEX_PROJECT)


def vertex_model(name: str, vertex_url: str, **extra: Any) -> dict[str, Any]:
    return {"model_name": name, "litellm_params": {
        "model": f"vertex_ai/{VERTEX_MODEL[1]}", "api_base": vertex_url, "vertex_project": VERTEX_PROJECT,
        "vertex_location": VERTEX_LOCATION, "vertex_credentials": "os.environ/FAKE_VERTEX_CREDENTIALS", **extra}}


def bedrock_model(name: str, upstreams: Upstreams, model: str) -> dict[str, Any]:
    return {"model_name": name, "litellm_params": {
        "model": f"bedrock/{model}", "api_base": upstreams.bedrock_url, "aws_region_name": BEDROCK_REGION,
        "aws_access_key_id": "os.environ/FAKE_AWS_ACCESS_KEY_ID",
        "aws_secret_access_key": "os.environ/FAKE_AWS_SECRET_ACCESS_KEY"}}


def providers_config(upstreams: Upstreams, anthropic_model_id: str = "claude-haiku-4-5-20251001",
                    openai_model_id: str = "gpt-4o-mini") -> GatewayConfig:
    """The harness's own provider-route gateway: the recorded scenarios, and Bedrock's routes.

    ``python -m harness record`` builds it with the recording relay as both upstreams and
    the real keys in the environment; the checks build it with the fakes. One config, so
    one proxy, serves them all: every proxy costs seconds of start-up on a small machine.
    """
    from harness.fakes import scenarios as s

    def entry(name: str, base: str, model: str, key: str) -> dict[str, Any]:
        return {"model_name": name, "litellm_params": {"model": model, "api_base": base, "api_key": key}}

    openai_base = upstreams.openai_url + "/v1"
    models = [
        entry(s.CLAUDE, upstreams.anthropic_url, f"anthropic/{anthropic_model_id}", "os.environ/ANTHROPIC_API_KEY"),
        entry(s.CLAUDE_BAD_KEY, upstreams.anthropic_url, f"anthropic/{anthropic_model_id}", "sk-ant-invalid-key"),
        entry(s.CLAUDE_UNKNOWN, upstreams.anthropic_url, "anthropic/claude-no-such-model-0",
              "os.environ/ANTHROPIC_API_KEY"),
        entry(s.GPT, openai_base, f"openai/{openai_model_id}", "os.environ/OPENAI_API_KEY"),
        entry(s.GPT_BAD_KEY, openai_base, f"openai/{openai_model_id}", "sk-invalid-openai-key"),
        entry(s.GPT_UNKNOWN, openai_base, "openai/gpt-no-such-model", "os.environ/OPENAI_API_KEY"),
    ]
    if upstreams.bedrock_url:
        models += [bedrock_model(BEDROCK_INVOKE_MODEL[0], upstreams, BEDROCK_INVOKE_MODEL[1]),
                   bedrock_model(BEDROCK_CONVERSE_MODEL[0], upstreams, f"converse/{BEDROCK_CONVERSE_MODEL[1]}")]
        # Claude Code in Bedrock mode names its model in the path; the pass-through serves only config names.
        models += [bedrock_model(i, upstreams, i) for i in cloud_model_ids("bedrock")]
        models += pool_deployments("bedrock-invoke", bedrock_model("", upstreams, BEDROCK_INVOKE_MODEL[1]))
        converse = bedrock_model("", upstreams, f"converse/{BEDROCK_CONVERSE_MODEL[1]}")
        models += pool_deployments("bedrock-converse", converse)
    if upstreams.vertex_url:
        models += [vertex_model(VERTEX_MODEL[0], upstreams.vertex_url),
                   vertex_model(VERTEX_PASSTHROUGH_MODEL, upstreams.vertex_url, use_in_pass_through=True)]
        models += pool_deployments("vertex", vertex_model("", upstreams.vertex_url))
    key = new_master_key()
    env = {**upstream_env(upstreams), "OPENAI_API_KEY": upstreams.openai_key,
           "FAKE_AWS_ACCESS_KEY_ID": upstreams.aws_access_key_id,
           "FAKE_AWS_SECRET_ACCESS_KEY": upstreams.aws_secret_access_key}
    if upstreams.vertex_url:
        env["FAKE_VERTEX_CREDENTIALS"] = vertex_credentials(upstreams.vertex_url)
        env.update(upstreams.egress_env)
    config = {"model_list": models, "general_settings": {"master_key": key},
              "litellm_settings": dict(LITELLM_SETTINGS), "router_settings": dict(ROUTER_SETTINGS)}
    return GatewayConfig("providers", config, env, key)


gateway_config("providers")(providers_config)


POOL_SIZE = 48
# The gateways with LiteLLM's own retry, timeout and cooldown settings whatever the profile (RESIL, LOAD):
# a check on one of them does not depend on --litellm-settings.
DEPLOYED_GATEWAYS = frozenset({"deployed", "deployed-no-retries", "deployed-openai-chat"})
# The cloud routes' pools are smaller: each route meets fewer faults, and every deployment costs start-up.
POOL_SIZES = {"bedrock-invoke": 16, "bedrock-converse": 16, "vertex": 16}
TIMEOUT_POOL_SIZE = 8
# What a check uses on a gateway without pools (a user's config, another implementation).
POOL_FALLBACK = {"anthropic": SONNET, "openai": OPENAI_MODEL, "bedrock-invoke": BEDROCK_INVOKE_MODEL[0],
                 "bedrock-converse": BEDROCK_CONVERSE_MODEL[0], "vertex": VERTEX_MODEL[0]}


def pool_size(route: str) -> int:
    if route.endswith("-timeout-5"):
        return POOL_SIZE if route == "anthropic-timeout-5" else TIMEOUT_POOL_SIZE
    return POOL_SIZES.get(route, POOL_SIZE)


def pool_model(route: str, index: int) -> str:
    return f"pool-{route}-{index % pool_size(route):02d}"


def is_pool_name(name: str) -> bool:
    """A pool deployment's name, also as LiteLLM's /v1/models lists a non-Claude one (``claude-router-<hex>``)."""
    hexed = name.removeprefix("claude-router-")
    try:
        decoded = bytes.fromhex(hexed).decode() if hexed != name else name
    except (ValueError, UnicodeDecodeError):
        decoded = name
    return decoded.startswith("pool-") or decoded.startswith("fallback-")


def pool_deployments(route: str, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """``pool_size(route)`` copies of one deployment, under names only ``fresh_model`` hands out.

    On LiteLLM's defaults a provider error benches (cools down) the deployment that
    answered it, so a check that scripts one takes a copy nobody else uses meanwhile;
    the provider still sees the same upstream model.
    """
    return [{"model_name": pool_model(route, i), "litellm_params": dict(entry["litellm_params"])}
            for i in range(pool_size(route))]


def fallback_group(route: str) -> tuple[str, str]:
    """The model group a route's fallback check calls, and the group LiteLLM falls back to."""
    return f"fallback-{route}", f"fallback-{route}-backup"


def route_deployments(upstreams: Upstreams) -> dict[str, dict[str, Any]]:
    """One deployment per route behind ``/v1/messages``, keyed as the pools are."""
    return {"anthropic": anthropic_model(SONNET, upstreams),
            "openai": openai_model(OPENAI_MODEL, upstreams),
            "bedrock-invoke": bedrock_model("", upstreams, BEDROCK_INVOKE_MODEL[1]),
            "bedrock-converse": bedrock_model("", upstreams, f"converse/{BEDROCK_CONVERSE_MODEL[1]}"),
            "vertex": vertex_model("", upstreams.vertex_url)}


def _faults_models(routes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per route: its pool, the same with a 5 s timeout (the silent-provider checks), and a fallback pair."""
    models = []
    for route, entry in routes.items():
        models += pool_deployments(route, entry)
        timed = {"litellm_params": {**entry["litellm_params"], "timeout": 5}}
        models += pool_deployments(f"{route}-timeout-5", timed)
        for name in fallback_group(route):
            models.append({"model_name": name, "litellm_params": dict(entry["litellm_params"])})
    return models


def _cloud_env(upstreams: Upstreams) -> dict[str, str]:
    env = {"FAKE_AWS_ACCESS_KEY_ID": upstreams.aws_access_key_id,
           "FAKE_AWS_SECRET_ACCESS_KEY": upstreams.aws_secret_access_key}
    if upstreams.vertex_url:
        env["FAKE_VERTEX_CREDENTIALS"] = vertex_credentials(upstreams.vertex_url)
        env.update(upstreams.egress_env)
    return env


@gateway_config("deployed")
def deployed_config(upstreams: Upstreams) -> GatewayConfig:
    """LiteLLM as teams deploy it: its default retries, timeout and cooldowns, nothing set by the harness.

    Cooldowns are state: one check's provider 429 benches a deployment for the next. So each
    check takes its own deployment from a pool (``fresh_model``), the same upstream model under
    a name nobody else uses during the cooldown. Every route behind ``/v1/messages`` has its pools
    (Anthropic, OpenAI through Responses, Bedrock InvokeModel and Converse, Vertex), and the
    pass-throughs have what they resolve (``claude-bedrock``, a Vertex deployment opted in).

    One setting is not LiteLLM's default, and only the ``fallback-*`` groups meet it: ``fallbacks``,
    for the check of what a client sees when a stream breaks and the gateway falls back.
    """
    routes = route_deployments(upstreams)
    if not upstreams.bedrock_url:
        routes = {k: v for k, v in routes.items() if not k.startswith("bedrock")}
    if not upstreams.vertex_url:
        routes.pop("vertex")
    models = _faults_models(routes)
    if upstreams.bedrock_url:
        models.append(bedrock_model(BEDROCK_INVOKE_MODEL[0], upstreams, BEDROCK_INVOKE_MODEL[1]))
    if upstreams.vertex_url:
        models.append(vertex_model(VERTEX_PASSTHROUGH_MODEL, upstreams.vertex_url, use_in_pass_through=True))
    key = new_master_key()
    env = {**upstream_env(upstreams), **_cloud_env(upstreams)}
    fallbacks = [{primary: [backup]} for primary, backup in map(fallback_group, routes)]
    config = {"model_list": models, "general_settings": {"master_key": key},
              "router_settings": {"fallbacks": fallbacks}}
    gateway = GatewayConfig("deployed", config, env, key)
    gateway.fixed_settings = True
    return gateway


@gateway_config("deployed-no-retries")
def deployed_no_retries_config(upstreams: Upstreams) -> GatewayConfig:
    """The deployed gateway's routes with ``num_retries: 0``, the one setting the back-off checks compare."""
    routes = {k: v for k, v in route_deployments(upstreams).items()
              if (upstreams.bedrock_url or not k.startswith("bedrock")) and (upstreams.vertex_url or k != "vertex")}
    models = [m for route, entry in routes.items() for m in pool_deployments(route, entry)]
    key = new_master_key()
    env = {**upstream_env(upstreams), **_cloud_env(upstreams)}
    config = {"model_list": models, "general_settings": {"master_key": key}, "litellm_settings": {"num_retries": 0}}
    gateway = GatewayConfig("deployed-no-retries", config, env, key)
    gateway.fixed_settings = True
    return gateway


@gateway_config("deployed-openai-chat")
def deployed_openai_chat_config(upstreams: Upstreams) -> GatewayConfig:
    """The deployed gateway's OpenAI route through chat completions instead of the Responses API.

    ``use_chat_completions_url_for_anthropic_messages`` is global in LiteLLM, so it has a proxy of its own;
    everything else is LiteLLM's default, as on ``deployed``.
    """
    routes = {"openai": openai_model(OPENAI_MODEL, upstreams)}
    key = new_master_key()
    fallbacks = [{primary: [backup]} for primary, backup in map(fallback_group, routes)]
    config = {"model_list": _faults_models(routes), "general_settings": {"master_key": key},
              "litellm_settings": {"use_chat_completions_url_for_anthropic_messages": True},
              "router_settings": {"fallbacks": fallbacks}}
    gateway = GatewayConfig("deployed-openai-chat", config, upstream_env(upstreams), key)
    gateway.fixed_settings = True
    return gateway
