"""ERR: errors reach Claude Code with the right status, in Anthropic's envelope, and never as a 5xx
by mistake."""

from __future__ import annotations

import pytest

from harness.fakes import HttpError, Reply, StreamError, Text
from harness.gateway.configs import SONNET
from harness.protocol.client import message_body
from harness.protocol.validators import validate_error

from .support.asserts import (
    NEEDS_OPENAI,
    PROVIDER_PARAMS,
    assert_anthropic_error,
    assert_not_5xx,
    assert_status,
)

ANTHROPIC_ERRORS = [
    (400, "invalid_request_error"),
    (401, "authentication_error"),
    (403, "permission_error"),
    (404, "not_found_error"),
    (413, "request_too_large"),
    (429, "rate_limit_error"),
    (500, "api_error"),
    (529, "overloaded_error"),
]
OPENAI_ERRORS = [
    (400, "invalid_request_error"),
    (401, "invalid_api_key"),
    (403, "permission_denied"),
    (404, "model_not_found"),
    (429, "rate_limit_exceeded"),
    (500, "server_error"),
]
CASES = [pytest.param("anthropic", s, k, id=f"anthropic-{s}") for s, k in ANTHROPIC_ERRORS] + [
    pytest.param("openai", s, k, id=f"openai-{s}", marks=NEEDS_OPENAI) for s, k in OPENAI_ERRORS
]


def _provider_error(
    gateway,
    anthropic_provider,
    openai_provider,
    fresh_model,
    provider: str,
    status: int,
    kind: str,
    stream: bool = False,
    headers: tuple[tuple[str, str], ...] = (),
):
    error = HttpError(status, kind, f"scripted {kind}", headers=headers)
    # Every attempt gets the error: a config may retry (LiteLLM's default is 2 retries). The
    # deployment is the check's own, as LiteLLM's default cooldown benches it after the error.
    if provider == "openai":
        openai_provider.script_generation(error, times=None)
    else:
        anthropic_provider.script("messages", error, times=None)
    return gateway.messages(message_body(fresh_model(provider), stream=stream))


@pytest.mark.req("ERR-001")
@pytest.mark.parametrize(("provider", "status", "kind"), CASES)
def test_provider_error_status_reaches_the_client(
    gateway, anthropic_provider, openai_provider, fresh_model, provider, status, kind, observe
):
    """A provider error reaches the client with the same HTTP status."""
    ex = _provider_error(
        gateway, anthropic_provider, openai_provider, fresh_model, provider, status, kind
    )
    observe("client status", ex.status)
    assert_status(ex, status)


@pytest.mark.req("ERR-002")
@pytest.mark.parametrize(("provider", "status", "kind"), CASES)
def test_provider_error_arrives_in_anthropic_envelope(
    gateway, anthropic_provider, openai_provider, fresh_model, provider, status, kind, observe
):
    """The provider error reaches the client in Anthropic's envelope with the type documented for
    its status."""
    ex = _provider_error(
        gateway, anthropic_provider, openai_provider, fresh_model, provider, status, kind
    )
    observe("client body", ex.text[:300], volatile=True)
    assert_anthropic_error(ex, status)


@pytest.mark.req("ERR-003")
@pytest.mark.parametrize("provider", PROVIDER_PARAMS)
def test_retry_after_on_429_reaches_the_client(
    gateway, anthropic_provider, openai_provider, fresh_model, provider, observe
):
    """retry-after on a provider's 429 reaches the client."""
    kind = "rate_limit_error" if provider == "anthropic" else "rate_limit_exceeded"
    ex = _provider_error(
        gateway,
        anthropic_provider,
        openai_provider,
        fresh_model,
        provider,
        429,
        kind,
        headers=(("retry-after", "3"),),
    )
    observe("retry-after", ex.headers.get("retry-after"))
    assert_status(ex, 429)
    assert ex.headers.get("retry-after") == "3"


OWN_ERRORS = {
    "unknown-model": lambda g: g.messages(message_body("claude-no-such-model-2")),
    "malformed-json": lambda g: g.request(
        "POST", "/v1/messages?beta=true", content=b'{"model": "x",'
    ),
    "messages-not-a-list": lambda g: g.messages(
        {"model": SONNET, "max_tokens": 5, "messages": "hi"}
    ),
}


