"""RESIL: the gateway as deployed (LiteLLM's default retries, timeout and cooldowns) under provider and client faults.

Every check runs on the "deployed" gateway, which sets none of the harness's isolation
settings, and takes its own deployment from a pool so LiteLLM's cooldowns cannot carry
one check's fault into the next. Each ends by asking the gateway to serve again.
"""

from __future__ import annotations

import time

import httpx
import pytest

from harness.checks import assert_anthropic_error, assert_status
from harness.client import message_body
from harness.providers import Fault, HttpError, Reply, Text

pytestmark = [pytest.mark.gateway("deployed"), pytest.mark.needs("litellm")]
BOUND_S = 30.0  # no fault may hold Claude Code longer than this
PACED = Reply(blocks=(Text("".join(f" word{i}" for i in range(40)), chunks=tuple(f" word{i}" for i in range(40))),),
              delay=0.1)


def assert_still_serving(gateway, anthropic_provider, fresh_model) -> None:
    """After the fault, the proxy is alive and another request succeeds."""
    anthropic_provider.settle(quiet=0.3)  # retries of the fault may still be arriving
    anthropic_provider.reset()
    assert gateway.request("GET", "/health/liveliness", validate=False).status == 200
    anthropic_provider.script("messages", Reply.text("still here"))
    ex = gateway.messages(message_body(fresh_model()))
    assert_status(ex, 200)


@pytest.mark.req("RESIL-001")
def test_provider_dropping_mid_stream_ends_the_stream_without_an_invented_stop(gateway, anthropic_provider,
                                                                              fresh_model, observe):
    """A provider connection that drops mid-stream ends the client's stream promptly, with no message_stop."""
    anthropic_provider.script("messages", Fault("drop-stream", PACED, after=6), times=None)
    started = time.monotonic()
    ex = gateway.request("POST", "/v1/messages?beta=true", json_body=message_body(fresh_model(), stream=True),
                         validate=False)
    types = [e.type or e.event for e in ex.events or []]
    observe("client status", ex.status)
    observe("client events", types)
    observe("provider attempts", len(anthropic_provider.received("messages")))
    assert time.monotonic() - started < BOUND_S
    assert "message_stop" not in types, "the gateway invented a complete answer from a broken one"
    assert ex.status >= 400 or "error" in types, f"the break was not reported: status {ex.status}, events {types}"
    assert_still_serving(gateway, anthropic_provider, fresh_model)


@pytest.mark.req("RESIL-002")
def test_provider_dropping_mid_body_gets_an_anthropic_error(gateway, anthropic_provider, fresh_model, observe):
    """A provider connection that drops mid-body (not streamed) gives the client an Anthropic-shaped 5xx, promptly."""
    anthropic_provider.script("messages", Fault("drop-body", Reply.text("a whole answer, cut in half")), times=None)
    started = time.monotonic()
    ex = gateway.messages(message_body(fresh_model()))
    observe("client status", ex.status)
    observe("provider attempts", len(anthropic_provider.received("messages")))
    observe("seconds", round(time.monotonic() - started, 1), volatile=True)
    assert time.monotonic() - started < BOUND_S
    assert ex.status >= 500, f"a truncated answer was passed off as {ex.status}"
    assert_anthropic_error(ex)
    assert_still_serving(gateway, anthropic_provider, fresh_model)


@pytest.mark.req("RESIL-003")
@pytest.mark.parametrize(("status", "kind"), [(429, "rate_limit_error"), (529, "overloaded_error")], ids=str)
@pytest.mark.parametrize("retry_after", [None, "2"], ids=["no-retry-after", "retry-after-2"])
def test_rate_limit_and_overload_reach_the_client_promptly(gateway, anthropic_provider, fresh_model, status, kind,
                                                           retry_after, observe):
    """A provider 429 or 529 (with or without retry-after) reaches the client as that status, promptly."""
    headers = (("retry-after", retry_after),) if retry_after else ()
    anthropic_provider.script("messages", HttpError(status, kind, f"scripted {kind}", headers=headers), times=None)
    started = time.monotonic()
    ex = gateway.messages(message_body(fresh_model()))
    elapsed = time.monotonic() - started
    observe("client status", ex.status)
    observe("provider attempts (LiteLLM's default retries)", len(anthropic_provider.received("messages")))
    observe("seconds", round(elapsed, 1), volatile=True)
    observe("retry-after at the client", ex.headers.get("retry-after"))
    assert elapsed < BOUND_S
    assert_status(ex, status)
    assert_anthropic_error(ex, status)


FAILURES = [(404, "not_found_error"), (429, "rate_limit_error"), (500, "api_error")]


@pytest.mark.req("RESIL-004")
@pytest.mark.parametrize(("status", "kind"), FAILURES, ids=[str(s) for s, _ in FAILURES])
def test_one_deployments_failure_leaves_the_others_serving(gateway, anthropic_provider, fresh_model, status, kind,
                                                           observe):
    """After a provider 404, 429 or 500 on one deployment, the gateway's other deployments keep serving."""
    anthropic_provider.script("messages", HttpError(status, kind, f"scripted {kind}"), times=None)
    assert_status(gateway.messages(message_body(fresh_model())), status)
    anthropic_provider.reset()
    anthropic_provider.script("messages", Reply.text("another deployment"))
    ex = gateway.messages(message_body(fresh_model()))
    observe("other deployment status", ex.status)
    assert_status(ex, 200)


