"""RESIL: the gateway as deployed (LiteLLM's default retries, timeout and cooldowns) under provider
and client faults, on every route: Anthropic, Bedrock InvokeModel and Converse, Vertex, OpenAI
through Responses and chat completions, and the /anthropic, /bedrock and /vertex_ai pass-throughs
(suites.support.routes).

Every fault is scripted in the route's own wire format (an AWS event stream cut mid-frame, a
ThrottlingException, Google's 429 envelope, an OpenAI error chunk). Each check takes its own
deployment from a pool so LiteLLM's cooldowns cannot carry one check's fault into the next, and most
end by asking the gateway to serve again. The checks that wait (a provider silent past the timeout,
past Claude Code's stall watchdog, or kept alive with pings) share one silence between all routes:
see ``TestSharedSilence``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.fakes import Fault, HttpError, RecordedRequest, Reply, StreamError, Text
from harness.fakes.server import FakeProvider
from harness.gateway.configs import PAIR_FIRST_IDS, fallback_group
from harness.gateway.targets import client_headers
from harness.protocol import loopback
from harness.protocol.client import Exchange, GatewayClient

from .support.answers import body_as_read
from .support.asserts import assert_anthropic_error
from .support.routes import (
    BY_NAME,
    CLOUD_BETA_RULES,
    ROUTES,
    Route,
    client_events,
    route_params,
    streamed_text,
)

# The Anthropic routes run on the reference gateway too (its faults prove the checks); the others
# need a translating gateway, and say so per route (suites.support.routes).
BOUND_S = 30.0  # no fault may hold Claude Code longer than this
HANGUP_S = 2.0  # an answer nobody reads must not keep billing longer than this


def paced(words: int) -> Reply:
    """A text answer streamed a word per chunk, 0.1 s apart."""
    chunks = tuple(f" word{i}" for i in range(words))
    return Reply(blocks=(Text("".join(chunks), chunks=chunks),), delay=0.1)


PACED = paced(40)
# Long enough that the provider is still writing when the client leaves, even when a loaded machine
# delays the gateway's first bytes by seconds; a gateway that hangs up in time ends it early.
LONG_PACED = paced(150)


def fake_for(request: pytest.FixtureRequest, route: Route) -> FakeProvider:
    fake: FakeProvider = request.getfixturevalue(f"{route.fake}_provider")
    return fake


def model_for(route: Route, fresh_model: Any, suffix: str = "") -> str | None:
    return None if route.pool is None else fresh_model(route.pool + suffix)


def assert_still_serving(
    route: Route, gateway: GatewayClient, fake: FakeProvider, fresh_model: Any, liveness: str
) -> None:
    """After the fault, the proxy is alive (its driver's liveness path answers 200) and another
    request on the route gets its answer."""
    fake.settle(quiet=0.3)  # retries of the fault may still be arriving
    fake.reset()
    assert gateway.request("GET", liveness).status == 200
    route.script(fake, Reply.text("still here"), stream=False)
    ex = route.send(gateway, model_for(route, fresh_model), stream=False)
    assert_answered(ex, "still here", "the gateway stopped serving")


def assert_answered(ex: Exchange, text: str, why: str) -> None:
    """A success judged by its content: the scripted text came back."""
    assert ex.status == 200, f"{why}: status {ex.status}\n{ex.transcript()}"
    assert text in ex.text, f"{why}: the answer lacks {text!r}\n{ex.transcript()}"


def assert_whole(route: Route, ex: Exchange, why: str) -> None:
    """A stream that ended as a whole answer does: 200, its connection intact, message_stop last."""
    types = client_events(route, ex)
    assert ex.status == 200, f"{why}: status {ex.status}\n{ex.transcript()}"
    assert not ex.broken, f"{why}: the connection broke\n{ex.transcript()}"
    assert types[-1:] == ["message_stop"], f"{why}: events {types}\n{ex.transcript()}"


def assert_gateway_error(route: Route, ex: Exchange, status: int | None = None) -> None:
    """An error in Anthropic's envelope; through a pass-through, the provider's own answer,
    relayed."""
    if route.passthrough:
        return
    assert_anthropic_error(ex, status)


def seconds_since(start: float) -> float:
    return round(time.monotonic() - start, 1)


# -------------------------------------------------- checks that wait, run together
# A check that waits (LiteLLM's retry back-offs, a silence) costs its wait; many such checks, run
# side by side against the one gateway, cost the longest wait once. A class of them shares a fixture
# that sends every case's request at once, each marked so the fakes answer it alone (`when`), and
# each check judges its own outcome.


@dataclass
class Outcome:
    """What one case's client and provider saw."""

    exchange: Exchange | None = None
    attempts: list[RecordedRequest] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""
    then: Exchange | None = None  # the follow-up request's, for a job that has one

    def judged(self) -> Exchange:
        assert self.exchange is not None, f"the request failed before any answer: {self.error}"
        return self.exchange


@dataclass
class Job:
    key: tuple[str, str]
    route: Route
    item: Any
    stream: bool
    gateway: str = ""  # the route's own unless named
    pool_suffix: str = ""
    then: Any = None  # a follow-up request's answer, once the first request is done
    then_on: str = (
        "same"  # the follow-up's deployment: "same" or "other" (a fresh one of the route)
    )
    # A two-deployment group (pool_suffix "-pair"): ``item`` answers its first deployment, ``then``
    # its second, for both requests.
    pair: bool = False


def class_items(request: pytest.FixtureRequest) -> list[pytest.Function]:
    """The class's checks in this session (only those selected), each with its parameters: of this
    class node, not of the same class collected again (the kill matrix's copy of the module under a
    fault)."""
    return [
        item
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.getparent(pytest.Class) is request.node
        and hasattr(item, "callspec")
        and not item.get_closest_marker("skip")
    ]


def _to_pair_first(r: RecordedRequest) -> bool:
    """Whether a request went to a pair's first deployment (its provider model id says so)."""
    return any(m in r.path or m in r.raw_body.decode("utf-8", "replace") for m in PAIR_FIRST_IDS)


def _marked(
    fake: FakeProvider,
    job: Job,
    marker: str,
    item: Any,
    deployment: Callable[[RecordedRequest], bool] | None = None,
) -> Any:
    """Script ``item`` for the requests carrying ``marker`` only (and going to ``deployment``); the
    predicate that tells them apart."""

    def mine(r: RecordedRequest) -> bool:
        return marker in r.raw_body.decode("utf-8", "replace") and (
            deployment is None or deployment(r)
        )

    route = job.route
    for name in route.fake_routes():
        if (
            name == (route.stream_route if job.stream else route.json_route)
            or route.fake == "openai"
        ):
            fake.script(name, item, times=None, when=mine)
    return mine


def _run(
    job: Job, fake: FakeProvider, client: GatewayClient, models: tuple[str | None, str | None]
) -> Outcome:
    marker = f"[{' '.join(job.key)}]"
    again = f"[{' '.join(job.key)} then]"
    if job.pair:
        for each in (marker, again):
            _marked(fake, job, each, job.item, _to_pair_first)
            _marked(fake, job, each, job.then, lambda r: not _to_pair_first(r))
    mine = (
        _marked(fake, job, marker, job.item)
        if not job.pair
        else (lambda r: marker in r.raw_body.decode("utf-8", "replace"))
    )
    started = time.monotonic()
    try:
        ex = job.route.send(client, models[0], stream=job.stream, text=marker)
    except Exception as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}", seconds=time.monotonic() - started)
    # The gateway's last retries of this job may still be on their way; the other jobs' traffic on
    # the same fake does not hold the next request back past a cooldown it is meant to meet (issue
    # 38: RESIL-005 flaked).
    fake.settle(quiet=0.3, only=mine)
    outcome = Outcome(
        ex, [r for r in job.route.received(fake) if mine(r)], time.monotonic() - started
    )
    if job.then is not None:
        if not job.pair:
            _marked(fake, job, again, job.then)
        outcome.then = job.route.send(client, models[1], stream=job.stream, text=again)
    return outcome


