"""The reference gateway's answers: what it sends the provider's way and relays back, frame by
frame, with the faults that bend either (the handler's other half, :mod:`.handler`)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness.gateway.reference import rewrites, variations
from harness.gateway.reference.config import (
    HOP_BY_HOP,
    GatewayFault,
    ReferenceConfig,
    Route,
    ServerState,
)
from harness.protocol import loopback
from harness.protocol.validators.bodies import ERROR_TYPE_FOR_STATUS


class Relaying(BaseHTTPRequestHandler):
    """Headers to the provider, the provider's answer to the client, and the gateway's own
    errors."""

    server: ServerState  # type: ignore[assignment]  # the ReferenceServer that serves it
    _body = b""  # the Messages request as the client sent it (a fallback sends it again)
    _streamed = False  # whether the client asked for a stream

    @property
    def _variations(self) -> frozenset[str]:
        """The benign variations switched on (harness.gateway.reference.variations)."""
        return self.cfg.faults & variations.NAMES

    @property
    def cfg(self) -> ReferenceConfig:
        return self.server.cfg

    def _upstream_headers(self, route: Route) -> dict[str, str]:
        faults = self.cfg.faults
        headers = {
            k.lower(): v
            for k, v in self.headers.items()
            if k.lower() not in HOP_BY_HOP
            and not ("drop-mixed-case-headers" in faults and k != k.lower())
        }
        if "header-allowlist" in faults:
            headers = {
                k: v
                for k, v in headers.items()
                if k in ("anthropic-version", "anthropic-beta", "content-type", "accept")
            }
        if "drop-beta" in self.cfg.faults:
            headers.pop("anthropic-beta", None)
        headers["x-api-key"] = route.api_ref if "literal-env-refs" in faults else route.api_key
        if "leak-key" in self.cfg.faults and self.headers.get("authorization"):
            headers["authorization"] = self.headers["authorization"]
        return headers

    def _stream_error_as_200(self, response: httpx.Response) -> None:
        """A provider's refusal of a streamed request, answered as a 200 stream carrying an error
        event."""
        error = (response.json() if response.content else {}).get("error") or {}
        frame = rewrites.error_frame(
            str(error.get("type") or "api_error"), str(error.get("message") or response.text)
        )
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(frame)))
        self.end_headers()
        self.wfile.write(frame)

    def _relay(self, response: httpx.Response, route: Route) -> None:
        faults = self.cfg.faults
        passed = (
            ("content-type", "request-id")
            if "drop-backoff-headers" in faults
            else ("content-type", "retry-after", "request-id", "x-should-retry")
        )
        headers = [
            (name, value)
            for name, value in response.headers.items()
            if name.lower() in passed
            or (
                name.lower().startswith("anthropic-ratelimit-")
                and "drop-backoff-headers" not in faults
            )
        ]
        headers += variations.headers(self._variations)
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            data = b""
            try:
                for chunk in response.iter_bytes():
                    data += chunk
            except httpx.HTTPError as exc:
                if "truncated-200" not in faults:
                    raise GatewayFault(
                        502, f"the provider's answer broke off mid-body: {exc}"
                    ) from None
            if response.status_code == 200:
                data = self._success_body(data)
            data = variations.body(data, self._variations)
            # The gateway protocol: retry-after, x-should-retry and the unified rate-limit headers
            # travel unchanged.
            self.send_response(response.status_code)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(response.status_code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        frames = (
            iter(())
            if "empty-200" in faults and response.status_code == 200
            else self._frames(response, route)
        )
        try:
            for frame in frames:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(frame), frame))
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            if "keep-upstream-after-leave" in faults:
                for _ in frames:
                    pass  # the answer nobody reads, read to its end
            return
        self.wfile.write(b"0\r\n\r\n")

    def _frames(self, response: httpx.Response, route: Route) -> Iterator[bytes]:
        """SSE frames as they arrive, with the stream faults applied; a broken provider stream ends
        in an error."""
        frames = rewrites.split_frames(response.iter_bytes())
        if "buffer-stream" in self.cfg.faults:
            frames = iter(list(frames))
        if "reorder-events" in self.cfg.faults:
            frames = rewrites.swap_second_and_third(frames)
        saw_error = False
        vary = self._variations  # once per stream, not per frame
        held: dict[str, Any] = {}  # what a frame rewrite remembers between frames
        deadline = time.monotonic() + 8.0 if "stream-deadline" in self.cfg.faults else None
        try:
            for frame in frames:
                saw_error = saw_error or frame.startswith(b"event: error")
                if "openai-errors" in self.cfg.faults:
                    frame = rewrites.openai_error_frame(frame)
                if self.cfg.faults & rewrites.FRAME_FAULTS:
                    frame = rewrites.rewrite_frame(frame, self.cfg.faults, held)
                if frame and vary:
                    yield from variations.frames(frame, vary)
                elif frame:
                    yield frame
                if deadline is not None and time.monotonic() > deadline:
                    yield rewrites.error_frame("api_error", "the stream's deadline passed")
                    return
        except httpx.HTTPError as exc:
            if "complete-broken-stream" in self.cfg.faults:
                yield (
                    b'event: message_delta\ndata: {"type": "message_delta", '
                    b'"delta": {"stop_reason": "end_turn", '
                    b'"stop_sequence": null}, "usage": {"output_tokens": 1}}\n\n'
                )
                yield b'event: message_stop\ndata: {"type": "message_stop"}\n\n'
                return
            yield rewrites.error_frame(
                "api_error", f"the provider's stream broke off: {type(exc).__name__}"
            )
            return
        if saw_error and "invent-message-stop" in self.cfg.faults:
            yield b'event: message_stop\ndata: {"type": "message_stop"}\n\n'
        backups = self.cfg.routes.get(self.cfg.fallbacks.get(route.name, ""), [])
        backup = backups[0] if backups else None
        if saw_error and backup is not None and "fallback-restart" in self.cfg.faults:
            body = json.loads(self._body or b"{}")
            with loopback.client(timeout=60) as client:
                request = client.build_request(
                    "POST",
                    backup.api_base.rstrip("/") + "/v1/messages",
                    json={**body, "model": backup.model},
                    headers=self._upstream_headers(backup),
                )
                again = client.send(request, stream=True)
                try:
                    yield from rewrites.split_frames(again.iter_bytes())
                finally:
                    again.close()

    def _success_body(self, data: bytes) -> bytes:
        """The provider's 200 as the client gets it: unchanged, or emptied or reshaped under a
        fault."""
        if "empty-200" in self.cfg.faults:
            return b"{}"
        if "openai-shaped-200" in self.cfg.faults:
            return json.dumps(rewrites.openai_shaped(json.loads(data))).encode()
        if self.cfg.faults & rewrites.ANSWER_FAULTS:
            with contextlib.suppress(ValueError):
                return json.dumps(
                    rewrites.rewrite_answer(json.loads(data), self.cfg.faults)
                ).encode()
        return data

    def _json(self, status: int, payload: Any) -> None:
        if status == 200 and "empty-200" in self.cfg.faults:
            payload = {}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _first_time(self, status: int, message: str) -> bool:
        """Whether this error (method, path, status, message) is new to the server: the
        alternate-errors coin.

        Not the body: a check's second run may use a fresh deployment name, and must still count as
        the same.
        """
        return self.server.first_time(
            f"{self.command} {urlsplit(self.path).path} {status} {message}"
        )

    def _error(self, status: int, message: str) -> None:
        kind = ERROR_TYPE_FOR_STATUS.get(status, "api_error")
        flaky = "alternate-errors" in self.cfg.faults and self._first_time(status, message)
        if "openai-errors" in self.cfg.faults or flaky:
            return self._json(
                status, {"error": {"message": message, "type": kind, "code": str(status)}}
            )
        self._json(status, {"type": "error", "error": {"type": kind, "message": message}})
