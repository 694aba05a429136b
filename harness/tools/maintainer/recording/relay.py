"""The recording relay: a loopback HTTP server between LiteLLM and a provider that writes down both
sides.

It forwards each request to the upstream (the real provider, or a loopback stand-in)
unchanged except for ``accept-encoding: identity`` (so bodies are recorded as the
provider's bytes, not gzip), streams the answer back to LiteLLM chunk by chunk as it
arrives, and keeps every exchange as a vcrpy request and response, with the time
between chunks. Scrubbing happens later, before anything is written.
"""

from __future__ import annotations

import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from vcr.request import Request

from harness.tapes import Interaction

HOP_BY_HOP = {
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "accept-encoding",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._relay()

    def do_POST(self) -> None:
        self._relay()

    def _relay(self) -> None:
        with self.server.lock:
            self.server.inflight += 1
        try:
            self._forward()
        finally:
            with self.server.lock:
                self.server.inflight -= 1

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        url = self.server.upstream.rstrip("/") + self.path
        request = Request(self.command, url, body, {**headers, "accept-encoding": "identity"})
        upstream = self.server.client.build_request(
            self.command, url, content=body, headers={**headers, "accept-encoding": "identity"}
        )
        try:
            response = self.server.client.send(upstream, stream=True)
        except httpx.HTTPError as exc:
            self.server.failures.append(f"{self.command} {url}: {exc}")
            self.send_error(502, "recording relay: upstream unreachable")
            return
        try:
            self._answer(request, response)
        finally:
            response.close()

    def _answer(self, request: Request, response: httpx.Response) -> None:
        self.send_response(response.status_code)
        kept = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in HOP_BY_HOP | {"content-encoding"}
        }
        for k, v in kept.items():
            self.send_header(k, v)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        chunks: list[tuple[float, bytes]] = []
        last = time.monotonic()
        for chunk in response.iter_raw():
            now = time.monotonic()
            chunks.append((round(now - last, 4) if chunks else 0.0, chunk))
            last = now
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.server.keep(request, response, kept, chunks)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # LiteLLM closing an idle keep-alive connection is normal traffic, not a fault.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.client = httpx.Client(timeout=120, trust_env=False, follow_redirects=False)
        self.lock = threading.Lock()
        self.recorded: list[Interaction] = []
        self.failures: list[str] = []
        self.inflight = 0
        super().__init__(("127.0.0.1", 0), _Handler)

    def keep(
        self,
        request: Request,
        response: httpx.Response,
        headers: dict[str, str],
        chunks: list[tuple[float, bytes]],
    ) -> None:
        streamed = response.headers.get("content-type", "").startswith("text/event-stream")
        answer: dict[str, Any] = {
            "status": {"code": response.status_code, "message": response.reason_phrase},
            "headers": {k: [v] for k, v in headers.items()},
            "body": {"string": b"".join(c for _, c in chunks)},
        }
        if streamed:
            answer["chunks"] = [[pause, len(c)] for pause, c in chunks]
        with self.lock:
            self.recorded.append(Interaction(request, answer))


class RecordingRelay:
    """Start, collect per scenario with :meth:`take`, stop."""

    def __init__(self, upstream: str) -> None:
        self._server = _Server(upstream)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="recording-relay", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def take(self) -> tuple[list[Interaction], list[str]]:
        """What was recorded since the last take, and any upstream failures.

        LiteLLM may answer its client a moment before the relay has filed the exchange,
        so this waits (briefly) for the relay to be idle first.
        """
        deadline = time.monotonic() + 10
        while self._server.inflight and time.monotonic() < deadline:
            time.sleep(0.02)
        with self._server.lock:
            got, self._server.recorded = self._server.recorded, []
            failed, self._server.failures = self._server.failures, []
        return got, failed

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._server.client.close()