def run_together(
    request: pytest.FixtureRequest, proxy_pool: Any, jobs: list[Job]
) -> dict[tuple[str, str], Outcome]:
    """Every job's request at once, each on its own fresh deployment; the outcomes by job key."""
    prepared = []
    for job in jobs:
        fake: FakeProvider = request.getfixturevalue(f"make_{job.route.fake}_provider")
        proxy = proxy_pool.get(job.gateway or job.route.gateway)
        take = proxy_pool.ledger.take
        model = None if job.route.pool is None else take(proxy, job.route.pool + job.pool_suffix)
        other = (
            model
            if job.then_on == "same" or job.route.pool is None
            else take(proxy, job.route.pool)
        )
        client = GatewayClient(proxy.url, proxy.master_key, timeout=90)
        # A gateway's per-request headers (Portkey's routing config), as its users send them.
        client.profile_headers.update(client_headers(proxy))
        prepared.append((job, fake, client, (model, other)))
    fakes = {id(fake): fake for _, fake, _, _ in prepared}.values()
    for fake in fakes:
        fake.settle(quiet=0.3)
        # no check before these left its script behind (the class asks no provider fixture)
        fake.reset()
        fake.lenient_rules = frozenset(CLOUD_BETA_RULES)
    try:
        with ThreadPoolExecutor(max_workers=max(1, len(prepared))) as threads:
            futures = {
                job.key: threads.submit(_run, job, fake, client, model)
                for job, fake, client, model in prepared
            }
            return {key: future.result() for key, future in futures.items()}
    finally:
        for fake in fakes:
            fake.settle(quiet=0.5)
            fake.reset()
            fake.lenient_rules = frozenset()


