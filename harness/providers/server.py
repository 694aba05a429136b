"""A scripted, journalling HTTP server on loopback: the base of every fake provider.

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
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

from vcr.request import Request

from harness.cassettes.matching import ReplayMiss, play
from harness.errors import HarnessError
from harness.providers.rules import Rule
from harness.providers.script import Fault, HttpError, Recorded, Reply, Scripted
from harness.providers.strict import refusal

# Framing is the server's own business: a replayed body is re-framed, never copied as it was.
HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"})


@dataclass
class RecordedRequest:
    """One request as the fake provider received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw_body: bytes
    route: str | None
    received_at: float = field(default_factory=time.monotonic)
    # Where the answer came from: "scripted", "recorded <cassette>", "standing" or "unscripted".
    answer: str = ""
    # What the provider answered: the status and the body's bytes (a stream's, joined).
    response_status: int = 0
    response_body: bytes = b""
    response_pauses: list[float] = field(default_factory=list)  # before each chunk of a stream
    response_headers: dict[str, str] = field(default_factory=dict)
    response_chunks: list[bytes] | None = None  # a stream's chunks as written (None for a plain body)
    # The provider's clock: when each chunk (or the whole body) had been written (time.monotonic()).
    emitted_at: list[float] = field(default_factory=list)
    # When the provider saw the gateway hang up (a failed write, or EOF while it was silent); None if it did not.
    peer_gone_at: float | None = None
    fault: str = ""  # the transport fault scripted for this answer, if any
    # What a provider read off the request: a model id from the path, the auth it carried.
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def query_string(self) -> str:
        """The query as a string again (``beta=true``), or "" when there is none."""
        return "&".join(f"{k}={v}" for k, vs in self.query.items() for v in vs)

    @property
    def body(self) -> Any:
        """The body parsed as JSON, or the raw text when it is not JSON."""
        try:
            return json.loads(self.raw_body) if self.raw_body else None
        except ValueError:
            return self.raw_body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())



