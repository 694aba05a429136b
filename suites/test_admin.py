"""ADMIN: the management routes and the MCP endpoint stay closed to a caller without the master key,
whatever the request claims (issue 39, row 2).

LiteLLM before 1.84.0 chose which route's auth rules to apply from a URL Starlette rebuilt from the
Host header, so `Host: localhost:4000/#@attacker.example` reached /key/generate with no key
(CVE-2026-49468, GHSA-4xpc-pv4p-pm3w); its MCP endpoint swapped a failed key check for an empty
identity when the caller sent any Bearer token (CVE-2026-59822, GHSA-7488-6r32-c95q). Measured here:
LiteLLM 1.83.14 answers /model/info 200 (the config's models) and runs /health against the
providers for a forged Host; 1.108.7 answers the forged request as the plain one.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest

from harness.protocol.client import Exchange, GatewayClient

# Each management route with a body that changes nothing even where it is served: a gateway that
# fails here must not be reconfigured for the checks after it (the checks judge the refusal).
ADMIN_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/key/generate", {"models": [], "max_budget": 0}),
    ("GET", "/key/info", None),
    ("POST", "/user/new", {}),
    ("POST", "/model/new", {}),
    ("POST", "/config/update", {}),
    ("GET", "/spend/logs", None),
    ("GET", "/model/info", None),
]
WRONG_KEY = "sk-not-the-master-key-0000"
# The forms CVE-2026-49468's reports and testbeds used: a Host that carries a fragment, a path or
# a query, so the rebuilt URL names another route than the one dispatched.
FORGED_HOSTS = {
    "fragment": "localhost:{port}/#@attacker.example",
    "public-path": "localhost:{port}/health/liveliness#",
    "query": "localhost/openapi.json?x=",
}
SERVED = "served without the master key"


def _call(client: GatewayClient, method: str, path: str, body: Any, **kw: Any) -> Exchange:
    return client.request(
        method, path, json_body=body, validate=False, reason="a management route", **kw
    )


def _needs_a_master_key(proxy: Any) -> None:
    if not proxy.master_key:
        pytest.skip("the gateway under test has no master key: its management routes are open")


def _answer(ex: Exchange) -> str:
    """Status and error type: what a caller learns from a refusal."""
    try:
        body = json.loads(ex.text)
    except ValueError:
        return f"{ex.status}"
    error = body.get("error") if isinstance(body, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    return f"{ex.status} {kind}" if kind else f"{ex.status}"


@pytest.mark.req("ADMIN-001")
@pytest.mark.needs("admin-api")
@pytest.mark.parametrize("credential", ["no-key", "wrong-key"], ids=str)
def test_management_routes_refuse_a_caller_without_the_master_key(
    proxy, make_client, anthropic_provider, credential, observe
):
    """With the master key set, the management routes refuse a caller without it with 401 or 403,
    serve nothing and call no provider."""
    _needs_a_master_key(proxy)
    client = make_client(proxy.url, None if credential == "no-key" else WRONG_KEY)
    answers = {path: _call(client, method, path, body) for method, path, body in ADMIN_ROUTES}
    got = {path: ex.status for path, ex in answers.items()}
    observe("answers", got)
    observe(SERVED, [p for p, status in got.items() if 200 <= status < 300])
    reached = [r.path for r in anthropic_provider.received()]
    assert not reached, f"a management route called a provider: {reached}"
    wrong = {p: s for p, s in got.items() if s not in (401, 403)}
    assert not wrong, f"expected 401 or 403 on every management route, observed {wrong}"


@pytest.mark.req("ADMIN-002")
@pytest.mark.needs("admin-api")
@pytest.mark.parametrize("forgery", FORGED_HOSTS, ids=str)
def test_a_forged_host_header_changes_nothing_on_management_routes(
    proxy, make_client, anthropic_provider, forgery, observe
):
    """A forged Host header changes nothing: each management route answers a keyless caller with
    the same status and error type as without the forgery, and calls no provider."""
    _needs_a_master_key(proxy)
    client = make_client(proxy.url, None)
    host = FORGED_HOSTS[forgery].format(port=urlsplit(proxy.url).port)
    plain, forged = {}, {}
    for method, path, body in ADMIN_ROUTES:
        plain[path] = _answer(_call(client, method, path, body))
        forged[path] = _answer(_call(client, method, path, body, headers={"host": host}))
    moved = {p: f"{plain[p]} -> {forged[p]}" for p in plain if plain[p] != forged[p]}
    observe("answers moved by the forged Host", moved)
    observe(SERVED, [p for p, a in forged.items() if a.startswith("2")])
    reached = [r.path for r in anthropic_provider.received()]
    assert not reached, f"a forged request called a provider: {reached}"
    open_plain = [p for p, a in plain.items() if a.startswith("2")]
    assert not open_plain, f"served without any key, forged Host or not: {open_plain}"
    assert not moved, f"expected the plain request's answer with Host {host!r}, observed {moved}"


MCP_CALLS = {
    "initialize": {
        "protocolVersion": "2025-03-26",
        "capabilities": {},
        "clientInfo": {"name": "conformance", "version": "0"},
    },
    "tools/list": {},
}
MCP_HEADERS = {"accept": "application/json, text/event-stream"}


def _rpc(client: GatewayClient, method: str) -> Exchange:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": MCP_CALLS[method]}
    return client.request(
        "POST", "/mcp/", json_body=body, headers=MCP_HEADERS, validate=False, reason="JSON-RPC"
    )


def _opened(ex: Exchange) -> bool:
    """A JSON-RPC result came back (as JSON or as an SSE message event)."""
    said = ex.text + "".join(e.raw for e in ex.events or [])
    return 200 <= ex.status < 300 and '"result"' in said


@pytest.mark.req("ADMIN-003")
@pytest.mark.gateway("mcp")
def test_mcp_endpoint_opens_no_session_for_a_fabricated_bearer(
    proxy, gateway, make_client, observe
):
    """The MCP endpoint opens no session for a fabricated Bearer token, while the master key opens
    it."""
    _needs_a_master_key(proxy)
    if not _opened(_rpc(gateway, "initialize")):
        pytest.skip("the gateway serves no MCP endpoint: the master key opens no session either")
    fabricated = make_client(proxy.url, "sk-fabricated-0000")
    opened = {m: _opened(_rpc(fabricated, m)) for m in MCP_CALLS}
    observe(SERVED, [m for m, yes in opened.items() if yes])
    assert not any(opened.values()), (
        f"expected no JSON-RPC result for a made-up Bearer token, observed one for {opened}"
    )