@pytest.mark.req("RESIL-001")
@pytest.mark.timed
@pytest.mark.parametrize("route", route_params("RESIL-001"))
def test_provider_dropping_mid_stream_ends_the_stream_without_an_invented_stop(
    gateway, request, fresh_model, route, observe
):
    """A provider connection that drops mid-stream ends the client's stream promptly, with no
    message_stop."""
    fake = fake_for(request, route)
    route.script(fake, Fault("drop-stream", PACED, after=6), stream=True, times=None)
    started = time.monotonic()
    ex = route.send(gateway, model_for(route, fresh_model), stream=True)
    types = client_events(route, ex)
    observe("client status", ex.status)
    observe("client events", types)
    observe("connection broke", bool(ex.broken))
    observe("provider attempts", len(route.received(fake)))
    assert time.monotonic() - started < BOUND_S
    assert "message_stop" not in types, (
        f"the gateway invented a complete answer from a broken one:\n{ex.transcript()}"
    )
    assert ex.status >= 400 or "error" in types or ex.broken, (
        f"the break was not reported: status {ex.status}, events {types}, "
        "the connection ended cleanly\n" + ex.transcript()
    )
    liveness = request.getfixturevalue("impl").driver.liveness_path
    assert_still_serving(route, gateway, fake, fresh_model, liveness)


@pytest.mark.req("RESIL-002")
@pytest.mark.timed
@pytest.mark.parametrize("route", route_params("RESIL-002"))
def test_provider_dropping_mid_body_gets_an_anthropic_error(
    gateway, request, fresh_model, route, observe
):
    """A provider connection that drops mid-body (not streamed) gives the client an Anthropic-shaped
    5xx, promptly."""
    fake = fake_for(request, route)
    route.script(
        fake,
        Fault("drop-body", Reply.text("a whole answer, cut in half")),
        stream=False,
        times=None,
    )
    started = time.monotonic()
    ex = route.send(gateway, model_for(route, fresh_model), stream=False)
    observe("client status", ex.status)
    observe("connection broke", bool(ex.broken))
    observe("provider attempts", len(route.received(fake)))
    observe("seconds", seconds_since(started), volatile=True)
    assert time.monotonic() - started < BOUND_S
    if route.passthrough and ex.broken:
        # a pass-through that relays the provider's broken answer breaks the client's the same way
        pass
    else:
        assert ex.status >= 500, (
            f"a truncated answer was passed off as {ex.status}:\n{ex.transcript()}"
        )
        assert_gateway_error(route, ex)
    liveness = request.getfixturevalue("impl").driver.liveness_path
    assert_still_serving(route, gateway, fake, fresh_model, liveness)


KINDS = [pytest.param("rate-limit", id="rate-limit"), pytest.param("overload", id="overload")]


def provider_error(route: Route, kind: str, headers: tuple[tuple[str, str], ...] = ()) -> HttpError:
    base = route.rate_limit if kind == "rate-limit" else route.overload
    return HttpError(base.status, base.type, base.message, headers=headers, fields=base.fields)


def failures(route: Route) -> list[Any]:
    """A provider's 404, 429 and 500, each in the route's own envelope."""
    google = route.fake == "vertex" and route.rate_limit.type.isupper()
    bedrock = route.fake == "bedrock"
    openai = route.fake == "openai"
    not_found = (
        HttpError(404, "ResourceNotFoundException", "Could not resolve the foundation model.")
        if bedrock
        else HttpError(404, "NOT_FOUND", "Publisher Model was not found.")
        if google
        else HttpError(
            404,
            "invalid_request_error",
            "The model does not exist.",
            fields=(("code", "model_not_found"),),
        )
        if openai
        else HttpError(404, "not_found_error", "model: claude-no-such-model")
    )
    server = (
        HttpError(500, "InternalServerException", "Internal server error.")
        if bedrock
        else HttpError(500, "INTERNAL", "Internal error encountered.")
        if google
        else HttpError(500, "server_error", "The server had an error processing your request.")
        if openai
        else HttpError(500, "api_error", "Internal server error")
    )
    return [pytest.param(e, id=str(e.status)) for e in (not_found, route.rate_limit, server)]


def _failure_params(requirement: str) -> list[Any]:
    by_route = {p.values[0].name: p for p in route_params(requirement)}
    return [
        pytest.param(
            route, e.values[0], id=f"{route.name}-{e.id}", marks=by_route[route.name].marks
        )
        for route in ROUTES
        for e in failures(route)
    ]


