"""KEYS-006/007: no secret reaches a client or the gateway's log, on every route.

The plugin holds every exchange of every check to the same rule (fingerprint field
``secret_exposed``, harness.verdict.fingerprint.secret_exposures): a check that passes with a
secret where it must not be is failed as ``[SECURITY]``. These checks provoke what most often
leaks one: a provider's error, JSON and streamed, on every route (LiteLLM #8075, #15799: provider
keys in exception texts; PR #25203: a key in an error).
"""

from __future__ import annotations

import pytest

from harness.verdict.fingerprint import secret_exposures

from .support.routes import Route, route_params


def _provider_error(request, route: Route, fresh_model, gateway, stream: bool):
    fake = request.getfixturevalue(f"{route.fake}_provider")
    # Every attempt gets the error (a config may retry); the deployment is the check's own.
    route.script(fake, route.overload, stream=stream, times=None)
    model = None if route.pool is None else fresh_model(route.pool)
    return fake, route.send(gateway, model, stream=stream)


def _refused(ex) -> bool:
    """The provider's error reached the client as an error: a status, or an error event."""
    return ex.status >= 400 or any((e.type or e.event) == "error" for e in ex.events or [])


@pytest.mark.req("KEYS-006")
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("route", route_params("KEYS-006"))
def test_no_secret_reaches_the_client_with_a_provider_error(
    gateway, request, fresh_model, gateway_secrets, route, stream, observe
):
    """No provider credential, master key or other caller's key reaches the client with an error
    the provider returned."""
    _, ex = _provider_error(request, route, fresh_model, gateway, stream)
    observe("client status", ex.status)
    assert _refused(ex), f"expected the provider's error to reach the client, got {ex.status}"
    places = secret_exposures([ex], gateway_secrets)
    assert places == [], f"expected no secret in the answer, observed: {places}"


@pytest.mark.req("KEYS-007")
@pytest.mark.parametrize("route", route_params("KEYS-007"))
def test_no_secret_is_written_to_the_gateway_log(
    gateway, proxy, request, fresh_model, gateway_secrets, route, observe
):
    """At its default log level the gateway logs no provider credential, master key or caller's
    key while it serves a provider's error."""
    offset = proxy.log_size()
    fake, ex = _provider_error(request, route, fresh_model, gateway, stream=False)
    fake.settle(quiet=0.3)  # what the gateway logs after it answered lands first
    assert _refused(ex), f"expected the provider's error to reach the client, got {ex.status}"
    places = secret_exposures([], gateway_secrets, proxy.log_text(offset))
    observe("secrets in the log", places, better="fewer")
    assert places == [], f"expected no secret in the gateway's log, observed: {places}"
