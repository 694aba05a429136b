"""Pools: many identical deployments of one route, so a check that trips LiteLLM's cooldown trips it
alone."""

from __future__ import annotations

from typing import Any

POOL_SIZE = 48
# The cloud routes' pools are smaller: each route meets fewer faults, and every deployment costs
# start-up.
POOL_SIZES = {"bedrock-invoke": 16, "bedrock-converse": 16, "vertex": 16}
TIMEOUT_POOL_SIZE = 8
# A pair pool: each name a model group of two deployments (RESIL-004), one per error a check
# scripts.
PAIR_POOL_SIZE = 4


def pool_size(route: str) -> int:
    if route.endswith("-pair"):
        return PAIR_POOL_SIZE
    if route.endswith("-timeout-5"):
        return POOL_SIZE if route == "anthropic-timeout-5" else TIMEOUT_POOL_SIZE
    return POOL_SIZES.get(route, POOL_SIZE)


def pool_model(route: str, index: int) -> str:
    return f"pool-{route}-{index % pool_size(route):02d}"


def is_pool_name(name: str) -> bool:
    """A pool deployment's name, also as LiteLLM's /v1/models lists a non-Claude one
    (``claude-router-<hex>``)."""
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
    return [
        {"model_name": pool_model(route, i), "litellm_params": dict(entry["litellm_params"])}
        for i in range(pool_size(route))
    ]


def pair_deployments(
    route: str, entry: dict[str, Any], first: dict[str, Any]
) -> list[dict[str, Any]]:
    """A pool of model groups of two deployments each: ``first`` (``order: 1``, tried first) and
    ``entry`` (``order: 2``), under the names ``pool-<route>-pair-NN``. The two send different
    provider model ids, so a fake can fail one and serve the other."""
    name = f"{route}-pair"
    return [
        {
            "model_name": pool_model(name, i),
            "litellm_params": {**params["litellm_params"], "order": order},
        }
        for i in range(pool_size(name))
        for order, params in ((1, first), (2, entry))
    ]