@pytest.mark.req("ERR-003")
@pytest.mark.gateway("deployed")
def test_retry_after_on_429_reaches_the_client_as_deployed(
    gateway, anthropic_provider, fresh_model, observe
):
    """retry-after on a provider's 429 reaches the client with LiteLLM's default retries too."""
    route = BY_NAME["anthropic"]
    error = HttpError(429, "rate_limit_error", "slow down", headers=(("retry-after", "2"),))
    anthropic_provider.script("messages", error, times=None)
    ex = route.send(gateway, fresh_model(), stream=False)
    observe("client status", ex.status)
    observe("retry-after at the client", ex.headers.get("retry-after"))
    assert ex.status == 429, ex.transcript()
    assert ex.headers.get("retry-after") == "2"


def stream_error(route: Route) -> StreamError:
    """An error after message_start and some text, as the route's provider sends one."""
    if route.fake == "bedrock":
        return StreamError(
            5, "serviceUnavailableException", "Bedrock is unable to process your request."
        )
    if route.fake == "openai":
        return StreamError(
            4, "server_error", "The server had an error while processing your request."
        )
    return StreamError(5, "overloaded_error", "Overloaded")


BROKEN = Reply(
    blocks=(
        Text(
            "partial answer that will break off here",
            chunks=("partial", " answer", " that will", " break", " off here"),
        ),
    )
)


@pytest.mark.req("RESIL-010")
@pytest.mark.parametrize("route", route_params("RESIL-010"))
def test_an_error_after_the_stream_started_reaches_the_client_as_an_error_event(
    gateway, request, fresh_model, route, observe
):
    """An error after the stream started reaches the client as one message_start then an `error`
    event, never a message_stop."""
    fake = fake_for(request, route)
    # Every attempt breaks the same way: a gateway that retries a broken stream meets the same
    # break.
    route.script(
        fake, Reply(blocks=BROKEN.blocks, stream_error=stream_error(route)), stream=True, times=None
    )
    ex = route.send(gateway, model_for(route, fresh_model), stream=True)
    types = client_events(route, ex)
    observe("client status", ex.status)
    observe("client events", types)
    observe("connection broke", bool(ex.broken))
    assert "message_stop" not in types, (
        f"a broken answer was passed off as whole:\n{ex.transcript()}"
    )
    assert types.count("message_start") == 1, (
        f"expected one message_start, got {types}:\n{ex.transcript()}"
    )
    assert "error" in types[types.index("message_start") :], (
        f"the error never reached the client:\n{ex.transcript()}"
    )


@pytest.mark.req("RESIL-011")
@pytest.mark.settings(
    fallbacks="fallback-<route> to fallback-<route>-backup (LiteLLM has none by default)"
)
@pytest.mark.parametrize("route", route_params("RESIL-011"))
def test_a_fallback_after_a_broken_stream_stays_grammatical(gateway, request, route, observe):
    """With a fallback deployment, a stream that breaks after it started still reaches the client as
    one grammatical stream: one message_start, no content twice."""
    fake = fake_for(request, route)
    primary, _ = fallback_group(route.pool or route.name)
    route.script(fake, Reply(blocks=BROKEN.blocks, stream_error=stream_error(route)), stream=True)
    # Optional: a gateway that ends the broken stream with its error never asks the backup.
    route.script(fake, Reply.text("the backup's whole answer"), stream=True, optional=True)
    ex = route.send(gateway, primary, stream=True)
    types = client_events(route, ex)
    text = streamed_text(ex)
    observe("client events", types)
    observe("client text", text)
    observe("provider attempts", len(route.received(fake)))
    assert types.count("message_start") <= 1, (
        f"two answers in one stream: {types}\n{ex.transcript()}"
    )
    assert text.count("partial") <= 1, f"content arrived twice: {text!r}"
    assert text.count("backup") <= 1, f"content arrived twice: {text!r}"
    if "message_stop" in types:
        assert ex.stream is not None, f"no stream came back:\n{ex.transcript()}"
        assert ex.stream.ok, f"the stream is not grammatical:\n{ex.transcript()}"
        assert "partial" not in text, (
            f"the broken answer's text was completed with another's: {text!r}"
        )


@pytest.mark.req("RESIL-006")
@pytest.mark.settings(timeout="5 on the deployment (LiteLLM's default request_timeout is 6000 s)")
@pytest.mark.parametrize("route", route_params("RESIL-006"))
def test_a_provider_silent_within_the_timeout_is_waited_for(
    gateway, request, fresh_model, route, observe
):
    """A provider silent within the deployment's timeout is waited for, and its answer reaches the
    client."""
    fake = fake_for(request, route)
    route.script(
        fake, Fault("silence", Reply.text("late but here"), seconds=2.0), stream=False, times=None
    )
    started = time.monotonic()
    ex = route.send(gateway, model_for(route, fresh_model, "-timeout-5"), stream=False)
    observe("client status", ex.status)
    observe("seconds", seconds_since(started), volatile=True)
    assert_answered(ex, "late but here", "a provider within the timeout was not waited for")