@pytest.mark.req("ERR-004")
@pytest.mark.blackbox
@pytest.mark.parametrize("mistake", OWN_ERRORS, ids=str)
def test_gateway_errors_use_anthropic_envelope(
    gateway, anthropic_provider, openai_provider, mistake, observe
):
    """The gateway's own errors on /v1/messages use Anthropic's error envelope."""
    # A gateway may let a bad request through for the provider to judge; the provider then says 400.
    anthropic_provider.script(
        "messages", HttpError(400, "invalid_request_error", "bad request"), times=None
    )
    ex = OWN_ERRORS[mistake](gateway)
    observe("status and body", f"{ex.status} {ex.text[:200]}", volatile=True)
    assert ex.status >= 400
    assert_anthropic_error(ex)


CLIENT_MISTAKES = {
    "malformed-json": lambda g: g.request("POST", "/v1/messages?beta=true", content=b'{"model": '),
    "not-json": lambda g: g.request("POST", "/v1/messages?beta=true", content=b"hello"),
    "missing-max-tokens": lambda g: g.messages(
        {"model": SONNET, "messages": [{"role": "user", "content": "x"}]}
    ),
    "empty-messages": lambda g: g.messages({"model": SONNET, "max_tokens": 5, "messages": []}),
    "missing-messages": lambda g: g.messages({"model": SONNET, "max_tokens": 5}),
    "missing-model": lambda g: g.messages(
        {"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}
    ),
    "body-is-a-list": lambda g: g.request("POST", "/v1/messages?beta=true", json_body=[1, 2]),
}


@pytest.mark.req("ERR-005")
@pytest.mark.blackbox
@pytest.mark.parametrize("mistake", CLIENT_MISTAKES, ids=str)
def test_client_mistake_never_gets_a_5xx(
    gateway, anthropic_provider, openai_provider, mistake, observe
):
    """A client mistake never produces a 5xx."""
    # A gateway may pass a request through for the provider to judge; the provider then says 400.
    anthropic_provider.script(
        "messages", HttpError(400, "invalid_request_error", "bad request"), times=None
    )
    ex = CLIENT_MISTAKES[mistake](gateway)
    observe("status", ex.status)
    assert_not_5xx(ex)


@pytest.mark.req("ERR-006")
@pytest.mark.parametrize(
    ("status", "kind"), [(429, "rate_limit_error"), (529, "overloaded_error")], ids=["429", "529"]
)
def test_refused_stream_gets_the_error_status(
    gateway, anthropic_provider, openai_provider, fresh_model, status, kind, observe
):
    """When the provider refuses a streamed request, the client gets that error status, not a 200
    stream."""
    ex = _provider_error(
        gateway,
        anthropic_provider,
        openai_provider,
        fresh_model,
        "anthropic",
        status,
        kind,
        stream=True,
    )
    observe("client status", ex.status)
    assert_status(ex, status)


STREAMED_ERRORS = {
    "refused-429": HttpError(429, "rate_limit_error", "scripted rate_limit_error"),
    "refused-529": HttpError(529, "overloaded_error", "scripted overloaded_error"),
    "mid-stream": Reply(
        blocks=(Text("partial answer that will break"),),
        stream_error=StreamError(after_events=5, type="overloaded_error", message="Overloaded"),
    ),
}


@pytest.mark.req("ERR-007")
@pytest.mark.parametrize("case", STREAMED_ERRORS, ids=str)
def test_streamed_request_errors_arrive_in_anthropic_envelope(
    gateway, anthropic_provider, fresh_model, case, observe
):
    """A streamed request's error reaches the client in Anthropic's envelope: a refusal as an error
    body with the type documented for its status, an error after the stream began as an `error`
    event carrying the envelope."""
    anthropic_provider.script("messages", STREAMED_ERRORS[case], times=None)
    ex = gateway.messages(message_body(fresh_model("anthropic"), stream=True))
    observe("client status", ex.status)
    if ex.events is None:
        observe("client body", ex.text[:300], volatile=True)
        assert ex.status >= 400, f"expected an error, observed {ex.status}:\n{ex.transcript()}"
        assert_anthropic_error(ex, ex.status)
        return
    errors = [e for e in ex.events if e.event == "error" or e.type == "error"]
    observe("error events", len(errors))
    assert errors, (
        f"the provider's error never reached the client as an error event:\n{ex.transcript()}"
    )
    for event in errors:
        validate_error(event.data)