@dataclass
class WireResponse:
    """What the handler writes back: a body, or stream chunks each preceded by a pause."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: list[tuple[float, bytes]] | None = None
    fault: Fault | None = None

    @classmethod
    def json(cls, payload: Any, status: int = 200, **headers: str) -> WireResponse:
        return cls(status, {"content-type": "application/json", **headers}, json.dumps(payload).encode())


class UnexpectedRequestError(AssertionError):
    """A provider received a request the test did not script."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

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
        request.response_body = response.body if response.chunks is None else b"".join(c for _, c in response.chunks)
        request.response_pauses = [pause for pause, _ in response.chunks or []]
        request.response_headers = dict(response.headers)
        request.response_chunks = None if response.chunks is None else [c for _, c in response.chunks]
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
    """End the connection mid-answer: what is written stays readable, then EOF with the answer incomplete."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
        conn.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a burst of connections from the gateway would wait on SYN
    # retransmits (1 s, 3 s, 7 s ...) and the fake, not the gateway, would set the load results.
    request_queue_size = 1024

    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients closing idle keep-alive connections is normal traffic, not a fault.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeProvider:
    """Base class: routing, per-route reply queues, the journal, lifecycle.

    Subclasses declare ``routes`` (``(method, path) -> route name``) and implement
    :meth:`render` to turn a scripted item into that provider's wire format.
    """

    name = "fake"
    routes: ClassVar[dict[tuple[str, str], str]] = {}
    # Replies to the gateway's own housekeeping calls (not a test's doing); they
    # survive reset() and are journalled like everything else.
    standing: ClassVar[dict[str, Scripted]] = {}

    def __init__(self) -> None:
        # Refuse what the real provider refuses; a check may loosen this on purpose.
        self.strict = True
        self.lenient_rules: frozenset[str] = frozenset()  # rules a check waived by name (lenient_provider(rules=...))
        self._lock = threading.Lock()
        self._queues: dict[str, deque[tuple[Scripted, int | None, Callable[[RecordedRequest], bool] | None]]] = {}
        self.requests: list[RecordedRequest] = []
        self.unexpected: list[RecordedRequest] = []
        self.miss_texts: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------
    def start(self) -> Self:
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"fake-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None, f"fake {self.name} provider is not running"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        """Forget the script and the journal; called between tests."""
        with self._lock:
            self._queues.clear()
            self.requests.clear()
            self.unexpected.clear()
            self.miss_texts.clear()

    # scripting -----------------------------------------------------------
    def script(self, route: str, item: Scripted, times: int | None = 1,
               when: Callable[[RecordedRequest], bool] | None = None) -> None:
        """Answer the next ``times`` requests on ``route`` with ``item`` (None: every one).

        ``when`` keeps the answer for the requests it accepts: a client such as Claude Code sends
        side requests (warm-ups, titles) in an order of its own, and one of them must not take an
        answer scripted for its main turn.
        """
        if route not in set(self.routes.values()):
            raise ValueError(f"fake {self.name} has no route {route!r}; it has {sorted(self.routes.values())}")
        with self._lock:
            self._queues.setdefault(route, deque()).append((item, times, when))

    def refuse(self, request: RecordedRequest) -> tuple[Rule, HttpError] | None:
        """The provider rule this request breaks and the real provider's refusal (see harness.providers.strict)."""
        return refusal(self.name, request)

    def _next(self, request: RecordedRequest) -> int | None:
        queue = self._queues.get(request.route or "") or ()
        return next((i for i, (_, _, when) in enumerate(queue) if when is None or when(request)), None)

    def _peek(self, request: RecordedRequest) -> Scripted | None:
        with self._lock:
            index = self._next(request)
            return None if index is None else self._queues[request.route or ""][index][0]

    def _take(self, request: RecordedRequest) -> Scripted | None:
        with self._lock:
            index = self._next(request)
            if index is None:
                return self.standing.get(request.route or "")
            queue = self._queues[request.route or ""]
            item, times, when = queue[index]
            if times is not None:
                if times <= 1:
                    del queue[index]
                else:
                    queue[index] = (item, times - 1, when)
            return item

    # journal ---------------------------------------------------------------
    def received(self, route: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if route is None or r.route == route]

    def last(self, route: str | None = None) -> RecordedRequest:
        got = self.received(route)
        if not got:
            raise AssertionError(f"fake {self.name} received no request on route {route!r}")
        return got[-1]

    def settle(self, quiet: float = 0.5, limit: float = 10.0) -> None:
        """Wait until no request has arrived for ``quiet`` seconds (at most ``limit``).

        A client such as the Claude Code CLI may exit while background requests it
        fired are still travelling through the gateway; waiting for them here keeps
        them from landing in the next test.
        """
        deadline = time.monotonic() + limit
        count = len(self.received())
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = len(self.received())
            if now != count:
                count, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return

    def assert_no_unexpected(self) -> None:
        if self.unexpected:
            lines = "\n".join(f"  {r.method} {r.path} {r.body!r:.200}" for r in self.unexpected)
            misses = "\n".join(self.miss_texts)
            raise UnexpectedRequestError(
                f"fake {self.name} provider got {len(self.unexpected)} request(s) nobody scripted:\n{lines}"
                + (f"\nreplay misses (the request beside the closest recorded one):\n{misses}" if misses else "")
            )

    # dispatch ------------------------------------------------------------
    def route_for(self, request: RecordedRequest) -> str | None:
        """The route a request is for; providers with ids in their paths override this."""
        return self.routes.get((request.method, request.path))

    def handle(self, request: RecordedRequest) -> WireResponse:
        request.route = self.route_for(request)
        refused = None if isinstance(self._peek(request), Recorded) or not self.strict else self.refuse(request)
        if refused is not None and refused[0].id in self.lenient_rules:
            request.labels["rule waived"] = refused[0].id  # the real provider would refuse; this check said why not
            refused = None
        if refused is not None:
            rule, error = refused
            request.labels["rule"] = rule.id
            request.answer = f"refused by {rule.cite}: {error.status} {error.type}"
            with self._lock:
                self.requests.append(request)
            return self.render(request, error)
        item = self._take(request)
        request.answer = "unscripted" if item is None else "scripted"
        with self._lock:
            self.requests.append(request)
            if item is None:
                self.unexpected.append(request)
        if item is None:
            return self.unscripted(request)
        if isinstance(item, Recorded):
            return self._replay(request, item)
        if isinstance(item, Fault):
            response = self.render(request, item.reply) if item.reply is not None else WireResponse(200)
            response.fault = item
            return response
        response = self.render(request, item)
        if isinstance(item, Reply) and item.stall is not None and response.chunks:
            # Any provider's stream, whatever its framing: the pause goes before the chosen chunk.
            at, seconds = item.stall
            response.chunks[at] = (response.chunks[at][0] + seconds, response.chunks[at][1])
        return response

    def _replay(self, request: RecordedRequest, item: Recorded) -> WireResponse:
        query = request.query_string
        wanted = Request(request.method, f"{self.url}{request.path}{'?' + query if query else ''}",
                         request.raw_body, request.headers)
        try:
            played = play(item.player(), wanted, item.name)
        except (ReplayMiss, HarnessError) as exc:
            with self._lock:
                self.unexpected.append(request)
                self.miss_texts.append(str(exc))
            request.answer = f"replay miss {item.name}"
            return self.unscripted(request)
        request.answer = f"recorded {item.name}"
        headers = {k: v for k, v in played.headers.items() if k not in HOP_BY_HOP}
        chunks = played.chunks(item.speed)
        if chunks is None:
            return WireResponse(played.status, headers, played.body)
        return WireResponse(played.status, headers, chunks=chunks)

    def render(self, request: RecordedRequest, item: Scripted) -> WireResponse:
        raise NotImplementedError

    def unscripted(self, request: RecordedRequest) -> WireResponse:
        # 501 rather than 5xx-retryable codes keeps LiteLLM from hammering us with retries.
        return WireResponse.json(
            {"error": f"fake {self.name}: nothing scripted for {request.method} {request.path}"},
            status=501,
        )


def sse_chunks(events: Iterator[tuple[str, Any]] | list[tuple[str, Any]], delay: float) -> list[tuple[float, bytes]]:
    """Encode ``(event name, data)`` pairs as SSE frames, one chunk per event."""
    chunks = []
    for i, (name, data) in enumerate(events):
        payload = data if isinstance(data, str) else json.dumps(data)
        frame = (f"event: {name}\n" if name else "") + f"data: {payload}\n\n"
        chunks.append((delay if i else 0.0, frame.encode()))
    return chunks


SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}
