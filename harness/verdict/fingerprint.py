"""What a check observed, in a stable form a known deviation can be held to.

A known deviation is only "the same deviation" if the gateway fails the check the
same way. So every check leaves an *observation* behind, pass or fail:

- ``outcome``: passed, or the phase and exception type it failed with;
- ``client``: each request it sent to the gateway and what came back, reduced to
  what does not change from run to run (method, path, status, the error
  envelope's family and type, the order of a stream's event types);
- ``provider_calls``: per fake provider the test used, the requests it received;
- ``unscripted``: requests a provider got that nobody scripted (a teardown failure);
- ``gateway_key_at_provider``: whether the gateway's key reached any provider;
- ``secret_exposed``: where a secret showed that must not: a provider credential, the master key or
  another caller's key in an answer to a client (``client: ...``), or any of them in the gateway's
  own log during the check (``log: ...``) (issue 39);
- ``network_escape``: connections the test process tried beyond loopback;
- ``declared``: the values the check itself declared with the ``observe`` fixture.

Fixtures register *sources* on the test item, and the plugin evaluates them once the
call phase is over (:mod:`harness.plugin.observing`, the pytest side). Nothing here reads
message texts, ids or timings, which change every run: an observation must be equal across
runs of the same gateway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from harness.fakes import FakeProvider, RecordedRequest
from harness.fakes.journal import secret_places
from harness.protocol.client import Exchange

Observation = dict[str, Any]


def normalise(value: Any) -> Any:
    """JSON-shaped (tuples become lists, keys strings), so a recorded YAML value compares equal."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


# -- the client's side ----------------------------------------------------------------------------


def envelope(ex: Exchange) -> str:
    """The family and type of a JSON answer: ``anthropic-error:not_found_error``,
    ``openai-error:...``."""
    ctype = ex.headers.get("content-type", "").split(";")[0].strip()
    if "json" not in ctype:
        return ctype or "no content-type"
    try:
        body = json.loads(ex.text)
    except ValueError:
        return f"{ctype} (not JSON)"
    if not isinstance(body, dict):
        return f"json {type(body).__name__}"
    error = body.get("error")
    if body.get("type") == "error" and isinstance(error, dict):
        return f"anthropic-error:{error.get('type')}"
    if isinstance(error, dict):
        return f"openai-error:{error.get('type')}"
    if isinstance(error, str):
        return "error-string"
    return f"json:{body.get('type') or body.get('object') or 'object'}"


def event_order(names: Iterable[str]) -> str:
    """Event types in order, runs of one type collapsed (``content_block_delta+``), pings left out.

    Chunk boundaries (how many deltas) and keep-alive pings depend on timing, not on
    the gateway's behaviour, so they would make a fingerprint flaky.
    """
    out: list[str] = []
    for name in names:
        if name == "ping":
            continue
        if out and out[-1].rstrip("+") == name:
            out[-1] = name + "+"
        else:
            out.append(name)
    return " ".join(out)


def exchange_summary(ex: Exchange) -> str:
    head = f"{ex.method} {urlsplit(ex.url).path} -> {ex.status or 'no answer'}"
    if ex.events is not None:
        return f"{head} sse [{event_order(e.type or e.event for e in ex.events)}]"
    return f"{head} {envelope(ex)}"


def client_summary(exchanges: Iterable[Exchange]) -> list[str]:
    return [exchange_summary(ex) for ex in exchanges]


# -- the provider's side --------------------------------------------------------------------------


def _request_line(req: RecordedRequest) -> str:
    return f"{req.method} {req.path}"


def provider_fields(providers: list[FakeProvider], secrets: set[str]) -> Observation:
    """Which provider got which requests, the unscripted ones, and whether a gateway key leaked."""
    calls: dict[str, list[str]] = {}
    unscripted: list[str] = []
    leaked = False
    for provider in providers:
        received = provider.received()
        # The gateway's housekeeping (e.g. LiteLLM listing OpenAI's models) comes and goes with
        # timing.
        calls[provider.name] = [
            _request_line(r)
            for r in received
            if r.route not in provider.standing and r.answer != "standing"
        ]
        unscripted += [f"{provider.name} {_request_line(r)}" for r in provider.unexpected]
        leaked = leaked or any(secret_places(received, s) for s in secrets)
    out: Observation = {"provider_calls": calls}
    if unscripted:
        out["unscripted"] = unscripted
    if secrets:
        out["gateway_key_at_provider"] = leaked
    return out


# -- secrets --------------------------------------------------------------------------------------


def secret_exposures(
    exchanges: Iterable[Exchange], secrets: Mapping[str, str], log: str = ""
) -> list[str]:
    """Where a named secret showed: in an answer's headers or body (SSE events and errors
    included), or in the gateway's log. The credentials an exchange's own request carried are the
    caller's, and are not counted as exposed to that caller."""
    found: set[str] = set()
    for ex in exchanges:
        own = " ".join(ex.request_headers.values())
        where = f"{ex.method} {urlsplit(ex.url).path}"
        for name, value in secrets.items():
            if not value or value in own:
                continue
            found.update(
                f"client: {name} in the {k} header of {where}"
                for k, v in ex.headers.items()
                if value in v
            )
            if value in ex.text or value.encode() in ex.content:
                found.add(f"client: {name} in the body of {where}")
    found.update(f"log: {name}" for name, value in secrets.items() if value and value in log)
    return sorted(found)


def leaked(fingerprint: Mapping[str, Any] | None) -> str:
    """Why a fingerprint shows a secret where it must not be, or "" when it does not: the gateway's
    key at a provider, or any ``secret_exposed`` place."""
    fp = fingerprint or {}
    # A source that could not be read (a log gone with its proxy) leaves a "<could not observe>"
    # string: the harness's failure, never a leak.
    found = fp.get("secret_exposed")
    places = [str(p) for p in found] if isinstance(found, list) else []
    if fp.get("gateway_key_at_provider") is True:
        places.insert(0, "the gateway's key at a provider")
    return "; ".join(places)


# -- comparing ------------------------------------------------------------------------------------


def differences(recorded: Observation, observed: Observation) -> list[tuple[str, Any, Any]]:
    """(field, recorded, observed) for every field that differs, in a stable order."""
    keys = sorted(set(recorded) | set(observed), key=lambda k: (k != "outcome", k))
    return [
        (k, recorded.get(k, "<absent>"), observed.get(k, "<absent>"))
        for k in keys
        if recorded.get(k) != observed.get(k)
    ]


def side_by_side(recorded: Observation, observed: Observation) -> str:
    """The fields that differ, recorded value beside the new one, for the failure report."""
    lines = ["field                     recorded fingerprint  |  observed now"]
    for key, old, new in differences(recorded, observed):
        lines.append(f"{key}:")
        lines.append(f"  recorded: {json.dumps(old, sort_keys=True)}")
        lines.append(f"  observed: {json.dumps(new, sort_keys=True)}")
    return "\n".join(lines)