@pytest.mark.req("RESIL-005")
@pytest.mark.parametrize(("status", "kind"), FAILURES, ids=[str(s) for s, _ in FAILURES])
def test_one_provider_error_does_not_take_the_model_out_of_service(gateway, anthropic_provider, fresh_model, status,
                                                                    kind, observe):
    """After one provider 404, 429 or 500, the same model serves the next request (its only deployment stays in)."""
    model = fresh_model()
    anthropic_provider.script("messages", HttpError(status, kind, f"scripted {kind}"), times=None)
    first = gateway.messages(message_body(model))
    observe("first status", first.status)
    observe("provider attempts for the first request", len(anthropic_provider.received("messages")))
    anthropic_provider.reset()
    anthropic_provider.script("messages", Reply.text("served again"))
    ex = gateway.messages(message_body(model))
    observe("next request status", ex.status)
    observe("next request", ex.text[:160], volatile=True)
    assert_status(ex, 200)


@pytest.mark.req("ERR-003")
def test_retry_after_on_429_reaches_the_client_as_deployed(gateway, anthropic_provider, fresh_model, observe):
    """retry-after on a provider's 429 reaches the client with LiteLLM's default retries too."""
    error = HttpError(429, "rate_limit_error", "slow down", headers=(("retry-after", "2"),))
    anthropic_provider.script("messages", error, times=None)
    ex = gateway.messages(message_body(fresh_model()))
    observe("client status", ex.status)
    observe("retry-after at the client", ex.headers.get("retry-after"))
    assert_status(ex, 429)
    assert ex.headers.get("retry-after") == "2"


@pytest.mark.req("RESIL-006")
@pytest.mark.settings(timeout="5 on the deployment (LiteLLM's default request_timeout is 6000 s)")
@pytest.mark.parametrize(("silence", "answers"), [(2.0, True), (20.0, False)], ids=["within-timeout",
                                                                                      "beyond-timeout"])
def test_a_silent_provider_is_waited_for_within_the_timeout_and_given_up_beyond_it(gateway, anthropic_provider,
                                                                                   fresh_model, silence, answers,
                                                                                   observe):
    """A provider silent within the deployment's timeout is waited for; beyond it, each attempt is given up at the
    timeout, the gateway hangs up on the provider, and the client gets an Anthropic-shaped error."""
    anthropic_provider.script("messages", Fault("silence", Reply.text("late but here"), seconds=silence), times=None)
    started = time.monotonic()
    ex = gateway.messages(message_body(fresh_model("anthropic-timeout-5")))
    elapsed = time.monotonic() - started
    observe("client status", ex.status)
    observe("seconds", round(elapsed, 1), volatile=True)
    if answers:
        assert_status(ex, 200)
        return
    anthropic_provider.settle(quiet=0.3)
    got = anthropic_provider.received("messages")
    observe("provider attempts", len(got))
    observe("gateway hung up on each attempt", [r.peer_gone_at is not None for r in got])
    # Each attempt may take its 5 s and a back-off before the next; nothing more.
    assert elapsed < (5 + 3) * len(got) + 5, f"the client waited {elapsed:.1f} s for {len(got)} attempt(s) of 5 s"
    assert ex.status == 408 or ex.status >= 500, f"a provider timeout answered as {ex.status}"
    assert_anthropic_error(ex)
    assert all(r.peer_gone_at is not None for r in got), "the gateway kept a timed-out provider request open"


@pytest.mark.req("RESIL-007")
def test_client_leaving_mid_stream_closes_the_provider_stream(gateway, anthropic_provider, fresh_model, observe):
    """When the client disconnects mid-stream, the gateway closes its provider connection within 2 s."""
    anthropic_provider.script("messages", PACED)
    body = message_body(fresh_model(), stream=True)
    with httpx.Client(timeout=10) as http, http.stream("POST", gateway.base_url + "/v1/messages?beta=true",
                                                      json=body, headers=gateway.headers()) as response:
        for n, _ in enumerate(response.iter_lines()):
            if n > 8:
                break
        left = time.monotonic()
    sent = _wait_for_hangup(anthropic_provider, 6.0)
    gone = None if sent.peer_gone_at is None else round(sent.peer_gone_at - left, 2)
    observe("provider saw the gateway hang up after (s)", gone, volatile=True)
    observe("provider chunks written", f"{len(sent.emitted_at)} of {len(sent.response_pauses)}")
    assert gone is not None, (
        f"the provider kept streaming to the gateway after the client left: all {len(sent.emitted_at)} chunks written")
    assert gone <= 2.0, f"the gateway hung up on the provider only {gone} s after the client left"


@pytest.mark.req("RESIL-008")
def test_client_leaving_a_pending_request_closes_the_provider_request(gateway, anthropic_provider, fresh_model,
                                                                       observe):
    """When the client disconnects while a non-streamed request is pending, the gateway hangs up on the provider."""
    anthropic_provider.script("messages", Fault("silence", Reply.text("nobody is listening"), seconds=8.0))
    # The client leaves once the provider has the request: while it is pending there, whatever the machine's load.
    gateway.leave_pending("/v1/messages?beta=true", message_body(fresh_model()),
                          until=lambda: anthropic_provider.received("messages"))
    left = time.monotonic()
    sent = _wait_for_hangup(anthropic_provider, 8.0)
    gone = None if sent.peer_gone_at is None else round(sent.peer_gone_at - left, 2)
    observe("provider saw the gateway hang up after (s)", gone, volatile=True)
    observe("gateway hung up", gone is not None)
    assert gone is not None, "the gateway kept waiting on the provider for a client that had left"
    assert gone <= 2.0, f"the gateway hung up on the provider only {gone} s after the client left"


def _wait_for_hangup(provider, limit: float):
    deadline = time.monotonic() + limit
    sent = provider.last("messages")
    while sent.peer_gone_at is None and time.monotonic() < deadline and len(sent.emitted_at) < len(
            sent.response_pauses or [0]):
        time.sleep(0.05)
    return sent
