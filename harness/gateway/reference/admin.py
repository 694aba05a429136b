"""The reference gateway's management routes and MCP endpoint: open to the master key only.

They exist so the ADMIN checks (issue 39, row 2) have a clean gateway to pass and two faults to
fail them: ``host-route-confusion`` judges auth on the URL rebuilt from the Host header, as LiteLLM
before 1.84.0 did (CVE-2026-49468, GHSA-4xpc-pv4p-pm3w); ``mcp-any-bearer`` opens an MCP session
for any Bearer token, as its OAuth2 pass-through fallback did (CVE-2026-59822,
GHSA-7488-6r32-c95q).
"""

from __future__ import annotations

import json
from email.message import Message
from typing import Any, Protocol

from harness.gateway.reference.config import GatewayFault, ReferenceConfig

# LiteLLM's management routes the ADMIN checks call (the quickstart's master key guards them).
ADMIN_PATHS = frozenset(
    {
        "/key/generate",
        "/key/info",
        "/user/new",
        "/model/new",
        "/config/update",
        "/spend/logs",
        "/model/info",
    }
)
MCP_PATH = "/mcp"


class Answering(Protocol):
    @property
    def cfg(self) -> ReferenceConfig: ...

    def _json(self, status: int, payload: Any) -> None: ...


def is_admin(path: str) -> bool:
    return path in ADMIN_PATHS or path.rstrip("/") == MCP_PATH


def presented_key(headers: Message) -> str:
    """The key a caller sent: a Bearer token, else x-api-key."""
    auth = str(headers.get("authorization", ""))
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return str(headers.get("x-api-key", ""))


def answer(handler: Answering, path: str, raw: bytes, headers: Message) -> None:
    cfg = handler.cfg
    opened = presented_key(headers) == cfg.master_key or "no-auth" in cfg.faults
    if path.rstrip("/") == MCP_PATH:
        bearer = str(headers.get("authorization", "")).lower().startswith("bearer ")
        if not (opened or ("mcp-any-bearer" in cfg.faults and bearer)):
            raise GatewayFault(401, "the MCP endpoint needs the master key")
        return handler._json(200, _mcp_result(raw))
    # A Host that carries a path ("localhost:4000/#@x") made Starlette rebuild another route's URL.
    confused = "host-route-confusion" in cfg.faults and "/" in str(headers.get("host", ""))
    if not (opened or confused):
        raise GatewayFault(401, "this management route needs the master key")
    handler._json(200, {"route": path, "models": sorted(cfg.routes)})


def _mcp_result(raw: bytes) -> dict[str, Any]:
    try:
        rpc = json.loads(raw)
    except ValueError:
        raise GatewayFault(400, "the MCP endpoint takes JSON-RPC") from None
    if not isinstance(rpc, dict):
        raise GatewayFault(400, "the MCP endpoint takes JSON-RPC")
    if rpc.get("method") == "initialize":
        result: dict[str, Any] = {
            "protocolVersion": "2025-03-26",
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": "reference-gateway", "version": "0"},
        }
    else:
        result = {"tools": []}
    return {"jsonrpc": "2.0", "id": rpc.get("id"), "result": result}
