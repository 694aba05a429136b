"""The reference gateway's HTTP: authenticate, route, forward, relay streams frame by frame;
misbehave on request."""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from harness.claude_code import PROBE_TIMEOUT_S
from harness.gateway.reference import admin, rewrites
from harness.gateway.reference.config import (
    KNOWN_FIELDS,
    GatewayFault,
    Route,
)
from harness.gateway.reference.relay import Relaying
from harness.gateway.reference.upstream import UpstreamSockets, hang_up_when_client_leaves
from harness.protocol import loopback

# The provider answers after which a deployment sits out while its group has another (as LiteLLM's
# cooldowns).
COOLDOWN_STATUSES = frozenset({404, 429, 500, 502, 503, 529})
# The x- headers refuse-custom-headers lets through: the key, and what Claude Code itself sends.
KNOWN_X_HEADERS = ("x-api-key", "x-app", "x-stainless-", "x-claude-code-")
STICKY = ("max_tokens", "temperature", "top_k")  # what sticky-fields carries to the next request


class ReferenceHandler(Relaying):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        line = f"{self.command} {self.path} -> " + (format % args)
        if "master-key-in-log" in self.cfg.faults:
            line += f" (master key {self.cfg.master_key})"
        self.server.log(line)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        """Claude Code's startup probe: answered at once with 404 (slowly under slow-probe)."""
        if "slow-probe" in self.cfg.faults:  # past the time Claude Code waits for it
            time.sleep(PROBE_TIMEOUT_S + 1.0)
        self.send_response(500 if "probe-500" in self.cfg.faults else 404)
        self.send_header("content-length", "0")
        self.end_headers()

    def _dispatch(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        faults = self.cfg.faults
        # query-routes matches routes on the whole target, so ?beta=true finds none.
        path = self.path if "query-routes" in faults else urlsplit(self.path).path
        try:
            if "refuse-custom-headers" in faults:
                self._refuse_unknown_headers()
            if (
                path in ("/health", "/health/liveliness", "/health/readiness")
                and "health-needs-key" not in faults
            ):
                return self._json(200, {"status": "healthy"})
            if admin.is_admin(path):
                return admin.answer(self, path, raw, self.headers)
            key = self._authenticate()
            if path.startswith("/health"):
                return self._json(200, {"status": "healthy"})
            if path.startswith("/anthropic/"):
                return self._passthrough(raw)
            if path == "/v1/models" and self.command == "GET":
                if "slow-models" in faults:
                    time.sleep(3.5)
                if "redirect-models" in faults and urlsplit(self.path).query:
                    return self._redirect("/v1/models")
                return self._json(200, self._models(key))
            if path in ("/v1/messages", "/v1/messages/count_tokens") and self.command == "POST":
                return self._messages(path, raw, key)
            raise GatewayFault(404, f"no route {self.command} {path}")
        except GatewayFault as fault:
            self._error(fault.status, fault.message)

    def _refuse_unknown_headers(self) -> None:
        for name in self.headers:
            lower = name.lower()
            if lower.startswith("x-") and not lower.startswith(KNOWN_X_HEADERS):
                raise GatewayFault(400, f"header {name} is not allowed")

    # auth and routing ----------------------------------------------------
    def _authenticate(self) -> str:
        key = admin.presented_key(self.headers)
        if "no-auth" in self.cfg.faults or not self.cfg.master_key:
            return self.cfg.master_key
        if key == self.cfg.master_key or key in self.cfg.virtual_keys:
            return key
        raise GatewayFault(
            400 if "bad-key-400" in self.cfg.faults else 401, "invalid x-api-key or bearer token"
        )

    def _route(self, model: Any, key: str) -> Route:
        if not isinstance(model, str) or not model:
            raise GatewayFault(400, "model: field required")
        name = self.cfg.aliases.get(model, model)
        if "suffix-500" in self.cfg.faults and "[" in name:
            raise GatewayFault(500, f"cannot parse model {model!r}")
        if "unknown-model-to-default" in self.cfg.faults and name not in self.cfg.routes:
            name = next(iter(self.cfg.routes))
        allowed = self.cfg.virtual_keys.get(key)
        if allowed is not None and name not in allowed:
            raise GatewayFault(403, f"this key may not use model {model!r}")
        if name not in self.cfg.routes:
            raise GatewayFault(
                400 if "unknown-model-400" in self.cfg.faults else 404, f"model: {model}"
            )
        now = time.monotonic()
        serving = [r for r in self.cfg.routes[name] if now >= self.server.benched.get(id(r), 0.0)]
        if now < self.server.benched_until or not serving:
            raise GatewayFault(429, "every deployment is in cooldown")
        return serving[0]

    def _models(self, key: str) -> dict[str, Any]:
        faults = self.cfg.faults
        allowed = None if "list-all-models" in faults else self.cfg.virtual_keys.get(key)
        names = [n for n in self.cfg.routes if allowed is None or n in allowed]
        if "models-first-page" in faults:
            names = names[:10]
        if "list-unserved-ids" in faults:
            names = [f"{n}-listed" for n in names]
        if "openai-model-list" in faults:
            return {
                "object": "list",
                "data": [
                    {"id": n, "object": "model", "created": 0, "owned_by": "gateway"} for n in names
                ],
            }
        data = [
            {"type": "model", "id": n, "display_name": n, "created_at": "2025-01-01T00:00:00Z"}
            for n in names
        ]
        return {
            "data": data,
            "has_more": False,
            "first_id": names[0] if names else None,
            "last_id": names[-1] if names else None,
        }

    # forwarding ----------------------------------------------------------
    def _messages(self, path: str, raw: bytes, key: str) -> None:
        body = self._parse(raw, count_only=path.endswith("count_tokens"))
        route = self._route(body.get("model"), key)
        if "invent-count" in self.cfg.faults and path.endswith("count_tokens"):
            return self._json(200, {"input_tokens": max(1, len(raw) // 4)})
        body["model"] = route.model
        if "substitute-model" in self.cfg.faults:
            body["model"] = self._another_model(route)
        self._body = raw
        if "drop-fields" in self.cfg.faults:
            body = {k: v for k, v in body.items() if k in KNOWN_FIELDS}
        if "inject-refused-field" in self.cfg.faults and not path.endswith("count_tokens"):
            body["stream_options"] = {"include_usage": True}
        body = rewrites.rewrite_request(body, self.cfg.faults)
        if "sticky-fields" in self.cfg.faults:
            # One request's settings reach the next (LiteLLM #22249's max_tokens: 32000).
            carried, self.server.carried = (
                self.server.carried,
                {k: body[k] for k in STICKY if k in body},
            )
            body = {**body, **carried}
        self._streamed = body.get("stream") is True
        query = urlsplit(self.path).query
        self._forward(route, path + (f"?{query}" if query else ""), json.dumps(body).encode())

    def _another_model(self, route: Route) -> str:
        """A model the same provider serves under another name (substitute-model)."""
        same_provider = (
            r.model
            for rs in self.cfg.routes.values()
            for r in rs
            if r.api_base == route.api_base and r.model != route.model
        )
        other = next(same_provider, None)
        if other is None:
            raise GatewayFault(500, "substitute-model: no other model on this provider")
        return other

    def _redirect(self, location: str) -> None:
        self.send_response(307)
        self.send_header("location", location)
        self.send_header("content-length", "0")
        self.end_headers()

    def _cool_down(self, route: Route) -> None:
        """A deployment that failed sits out 5 s while its group has another; a group's only one
        stays in."""
        group = self.cfg.routes.get(route.name, [])
        if any(r is not route for r in group):
            self.server.benched[id(route)] = time.monotonic() + 5.0

    def _parse(self, raw: bytes, count_only: bool) -> dict[str, Any]:
        try:
            body = json.loads(raw)
        except ValueError as exc:
            status = 500 if "server-error-on-bad-json" in self.cfg.faults else None
            raise self._client_mistake(f"invalid JSON: {exc}", status) from None
        if not isinstance(body, dict):
            raise self._client_mistake("the body must be a JSON object")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise self._client_mistake("messages: a non-empty list is required")
        if not count_only and not isinstance(body.get("max_tokens"), int):
            raise self._client_mistake("max_tokens: field required")
        return body

    def _client_mistake(self, message: str, status: int | None = None) -> GatewayFault:
        return GatewayFault(
            status or (500 if "server-error-on-bad-request" in self.cfg.faults else 400), message
        )

    def _passthrough(self, raw: bytes) -> None:
        if self.cfg.passthrough is None:
            raise GatewayFault(404, "no pass-through upstream configured")
        path = self.path.removeprefix("/anthropic")
        if "passthrough-messages-only" in self.cfg.faults and not urlsplit(path).path.endswith(
            "/v1/messages"
        ):
            raise GatewayFault(404, f"no pass-through route for {urlsplit(path).path}")
        if "passthrough-normalizes" in self.cfg.faults:
            raw = json.dumps(
                {k: v for k, v in json.loads(raw).items() if k in KNOWN_FIELDS}
            ).encode()
        self._streamed = b'"stream": true' in raw or b'"stream":true' in raw
        self._forward(self.cfg.passthrough, path, raw)

    def _forward(self, route: Route, path: str, body: bytes) -> None:
        faults = self.cfg.faults
        timeout = None if "no-timeout" in faults else route.timeout
        # A client per call: closing it hangs up on the provider, whoever is waiting on it.
        sockets = UpstreamSockets()
        transport = loopback.transport()
        transport._pool = httpcore.ConnectionPool(
            network_backend=sockets
        )  # httpx offers no other way in
        with httpx.Client(timeout=httpx.Timeout(timeout or 600.0), transport=transport) as client:
            response = self._send(client, sockets, route, path, body)
            try:
                if response.status_code >= 400:
                    if "bench-all-after-error" in faults:
                        self.server.benched_until = time.monotonic() + 5.0
                    elif response.status_code in COOLDOWN_STATUSES:
                        self._cool_down(route)
                    if "provider-key-in-error" in faults:
                        response.read()
                        return self._error(
                            response.status_code,
                            f"the provider refused key {route.api_key}: {response.text}",
                        )
                    if "openai-errors" in faults:
                        response.read()
                        return self._error(response.status_code, response.text)
                    if response.status_code == 529 and "overload-as-500" in faults:
                        response.read()
                        return self._error(500, f"upstream error: {response.text}")
                    if "errors-as-500" in faults:
                        response.read()
                        return self._error(
                            500, f"upstream error {response.status_code}: {response.text}"
                        )
                    if "stream-refusal-as-200" in faults and self._streamed:
                        response.read()
                        return self._stream_error_as_200(response)
                self._relay(response, route)
            finally:
                response.close()

    def _send(
        self, client: httpx.Client, sockets: UpstreamSockets, route: Route, path: str, body: bytes
    ) -> httpx.Response:
        """The provider's answer (its head, not yet its body), given up if the client leaves
        meanwhile."""
        request = client.build_request(
            self.command,
            route.api_base.rstrip("/") + path,
            content=body,
            headers=self._upstream_headers(route),
        )
        # A gateway that retries for nobody does not watch its client either: its first attempt
        # always ends in the provider's answer, however soon the client leaves (no race with the
        # hang-up).
        watching = not self.cfg.faults & {"keep-upstream-after-leave", "retry-for-nobody"}
        done = threading.Event()
        if watching:
            threading.Thread(
                target=hang_up_when_client_leaves,
                args=(self.connection, sockets, done),
                daemon=True,
            ).start()
        try:
            retries = 2 if "retry-for-nobody" in self.cfg.faults else 0
            response = client.send(request, stream=True)
            while retries and (response.status_code == 429 or response.status_code >= 500):
                response.close()
                time.sleep(float(response.headers.get("retry-after") or 1))
                retries -= 1
                response = client.send(request, stream=True)
            return response
        except httpx.TimeoutException:
            raise GatewayFault(
                504,
                f"the provider did not answer within the deployment's {route.timeout} s timeout",
            ) from None
        except httpx.HTTPError as exc:
            raise GatewayFault(500, f"upstream unreachable: {exc}") from None
        finally:
            done.set()


# The faults that rewrite what the client sent before it is forwarded.
