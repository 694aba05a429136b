"""A gateway-neutral reading of a harness config (issue 41): its deployments, as every gateway
that is not LiteLLM renders them.

The builders write LiteLLM's form (``model_list``, ``litellm_params``), which the LiteLLM and
reference drivers take as is. Portkey's per-request config and Anthropic's ``gateway.yaml`` are
renderings of this neutral view instead: a model name the client asks for, the provider that
serves it, the id the provider is asked for, where it listens and the key it takes, with the
``os.environ/`` references already resolved.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.gateway.configs.model import GatewayConfig

# The variables LiteLLM reads for a deployment that names no api_base or api_key.
DEFAULTS_FROM_ENV: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "anthropic": (("ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"), ("ANTHROPIC_API_KEY",)),
    "openai": (("OPENAI_API_BASE", "OPENAI_BASE_URL"), ("OPENAI_API_KEY",)),
}


@dataclass(frozen=True)
class Deployment:
    model_name: str  # what the client sends as "model"
    provider: str  # "anthropic", "openai", "bedrock", "vertex_ai", ...
    upstream_model: str  # what the provider is asked for
    base_url: str  # "" when the gateway's default for the provider applies
    key: str  # "" when the provider takes no key (or a cloud credential instead)
    order: int = 0  # the priority among a model name's deployments: lower is tried first


def resolved(gateway: GatewayConfig, value: object) -> str:
    """A config value with LiteLLM's ``os.environ/NAME`` reference resolved from the config's
    environment."""
    text = str(value or "")
    if text.startswith("os.environ/"):
        return gateway.env.get(text.removeprefix("os.environ/"), "")
    return text


def deployments(gateway: GatewayConfig, provider: str | None = None) -> list[Deployment]:
    """The config's deployments in order (a model name served by several appears once per
    deployment), those of one provider when ``provider`` is given."""
    found = []
    for entry in gateway.config.get("model_list") or []:
        params = entry.get("litellm_params") or {}
        kind, _, upstream = str(params.get("model", "")).partition("/")
        if provider is not None and kind != provider:
            continue
        # Without api_base/api_key LiteLLM takes the provider's environment variables (the
        # quickstart's configs do): the same deployment, said outright.
        base_env, key_env = DEFAULTS_FROM_ENV.get(kind, ((), ()))
        found.append(
            Deployment(
                model_name=str(entry.get("model_name", "")),
                provider=kind,
                upstream_model=upstream,
                base_url=resolved(gateway, params.get("api_base")) or _first(gateway, base_env),
                key=resolved(gateway, params.get("api_key")) or _first(gateway, key_env),
                order=int(params.get("order") or 0),
            )
        )
    return found


def _first(gateway: GatewayConfig, names: tuple[str, ...]) -> str:
    return next((gateway.env[n] for n in names if gateway.env.get(n)), "")
