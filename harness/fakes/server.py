"""The base of every fake provider: routing, per-route scripts, strictness, cassette replay and
lifecycle.

The journal is :mod:`harness.fakes.journal`; the HTTP server and its framing are
:mod:`harness.fakes.wire`.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import ClassVar, Self

from vcr.request import Request

from harness.errors import HarnessError
from harness.fakes import live
from harness.fakes.journal import HOP_BY_HOP, RecordedRequest, WireResponse
from harness.fakes.rules import Rule
from harness.fakes.script import Fault, HttpError, Live, Recorded, Reply, Scripted
from harness.fakes.strict import refusal
from harness.fakes.wire import ProviderServer
from harness.tapes.matching import ReplayMiss, play


class UnexpectedRequestError(AssertionError):
    """A provider received a request the test did not script."""


class UnusedScriptError(AssertionError):
    """A provider was scripted an answer nobody asked for (respx's assert_all_called)."""


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
        self.lenient_rules: frozenset[str] = (
            frozenset()
        )  # rules a check waived by name (lenient_provider(rules=...))
        self._lock = threading.Lock()
        # Per route: (answer, times left or None for every request, which requests it is for,
        # optional: True, or the name of a group of alternatives of which one must be used).
        self._queues: dict[
            str,
            deque[
                tuple[Scripted, int | None, Callable[[RecordedRequest], bool] | None, bool | str]
            ],
        ] = {}
        self._groups_used: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self.unexpected: list[RecordedRequest] = []
        self.miss_texts: list[str] = []
        self._server: ProviderServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------
    def start(self) -> Self:
        self._server = ProviderServer(self)
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
            self._groups_used.clear()

    # scripting -----------------------------------------------------------
    def script(
        self,
        route: str,
        item: Scripted,
        times: int | None = 1,
        when: Callable[[RecordedRequest], bool] | None = None,
        optional: bool | str = False,
    ) -> None:
        """Answer the next ``times`` requests on ``route`` with ``item`` (None: every one).

        ``when`` keeps the answer for the requests it accepts: a client such as Claude Code sends
        side requests (warm-ups, titles) in an order of its own, and one of them must not take an
        answer scripted for its main turn.

        An answer with a finite ``times`` that is not all used fails the check at teardown (respx's
        ``assert_all_called``): a check that scripts an answer expects the gateway to ask for it.
        ``optional`` exempts the answers a gateway may rightly never ask for (a side request, a
        count it makes itself); a string names a group of alternatives (the same answer on two
        routes, one of which the gateway uses), which is unused only when none of its members was
        asked for.
        """
        if route not in set(self.routes.values()):
            raise ValueError(
                f"fake {self.name} has no route {route!r}; it has {sorted(self.routes.values())}"
            )
        with self._lock:
            self._queues.setdefault(route, deque()).append((item, times, when, optional))

    def refuse(self, request: RecordedRequest) -> tuple[Rule, HttpError] | None:
        """The provider rule this request breaks and the real provider's refusal (see
        harness.fakes.strict)."""
        return refusal(self.name, request)

    def _next(self, request: RecordedRequest) -> int | None:
        queue = self._queues.get(request.route or "") or ()
        return next(
            (i for i, (_, _, when, _) in enumerate(queue) if when is None or when(request)), None
        )

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
            item, times, when, optional = queue[index]
            if isinstance(optional, str):
                self._groups_used.add(optional)
            if times is not None:
                if times <= 1:
                    del queue[index]
                else:
                    queue[index] = (item, times - 1, when, optional)
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

    def settle(
        self,
        quiet: float = 0.5,
        limit: float = 10.0,
        only: Callable[[RecordedRequest], bool] | None = None,
    ) -> None:
        """Wait until no request has arrived for ``quiet`` seconds (at most ``limit``); with
        ``only``, no request it picks out (one job's among others that share the fake, issue 38).

        A client such as the Claude Code CLI may exit while background requests it
        fired are still travelling through the gateway; waiting for them here keeps
        them from landing in the next test.
        """

        def count_now() -> int:
            return len([r for r in self.received() if only is None or only(r)])

        deadline = time.monotonic() + limit
        count = count_now()
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = count_now()
            if now != count:
                count, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return

    def unused(self) -> list[str]:
        """The scripted answers still waiting, finite and not optional:
        ``route: answer (n left)``."""
        with self._lock:
            return [
                f"{route}: {_describe(item)} ({times} left)"
                for route, queue in self._queues.items()
                for item, times, _, optional in queue
                if times is not None
                and optional is not True
                and not (isinstance(optional, str) and optional in self._groups_used)
            ]

    def assert_all_called(self) -> None:
        if unused := self.unused():
            raise UnusedScriptError(
                f"fake {self.name} provider was scripted answers the gateway never asked for "
                "(did it answer itself, or send the request elsewhere?):\n"
                + "\n".join(f"  {u}" for u in unused)
            )

    def assert_no_unexpected(self) -> None:
        if self.unexpected:
            lines = "\n".join(f"  {r.method} {r.path} {r.body!r:.200}" for r in self.unexpected)
            misses = "\n".join(self.miss_texts)
            raise UnexpectedRequestError(
                f"fake {self.name} provider got {len(self.unexpected)} request(s) "
                f"nobody scripted:\n{lines}"
                + (
                    f"\nreplay misses (the request beside the closest recorded one):\n{misses}"
                    if misses
                    else ""
                )
            )

    # dispatch ------------------------------------------------------------
    def route_for(self, request: RecordedRequest) -> str | None:
        """The route a request is for; providers with ids in their paths override this."""
        return self.routes.get((request.method, request.path))

    def handle(self, request: RecordedRequest) -> WireResponse:
        request.route = self.route_for(request)
        refused = (
            None
            if isinstance(self._peek(request), Recorded) or not self.strict
            else self.refuse(request)
        )
        if refused is not None and refused[0].id in self.lenient_rules:
            request.labels["rule waived"] = refused[
                0
            ].id  # the real provider would refuse; this check said why not
            refused = None
        if refused is not None:
            rule, error = refused
            request.labels["rule"] = rule.id
            request.answer = f"refused by {rule.cite}: {error.status} {error.type}"
            request.source = "synthetic"
            with self._lock:
                self.requests.append(request)
            return self.render(request, error)
        item = self._take(request)
        request.answer = "unscripted" if item is None else "scripted"
        request.source = "" if item is None else live.source_of(item)
        with self._lock:
            self.requests.append(request)
            if item is None:
                self.unexpected.append(request)
        if item is None:
            return self.unscripted(request)
        if isinstance(item, Recorded):
            return self._replay(request, item)
        if isinstance(item, Live):
            request.answer = live.source_of(item)
            return live.render(item)
        if isinstance(item, Fault):
            response = (
                self.render(request, item.reply) if item.reply is not None else WireResponse(200)
            )
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
        wanted = Request(
            request.method,
            f"{self.url}{request.path}{'?' + query if query else ''}",
            request.raw_body,
            request.headers,
        )
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


def _describe(item: Scripted) -> str:
    """A scripted answer in one short line, for a teardown complaint."""
    return repr(item)[:120]