def _wait_for_hangup(sent: RecordedRequest, limit: float) -> RecordedRequest:
    deadline = time.monotonic() + limit
    while (
        sent.peer_gone_at is None
        and time.monotonic() < deadline
        and len(sent.emitted_at) < len(sent.response_pauses or [0])
    ):
        time.sleep(0.05)
    return sent


def _first(route: Route, fake: FakeProvider, limit: float = 10.0) -> RecordedRequest:
    deadline = time.monotonic() + limit
    while not (got := route.received(fake)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert got, f"the gateway never sent the request to {route.name}'s provider"
    return got[0]


@pytest.mark.req("RESIL-007")
@pytest.mark.timed
@pytest.mark.parametrize("route", route_params("RESIL-007"))
def test_client_leaving_mid_stream_closes_the_provider_stream(
    gateway, request, fresh_model, route, observe
):
    """When the client disconnects mid-stream, the gateway closes its provider connection within
    2 s."""
    fake = fake_for(request, route)
    route.script(fake, LONG_PACED, stream=True)
    body = route.body(model_for(route, fresh_model), stream=True)
    with (
        loopback.client(timeout=10) as http,
        http.stream(
            "POST", gateway.base_url + route.path(True), json=body, headers=gateway.headers()
        ) as response,
    ):
        for n, _ in enumerate(response.iter_raw(64)):
            if n > 8:
                break
        left = time.monotonic()
    sent = _wait_for_hangup(_first(route, fake), HANGUP_S + 2)
    gone = None if sent.peer_gone_at is None else round(sent.peer_gone_at - left, 2)
    observe("provider saw the gateway hang up after (s)", gone, volatile=True)
    observe("gateway hung up in time", gone is not None and gone <= HANGUP_S)
    observe(
        "provider chunks written",
        f"{len(sent.emitted_at)} of {len(sent.response_pauses)}",
        volatile=True,
    )
    finished_before = (
        len(sent.emitted_at) == len(sent.response_pauses) and sent.emitted_at[-1] < left
    )
    assert not finished_before, (
        "inconclusive: the provider had written its whole stream before the client left"
    )
    assert gone is not None, (
        f"the provider kept streaming to the gateway after the client left: "
        f"all {len(sent.emitted_at)} chunks written"
    )
    assert gone <= HANGUP_S, (
        f"the gateway hung up on the provider only {gone} s after the client left"
    )


def _leave_before_the_answer(gateway, request, fresh_model, route, observe, stream: bool) -> None:
    """The client leaves while the provider holds its first byte back 6 s (a slow or queued model);
    the provider must see the gateway hang up within HANGUP_S."""
    fake = fake_for(request, route)
    route.script(
        fake, Fault("silence", Reply.text("nobody is listening"), seconds=6.0), stream=stream
    )
    # The client leaves once the provider has the request: while it is pending there, whatever the
    # machine's load.
    left = gateway.leave_pending(
        route.path(stream),
        route.body(model_for(route, fresh_model), stream),
        until=lambda: route.received(fake),
    ).ended  # when it closed, not when this ran
    sent = _wait_for_hangup(_first(route, fake), HANGUP_S + 2)
    gone = None if sent.peer_gone_at is None else round(sent.peer_gone_at - left, 2)
    observe("provider saw the gateway hang up after (s)", gone, volatile=True)
    observe("gateway hung up", gone is not None)
    assert gone is not None, "the gateway kept waiting on the provider for a client that had left"
    assert gone <= HANGUP_S, (
        f"the gateway hung up on the provider only {gone} s after the client left"
    )


@pytest.mark.req("RESIL-008")
@pytest.mark.timed
@pytest.mark.parametrize("route", route_params("RESIL-008"))
def test_client_leaving_a_pending_request_closes_the_provider_request(
    gateway, request, fresh_model, route, observe
):
    """When the client disconnects while a non-streamed request is pending, the gateway hangs up on
    the provider."""
    _leave_before_the_answer(gateway, request, fresh_model, route, observe, stream=False)


@pytest.mark.req("RESIL-014")
@pytest.mark.timed
@pytest.mark.parametrize("route", route_params("RESIL-014"))
def test_client_leaving_a_stream_before_the_provider_answers_closes_the_provider_request(
    gateway, request, fresh_model, route, observe
):
    """When the client disconnects from a streamed request before the provider's first byte, the
    gateway hangs up on the provider (LiteLLM PR #31499 guards only after it)."""
    _leave_before_the_answer(gateway, request, fresh_model, route, observe, stream=True)


@pytest.mark.req("RESIL-013")
@pytest.mark.timed
@pytest.mark.parametrize("route", route_params("RESIL-013"))
def test_client_leaving_during_a_retry_back_off_stops_the_retries(
    gateway, request, fresh_model, route, observe
):
    """When the client disconnects while the gateway backs off before a retry, no further attempt
    reaches the provider."""
    fake = fake_for(request, route)
    route.script(
        fake, provider_error(route, "overload", (("retry-after", "1"),)), stream=False, times=None
    )
    left = gateway.leave_pending(
        route.path(False),
        route.body(model_for(route, fresh_model), False),
        until=lambda: route.received(fake),
    ).ended  # when it closed, not when this ran
    # With retry-after 1, LiteLLM's retries come about 1 s apart: quiet for 2.5 s means no more are
    # coming.
    fake.settle(quiet=2.5, limit=10.0)
    attempts = route.received(fake)
    late = [round(r.received_at - left, 2) for r in attempts if r.received_at > left + 0.5]
    observe("provider attempts", len(attempts))
    observe("attempts after the client left (s after it left)", late, volatile=True)
    observe("attempts after the client left", len(late), better="fewer")
    observe("retried for a client that had left", bool(late))
    assert not late, (
        f"{len(late)} attempt(s) reached the provider after the client left, at {late} s"
    )


# -------------------------------------------------- one silence, every route
SILENT_TIMEOUT_BOUND_S = 10.0  # a 5 s timeout, plus slack; the provider stays silent 20 s
SILENCE_S = 25.0  # longer than Claude Code's stall watchdog (about 20 s), as STREAM-012 states
KEEPALIVE = Reply(blocks=(Text("kept alive", chunks=("kept", " alive")),), pings=9, delay=1.0)


@pytest.fixture(scope="class")
def silences(request: pytest.FixtureRequest, proxy_pool: Any) -> dict[tuple[str, str], Outcome]:
    """Every route's slow case at once: a provider silent past the 5 s timeout (RESIL-006), silent
    25 s mid-stream (STREAM-012) and keeping a stream alive with pings past the timeout (RESIL-012).

    Run one after the other they would cost about 25 s per route; together they cost one silence.
    """
    wanted = {item.callspec.params["route"].name for item in class_items(request)}
    jobs = []
    for route in ROUTES:
        if route.name not in wanted:
            continue
        if not route.passthrough:
            silent = Fault("silence", Reply.text("too late"), seconds=20.0)
            jobs.append(
                Job(("timeout", route.name), route, silent, False, pool_suffix="-timeout-5")
            )
        stalled = Reply(
            blocks=(Text("before the silence", chunks=("before", " the silence")),),
            stall=(4, SILENCE_S),
        )
        jobs.append(Job(("stall", route.name), route, stalled, True))
        if route.keepalive:
            jobs.append(
                Job(("keepalive", route.name), route, KEEPALIVE, True, pool_suffix="-timeout-5")
            )
    return run_together(request, proxy_pool, jobs)


@pytest.mark.slow
@pytest.mark.usefixtures("silences")
class TestSharedSilence:
    """The slow checks, one silence for every route (the scheduler keeps a class on one worker)."""

    @pytest.mark.req("RESIL-006")
    @pytest.mark.settings(
        timeout="5 on the deployment (LiteLLM's default request_timeout is 6000 s)"
    )
    @pytest.mark.parametrize("route", route_params("RESIL-006"))
    def test_a_provider_silent_beyond_the_timeout_is_given_up(self, silences, route, observe):
        """A provider silent beyond the deployment's timeout is given up at the timeout on each
        attempt, the gateway hangs up on the provider, and the client gets an Anthropic-shaped
        error."""
        got = silences[("timeout", route.name)]
        assert got.exchange is not None, got.error
        ex, attempts = got.exchange, got.attempts
        observe("client status", ex.status)
        observe("seconds", round(got.seconds, 1), volatile=True)
        observe("provider attempts", len(attempts))
        observe("gateway hung up on each attempt", [r.peer_gone_at is not None for r in attempts])
        held = [
            round(r.peer_gone_at - r.received_at, 1) for r in attempts if r.peer_gone_at is not None
        ]
        observe("seconds each attempt was held (provider's clock)", held, volatile=True)
        assert ex.status == 408 or ex.status >= 500, (
            f"a provider timeout answered as {ex.status}:\n{ex.transcript()}"
        )
        assert_anthropic_error(ex)
        assert all(r.peer_gone_at is not None for r in attempts), (
            "the gateway kept a timed-out provider request open"
        )
        # Measured where the provider sees it, per attempt: the client's total also holds the
        # gateway's own back-offs, which a loaded CI machine stretches. Half the 20 s silence tells
        # "gave up" from "waited".
        assert max(held, default=0.0) < SILENT_TIMEOUT_BOUND_S, (
            f"the gateway held a silent provider {held} s on its attempts; "
            "the deployment's timeout is 5 s"
        )

    @pytest.mark.req("STREAM-012")
    @pytest.mark.parametrize("route", route_params("STREAM-012"))
    def test_stream_survives_a_provider_silence_longer_than_the_stall_watchdog(
        self, silences, route, observe
    ):
        """A provider silent for 25 s mid-stream: the stream still ends whole; pings sent meanwhile
        are recorded."""
        got = silences[("stall", route.name)]
        assert got.exchange is not None, got.error
        ex = got.exchange
        sent = got.attempts[-1] if got.attempts else None
        kept_alive: list[Any] = []
        if sent is not None and len(sent.emitted_at) > 4 and ex.events:
            start, end = sent.emitted_at[3], sent.emitted_at[4]
            kept_alive = [
                (round(e.at - start, 1), e.event or e.type)
                for e in ex.events
                if e.at is not None and start + 1.0 < e.at < end
            ]
        observe("client events during the silence (s after it began)", kept_alive, volatile=True)
        observe("gateway kept the client alive", bool(kept_alive))
        observe("client status", ex.status)
        assert ex.status == 200, f"the silence ended the stream:\n{ex.transcript()}"
        assert_whole(route, ex, "the stream did not survive the silence")
        if ex.events is not None:
            assert "before the silence" in streamed_text(ex)

    @pytest.mark.req("RESIL-012")
    @pytest.mark.settings(
        timeout="5 on the deployment (LiteLLM's default request_timeout is 6000 s)"
    )
    @pytest.mark.parametrize("route", route_params("RESIL-012"))
    def test_gateway_never_ends_a_stream_the_provider_keeps_alive(self, silences, route, observe):
        """The gateway never ends a stream that the provider keeps alive: pings for 10 s past a 5 s
        timeout, then the answer, reach the client whole."""
        got = silences[("keepalive", route.name)]
        assert got.exchange is not None, got.error
        ex = got.exchange
        types = client_events(route, ex)
        observe("client status", ex.status)
        observe("pings relayed", types.count("ping"))
        observe("seconds", round(got.seconds, 1), volatile=True)
        assert_whole(route, ex, "the gateway ended a stream the provider kept alive")
        assert streamed_text(ex) == "kept alive"


# -------------------------------------------------- rate limits and overloads, every route at once
RETRIES = {"defaults": None, "num_retries-0": "deployed-no-retries"}


def _backoff_params() -> list[Any]:
    params = []
    for p in route_params("RESIL-009"):
        route: Route = p.values[0]
        for retries, gateway_name in RETRIES.items():
            if gateway_name and route.passthrough:
                continue  # a pass-through never retries: its one case is the defaults'
            marks = [m for m in p.marks if m.name != "gateway"]
            marks.append(pytest.mark.gateway(gateway_name or route.gateway))
            if gateway_name and route.gateway != "deployed":
                marks.append(
                    pytest.mark.skip(
                        reason=f"not applicable on {route.name} with num_retries 0: its "
                        f"setting ({route.gateway}) is global, one proxy per variant"
                    )
                )
            if gateway_name:
                marks.append(
                    pytest.mark.settings(num_retries="0 (LiteLLM's default retries twice)")
                )
            for kind in ("rate-limit", "overload"):
                params.append(
                    pytest.param(
                        route, retries, kind, id=f"{route.name}-{kind}-{retries}", marks=marks
                    )
                )
    return params


def sent_backoff(route: Route, kind: str) -> tuple[tuple[str, str], ...]:
    """The back-off headers the route's provider sends with this error (none, for Bedrock and
    Vertex)."""
    if kind == "rate-limit":
        return route.backoff
    return tuple(h for h in route.backoff if h[0] in ("retry-after", "x-should-retry"))


def _rate_limit_job(item: pytest.Function) -> Job:
    params = item.callspec.params
    route: Route = params["route"]
    if "retries" in params:  # RESIL-009
        error = provider_error(route, params["kind"], sent_backoff(route, params["kind"]))
        gateway = RETRIES[params["retries"]] or ""
    else:  # RESIL-003
        retry_after = params["retry_after"]
        error = provider_error(
            route, params["kind"], (("retry-after", retry_after),) if retry_after else ()
        )
        gateway = ""
    return Job((item.originalname, item.callspec.id), route, error, False, gateway=gateway)


@pytest.fixture(scope="class")
def rate_limited(request: pytest.FixtureRequest, proxy_pool: Any) -> dict[tuple[str, str], Outcome]:
    """Every case's 429 or overload at once: LiteLLM's default retries back off seconds per case,
    and side by side the cases cost the longest back-off once."""
    return run_together(
        request, proxy_pool, [_rate_limit_job(item) for item in class_items(request)]
    )


@pytest.mark.waits
@pytest.mark.usefixtures("rate_limited")
class TestRateLimitsTogether:
    """The checks of a provider's 429 or overload, every route and variant sent at once."""

    @pytest.mark.req("RESIL-003")
    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("retry_after", [None, "2"], ids=["no-retry-after", "retry-after-2"])
    @pytest.mark.parametrize("route", route_params("RESIL-003"))
    def test_rate_limit_and_overload_reach_the_client_promptly(
        self, request, rate_limited, route, kind, retry_after, observe
    ):
        """A provider 429 or overload (with or without retry-after) reaches the client as that
        status, promptly."""
        job = _rate_limit_job(request.node)
        got = rate_limited[job.key]
        ex = got.judged()
        observe("provider answered", f"{job.item.status} {job.item.type}")
        observe("client status", ex.status)
        observe("provider attempts (LiteLLM's default retries)", len(got.attempts))
        observe("seconds", round(got.seconds, 1), volatile=True)
        observe("retry-after at the client", ex.headers.get("retry-after"))
        assert got.seconds < BOUND_S
        sent = job.item.status
        assert ex.status == sent, (
            f"the provider's {sent} reached the client as {ex.status}:\n{ex.transcript()}"
        )
        if route.passthrough:
            sent_body = got.attempts[-1].response_body
            assert body_as_read(ex.content) == body_as_read(sent_body), (
                "the pass-through changed the provider's error"
            )
        else:
            assert_anthropic_error(ex, ex.status)

    @pytest.mark.req("RESIL-009")
    @pytest.mark.parametrize(("route", "retries", "kind"), _backoff_params())
    def test_back_off_signals_reach_claude_code(
        self, request, rate_limited, route, retries, kind, observe
    ):
        """A provider 429 or overload keeps its status and the back-off headers it carried
        (retry-after, anthropic-ratelimit-*, x-should-retry) reach the client."""
        job = _rate_limit_job(request.node)
        got = rate_limited[job.key]
        ex = got.judged()
        wanted = {
            k: v
            for k, v in job.item.headers
            if k == "retry-after" or k.startswith("anthropic-ratelimit-") or k == "x-should-retry"
        }
        seen = {k: ex.headers.get(k) for k in wanted}
        lost = sorted(k for k, v in wanted.items() if seen[k] != v)
        observe("client status", ex.status)
        observe("provider attempts", len(got.attempts))
        observe("back-off headers lost", lost, better="fewer")
        observe(
            "other rate-limit headers at the client",
            sorted(k for k in ex.headers if "ratelimit" in k and k not in wanted),
        )
        sent = job.item.status
        assert ex.status == sent, (
            f"the provider's {sent} reached the client as {ex.status}:\n{ex.transcript()}"
        )
        assert not lost, (
            f"back-off headers lost on the way: expected {wanted}, got {seen}\n{ex.transcript()}"
        )


# -------------------------------------------------- one deployment's error, every route at once
def _error_job(item: pytest.Function) -> Job:
    params = item.callspec.params
    pair = item.originalname == "test_one_deployments_failure_leaves_the_others_serving"
    return Job(
        (item.originalname, item.callspec.id),
        params["route"],
        params["error"],
        False,
        pool_suffix="-pair" if pair else "",
        then=Reply.text("another deployment" if pair else "served again"),
        pair=pair,
    )


@pytest.fixture(scope="class")
def errored(request: pytest.FixtureRequest, proxy_pool: Any) -> dict[tuple[str, str], Outcome]:
    """Every case's provider error and the request after it, all cases at once (each waits out
    LiteLLM's retries)."""
    return run_together(request, proxy_pool, [_error_job(item) for item in class_items(request)])


@pytest.mark.waits
@pytest.mark.usefixtures("errored")
class TestProviderErrorsTogether:
    """The checks of what one provider error leaves behind, every route and error sent at once."""

    @pytest.mark.req("RESIL-004")
    @pytest.mark.settings(
        order="pool-<route>-pair-NN: two deployments, `order: 1` (fails) and `order: 2` (serves)"
    )
    @pytest.mark.parametrize(("route", "error"), _failure_params("RESIL-004"))
    def test_one_deployments_failure_leaves_the_others_serving(
        self, request, errored, route, error, observe
    ):
        """After a provider 404, 429 or 500 on one deployment of a model group, the group's other
        deployment serves it: the failing one is tried first (`order: 1`), and its cooldown does not
        take the group down."""
        got = errored[_error_job(request.node).key]
        observe("first status", got.judged().status)
        observe("attempts at the failing deployment", sum(_to_pair_first(r) for r in got.attempts))
        assert got.then is not None, got.error
        observe("next request status", got.then.status)
        assert_answered(
            got.then,
            "another deployment",
            "the group's other deployment did not serve the next request",
        )

    @pytest.mark.req("RESIL-005")
    @pytest.mark.parametrize(("route", "error"), _failure_params("RESIL-005"))
    def test_one_provider_error_does_not_take_the_model_out_of_service(
        self, request, errored, route, error, observe
    ):
        """After one provider 404, 429 or 500, the same model serves the next request (its only
        deployment stays in)."""
        got = errored[_error_job(request.node).key]
        observe("first status", got.judged().status)
        observe("provider attempts for the first request", len(got.attempts))
        assert got.then is not None, got.error
        observe("next request status", got.then.status)
        observe("next request", got.then.text[:160], volatile=True)
        assert_answered(got.then, "served again", "one error took the model out of service")
