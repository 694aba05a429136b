"""The fakes' HTTP: a threading server on loopback, the handler that writes answers and scripted
faults, SSE framing.

Each fake is a real ``ThreadingHTTPServer`` on 127.0.0.1 and an ephemeral port,
so the real LiteLLM subprocess talks to it over real sockets. Nagle is off:
with it on, every proxied request pays ~60 ms of delayed-ACK stall instead of ~13 ms
(measured, see DESIGN.md).
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from harness.fakes.journal import RecordedRequest, WireResponse

DROP_BODY_PAUSE_S = 0.1


class Answers(Protocol):
    """What the server asks of a fake provider (:class:`harness.fakes.server.FakeProvider`): an
    answer per request."""

    def handle(self, request: RecordedRequest) -> WireResponse: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: ProviderServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the journal is the log; stderr noise would drown pytest's output

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        headers: dict[str, str] = {}
        for key, value in self.headers.items():
            k = key.lower()
            headers[k] = f"{headers[k]}, {value}" if k in headers else value
        request = RecordedRequest(
            self.command, url.path, parse_qs(url.query, keep_blank_values=True), headers, raw, None
        )
        response = self.server.provider.handle(request)
        request.response_status = response.status
        request.response_body = (
            response.body if response.chunks is None else b"".join(c for _, c in response.chunks)
        )
        request.response_pauses = [pause for pause, _ in response.chunks or []]
        request.response_headers = dict(response.headers)
        request.response_chunks = (
            None if response.chunks is None else [c for _, c in response.chunks]
        )
        if response.fault is not None:
            request.fault = response.fault.kind
            self._fault(response, request)
            return
        self._write(response, request)

    def _fault(self, response: WireResponse, request: RecordedRequest) -> None:
        """Misbehave as scripted, then drop the connection the way a dying upstream does."""
        fault = response.fault
        assert fault is not None
        self.close_connection = True
        if fault.kind == "silence":
            if _watch_for_hangup(self.connection, fault.seconds):
                request.peer_gone_at = time.monotonic()
                return
            if fault.reply is not None:
                self._write(response, request)
            return
        if fault.kind == "drop-body":
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body[: len(response.body) // 2])
            self.wfile.flush()
            # The half body is on the wire before the connection dies, as a real drop mid-body is
            # seen: without the pause a gateway that relays as it reads met the reset before the
            # status line in some runs and after it in others (issue 41, Anthropic's gateway).
            time.sleep(DROP_BODY_PAUSE_S)
        else:
            response.chunks = (response.chunks or [])[: fault.after]
            self._write(response, request, finish=False)
        self.wfile.flush()
        _abort(self.connection)

    def _write(self, response: WireResponse, request: RecordedRequest, finish: bool = True) -> None:
        emitted = request.emitted_at
        self.send_response(response.status)
        for key, value in response.headers.items():
            self.send_header(key, value)
        if response.chunks is None:
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            self.wfile.flush()
            emitted.append(time.monotonic())
            return
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        try:
            for pause, chunk in response.chunks:
                if pause:
                    time.sleep(pause)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                emitted.append(time.monotonic())
            if finish:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            request.peer_gone_at = time.monotonic()
            self.close_connection = True  # the client gave up mid-stream; that is its right


def _watch_for_hangup(conn: socket.socket, seconds: float) -> bool:
    """Stay silent for ``seconds``; True as soon as the peer closes its end (EOF or reset)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([conn], [], [], min(left, 0.05))
        if ready:
            try:
                if conn.recv(1, socket.MSG_PEEK) == b"":
                    return True
            except OSError:
                return True
            time.sleep(0.01)  # bytes of a next request on a kept-alive connection: not a hang-up
    return False


def _abort(conn: socket.socket) -> None:
    """End the connection mid-answer: what is written stays readable, then EOF with the answer
    incomplete."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()


class ProviderServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a burst of connections from the gateway would wait on SYN
    # retransmits (1 s, 3 s, 7 s ...) and the fake, not the gateway, would set the load results.
    request_queue_size = 1024

    def __init__(self, provider: Answers) -> None:
        self.provider = provider
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients closing idle keep-alive connections is normal traffic, not a fault.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def sse_chunks(
    events: Iterator[tuple[str, Any]] | list[tuple[str, Any]], delay: float
) -> list[tuple[float, bytes]]:
    """Encode ``(event name, data)`` pairs as SSE frames, one chunk per event."""
    chunks = []
    for i, (name, data) in enumerate(events):
        payload = data if isinstance(data, str) else json.dumps(data)
        frame = (f"event: {name}\n" if name else "") + f"data: {payload}\n\n"
        chunks.append((delay if i else 0.0, frame.encode()))
    return chunks


SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
