"""The `deployed` gateways: LiteLLM's own settings, a pool of deployments per route, timeouts and
fallbacks."""

from __future__ import annotations

from typing import Any

from harness.gateway.configs.cloud import (
    BEDROCK_CONVERSE_MODEL,
    BEDROCK_INVOKE_MODEL,
    VERTEX_MODEL,
    VERTEX_PASSTHROUGH_MODEL,
    bedrock_model,
    vertex_credentials,
    vertex_model,
)
from harness.gateway.configs.model import (
    OPENAI_MODEL,
    SONNET,
    GatewayConfig,
    Upstreams,
    anthropic_model,
    gateway_config,
    new_master_key,
    openai_model,
    upstream_env,
)
from harness.gateway.configs.pools import pair_deployments, pool_deployments

# The gateways with LiteLLM's own retry, timeout and cooldown settings whatever the profile (RESIL,
# LOAD): a check on one of them does not depend on --litellm-settings.
DEPLOYED_GATEWAYS = frozenset({"deployed", "deployed-no-retries", "deployed-openai-chat"})
# What a check uses on a gateway without pools (a user's config, another implementation).
POOL_FALLBACK = {
    "anthropic": SONNET,
    "openai": OPENAI_MODEL,
    "bedrock-invoke": BEDROCK_INVOKE_MODEL[0],
    "bedrock-converse": BEDROCK_CONVERSE_MODEL[0],
    "vertex": VERTEX_MODEL[0],
}


# The provider model id the first deployment of a pair sends instead of its route's (RESIL-004): a
# fake tells the two deployments apart by it.
PAIR_FIRST_MODEL = {
    "claude-sonnet-4-5-20250929": "claude-haiku-4-5-20251001",
    "claude-sonnet-4-5@20250929": "claude-haiku-4-5@20251001",
    "gpt-4o": "gpt-4o-mini",
}
PAIR_FIRST_IDS = ("claude-haiku-4-5", "gpt-4o-mini")


def _pair_first(entry: dict[str, Any]) -> dict[str, Any]:
    model = str(entry["litellm_params"]["model"])
    for usual, other in PAIR_FIRST_MODEL.items():
        if usual in model:
            return {
                "litellm_params": {**entry["litellm_params"], "model": model.replace(usual, other)}
            }
    raise ValueError(f"no pair model for {model!r}")


def fallback_group(route: str) -> tuple[str, str]:
    """The model group a route's fallback check calls, and the group LiteLLM falls back to."""
    return f"fallback-{route}", f"fallback-{route}-backup"


def route_deployments(upstreams: Upstreams) -> dict[str, dict[str, Any]]:
    """One deployment per route behind ``/v1/messages``, keyed as the pools are."""
    return {
        "anthropic": anthropic_model(SONNET, upstreams),
        "openai": openai_model(OPENAI_MODEL, upstreams),
        "bedrock-invoke": bedrock_model("", upstreams, BEDROCK_INVOKE_MODEL[1]),
        "bedrock-converse": bedrock_model("", upstreams, f"converse/{BEDROCK_CONVERSE_MODEL[1]}"),
        "vertex": vertex_model("", upstreams.vertex_url),
    }


def _faults_models(routes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per route: its pool, the same with a 5 s timeout (the silent-provider checks), a pool of
    two-deployment groups, and a fallback pair."""
    models = []
    for route, entry in routes.items():
        models += pool_deployments(route, entry)
        models += pair_deployments(route, entry, _pair_first(entry))
        timed = {"litellm_params": {**entry["litellm_params"], "timeout": 5}}
        models += pool_deployments(f"{route}-timeout-5", timed)
        for name in fallback_group(route):
            models.append({"model_name": name, "litellm_params": dict(entry["litellm_params"])})
    return models


def _cloud_env(upstreams: Upstreams) -> dict[str, str]:
    env = {
        "FAKE_AWS_ACCESS_KEY_ID": upstreams.aws_access_key_id,
        "FAKE_AWS_SECRET_ACCESS_KEY": upstreams.aws_secret_access_key,
    }
    if upstreams.vertex_url:
        env["FAKE_VERTEX_CREDENTIALS"] = vertex_credentials(upstreams.vertex_url)
        env.update(upstreams.egress_env)
    return env


@gateway_config("deployed")
def deployed_config(upstreams: Upstreams) -> GatewayConfig:
    """LiteLLM as teams deploy it: its default retries, timeout and cooldowns, nothing set by the
    harness.

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
        models.append(
            vertex_model(VERTEX_PASSTHROUGH_MODEL, upstreams.vertex_url, use_in_pass_through=True)
        )
    key = new_master_key()
    env = {**upstream_env(upstreams), **_cloud_env(upstreams)}
    fallbacks = [{primary: [backup]} for primary, backup in map(fallback_group, routes)]
    config = {
        "model_list": models,
        "general_settings": {"master_key": key},
        "router_settings": {"fallbacks": fallbacks},
    }
    gateway = GatewayConfig("deployed", config, env, key)
    gateway.fixed_settings = True
    return gateway


@gateway_config("deployed-no-retries")
def deployed_no_retries_config(upstreams: Upstreams) -> GatewayConfig:
    """The deployed gateway's routes with ``num_retries: 0``, the one setting the back-off checks
    compare."""
    routes = {
        k: v
        for k, v in route_deployments(upstreams).items()
        if (upstreams.bedrock_url or not k.startswith("bedrock"))
        and (upstreams.vertex_url or k != "vertex")
    }
    models = [m for route, entry in routes.items() for m in pool_deployments(route, entry)]
    key = new_master_key()
    env = {**upstream_env(upstreams), **_cloud_env(upstreams)}
    config = {
        "model_list": models,
        "general_settings": {"master_key": key},
        "litellm_settings": {"num_retries": 0},
    }
    gateway = GatewayConfig("deployed-no-retries", config, env, key)
    gateway.fixed_settings = True
    return gateway


@gateway_config("deployed-openai-chat")
def deployed_openai_chat_config(upstreams: Upstreams) -> GatewayConfig:
    """The deployed gateway's OpenAI route through chat completions instead of the Responses API.

    ``use_chat_completions_url_for_anthropic_messages`` is global in LiteLLM, so it has a proxy of
    its own; everything else is LiteLLM's default, as on ``deployed``.
    """
    routes = {"openai": openai_model(OPENAI_MODEL, upstreams)}
    key = new_master_key()
    fallbacks = [{primary: [backup]} for primary, backup in map(fallback_group, routes)]
    config = {
        "model_list": _faults_models(routes),
        "general_settings": {"master_key": key},
        "litellm_settings": {"use_chat_completions_url_for_anthropic_messages": True},
        "router_settings": {"fallbacks": fallbacks},
    }
    gateway = GatewayConfig("deployed-openai-chat", config, upstream_env(upstreams), key)
    gateway.fixed_settings = True
    return gateway
