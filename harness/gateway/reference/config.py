"""What the reference gateway reads of a :class:`GatewayConfig`: routes, aliases, keys, fallbacks,
timeouts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from harness.errors import ProxyStartError
from harness.gateway.configs import GatewayConfig

CAPABILITIES = frozenset({"anthropic", "anthropic-passthrough"})
HOP_BY_HOP = {
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "accept-encoding",
    "authorization",
    "x-api-key",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
}
KNOWN_FIELDS = {
    "model",
    "max_tokens",
    "messages",
    "system",
    "stream",
    "temperature",
    "tools",
    "tool_choice",
    "stop_sequences",
    "top_p",
    "top_k",
}


@dataclass
class Route:
    model: str
    api_base: str
    api_key: str
    timeout: float | None = (
        None  # the deployment's `timeout`: each wait for the provider, at most this
    )
    name: str = ""
    order: int = 0  # the deployment's `order`: a group tries its lowest first
    api_ref: str = ""  # the api_key as the config wrote it (an os.environ/ reference, unresolved)


class GatewayFault(Exception):
    """An error the gateway answers itself."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _resolve(value: Any, env: dict[str, str]) -> str:
    text = str(value)
    return env.get(text.removeprefix("os.environ/"), "") if text.startswith("os.environ/") else text


@dataclass
class ReferenceConfig:
    master_key: str
    routes: dict[str, list[Route]]  # model group -> its deployments, lowest `order` first
    aliases: dict[str, str]
    virtual_keys: dict[str, list[str]]
    passthrough: Route | None
    faults: frozenset[str] = field(default_factory=frozenset)
    fallbacks: dict[str, str] = field(
        default_factory=dict
    )  # model group -> the group it falls back to

    @classmethod
    def from_gateway(cls, gateway: GatewayConfig, faults: frozenset[str]) -> ReferenceConfig:
        master = (gateway.config.get("general_settings") or {}).get("master_key")
        if not master and "quickstart-open" in faults:
            master = ""  # no key anywhere it looks: every request is served
        elif not master:
            raise ProxyStartError(
                f"reference gateway for {gateway.name!r}: no general_settings.master_key; "
                "a gateway without a key would accept every request, so it refuses to start"
            )
        routes: dict[str, list[Route]] = {}
        for entry in gateway.config.get("model_list") or []:
            params = entry.get("litellm_params") or {}
            provider, _, model = str(params.get("model", "")).partition("/")
            if provider == "anthropic":
                timeout = params.get("timeout")
                routes.setdefault(entry["model_name"], []).append(
                    Route(
                        model,
                        _resolve(params.get("api_base"), gateway.env),
                        _resolve(params.get("api_key"), gateway.env),
                        float(timeout) if timeout else None,
                        entry["model_name"],
                        int(params.get("order") or 0),
                        str(params.get("api_key") or ""),
                    )
                )
        for group in routes.values():
            group.sort(key=lambda r: r.order)
        base, key = gateway.env.get("ANTHROPIC_API_BASE"), gateway.env.get("ANTHROPIC_API_KEY")
        router = gateway.config.get("router_settings") or {}
        aliases = router.get("model_group_alias") or {}
        fallbacks = {
            k: v[0] for entry in router.get("fallbacks") or [] for k, v in entry.items() if v
        }
        return cls(
            _resolve(master, gateway.env),
            routes,
            dict(aliases),
            dict(gateway.virtual_keys),
            Route("", base, key or "") if base else None,
            faults,
            fallbacks,
        )


class ServerState(Protocol):
    """What a request handler reads and writes on its server (harness.gateway.reference.server)."""

    cfg: ReferenceConfig
    benched_until: float  # bench-all-after-error: when every model serves again
    benched: dict[int, float]  # a deployment (by id) -> when it serves again
    carried: dict[str, object]  # sticky-fields: the fields the last request set

    def first_time(self, request: str) -> bool: ...

    def log(self, line: str) -> None: ...
