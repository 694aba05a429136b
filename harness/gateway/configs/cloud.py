"""Bedrock and Vertex deployments, and the harness's own provider-route gateway (recorded scenarios,
cloud routes)."""

from __future__ import annotations

from typing import Any

from harness.claude_code import cloud_model_ids
from harness.fakes import scenarios as s
from harness.fakes.vertex import credentials_json
from harness.gateway.configs.model import (
    LITELLM_SETTINGS,
    ROUTER_SETTINGS,
    GatewayConfig,
    Upstreams,
    gateway_config,
    new_master_key,
    upstream_env,
)
from harness.gateway.configs.pools import pool_deployments

VERTEX_PROJECT, VERTEX_LOCATION = "cc-conformance", "us-east5"
VERTEX_MODEL = ("claude-vertex", "claude-sonnet-4-5@20250929")
# LiteLLM's Vertex pass-through uses only credentials of deployments that opt in
# (`use_in_pass_through`, not a default); this one does, and claude-vertex does not.
VERTEX_PASSTHROUGH_MODEL = "claude-vertex-passthrough"
BEDROCK_REGION = "us-west-2"
BEDROCK_INVOKE_MODEL = ("claude-bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
BEDROCK_CONVERSE_MODEL = ("claude-bedrock-converse", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")


def vertex_credentials(vertex_url: str) -> str:
    """A throwaway service account whose token endpoint is the fake Vertex (google-auth posts its
    JWT there)."""
    return credentials_json(vertex_url + "/token", VERTEX_PROJECT)


def vertex_model(name: str, vertex_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "model_name": name,
        "litellm_params": {
            "model": f"vertex_ai/{VERTEX_MODEL[1]}",
            "api_base": vertex_url,
            "vertex_project": VERTEX_PROJECT,
            "vertex_location": VERTEX_LOCATION,
            "vertex_credentials": "os.environ/FAKE_VERTEX_CREDENTIALS",
            **extra,
        },
    }


def bedrock_model(name: str, upstreams: Upstreams, model: str) -> dict[str, Any]:
    return {
        "model_name": name,
        "litellm_params": {
            "model": f"bedrock/{model}",
            "api_base": upstreams.bedrock_url,
            "aws_region_name": BEDROCK_REGION,
            "aws_access_key_id": "os.environ/FAKE_AWS_ACCESS_KEY_ID",
            "aws_secret_access_key": "os.environ/FAKE_AWS_SECRET_ACCESS_KEY",
        },
    }


def providers_config(
    upstreams: Upstreams,
    anthropic_model_id: str = "claude-haiku-4-5-20251001",
    openai_model_id: str = "gpt-4o-mini",
) -> GatewayConfig:
    """The harness's own provider-route gateway: the recorded scenarios, and Bedrock's routes.

    ``python -m harness record`` builds it with the recording relay as both upstreams and
    the real keys in the environment; the checks build it with the fakes. One config, so
    one proxy, serves them all: every proxy costs seconds of start-up on a small machine.
    """

    def entry(name: str, base: str, model: str, key: str) -> dict[str, Any]:
        return {
            "model_name": name,
            "litellm_params": {"model": model, "api_base": base, "api_key": key},
        }

    openai_base = upstreams.openai_url + "/v1"
    models = [
        entry(
            s.CLAUDE,
            upstreams.anthropic_url,
            f"anthropic/{anthropic_model_id}",
            "os.environ/ANTHROPIC_API_KEY",
        ),
        entry(
            s.CLAUDE_BAD_KEY,
            upstreams.anthropic_url,
            f"anthropic/{anthropic_model_id}",
            "sk-ant-invalid-key",
        ),
        entry(
            s.CLAUDE_UNKNOWN,
            upstreams.anthropic_url,
            "anthropic/claude-no-such-model-0",
            "os.environ/ANTHROPIC_API_KEY",
        ),
        entry(s.GPT, openai_base, f"openai/{openai_model_id}", "os.environ/OPENAI_API_KEY"),
        entry(s.GPT_BAD_KEY, openai_base, f"openai/{openai_model_id}", "sk-invalid-openai-key"),
        entry(s.GPT_UNKNOWN, openai_base, "openai/gpt-no-such-model", "os.environ/OPENAI_API_KEY"),
    ]
    if upstreams.bedrock_url:
        models += [
            bedrock_model(BEDROCK_INVOKE_MODEL[0], upstreams, BEDROCK_INVOKE_MODEL[1]),
            bedrock_model(
                BEDROCK_CONVERSE_MODEL[0], upstreams, f"converse/{BEDROCK_CONVERSE_MODEL[1]}"
            ),
        ]
        # Claude Code in Bedrock mode names its model in the path; the pass-through serves only
        # config names.
        models += [bedrock_model(i, upstreams, i) for i in cloud_model_ids("bedrock")]
        models += pool_deployments(
            "bedrock-invoke", bedrock_model("", upstreams, BEDROCK_INVOKE_MODEL[1])
        )
        converse = bedrock_model("", upstreams, f"converse/{BEDROCK_CONVERSE_MODEL[1]}")
        models += pool_deployments("bedrock-converse", converse)
    if upstreams.vertex_url:
        models += [
            vertex_model(VERTEX_MODEL[0], upstreams.vertex_url),
            vertex_model(VERTEX_PASSTHROUGH_MODEL, upstreams.vertex_url, use_in_pass_through=True),
        ]
        models += pool_deployments("vertex", vertex_model("", upstreams.vertex_url))
    key = new_master_key()
    env = {
        **upstream_env(upstreams),
        "OPENAI_API_KEY": upstreams.openai_key,
        "FAKE_AWS_ACCESS_KEY_ID": upstreams.aws_access_key_id,
        "FAKE_AWS_SECRET_ACCESS_KEY": upstreams.aws_secret_access_key,
    }
    if upstreams.vertex_url:
        env["FAKE_VERTEX_CREDENTIALS"] = vertex_credentials(upstreams.vertex_url)
        env.update(upstreams.egress_env)
    config = {
        "model_list": models,
        "general_settings": {"master_key": key},
        "litellm_settings": dict(LITELLM_SETTINGS),
        "router_settings": dict(ROUTER_SETTINGS),
    }
    return GatewayConfig("providers", config, env, key)


gateway_config("providers")(providers_config)
