"""The routes a Claude Code request can take through the gateway, for the checks that run on every
one.

A route is where the gateway sends a request and in which wire format: Anthropic, Bedrock
InvokeModel or Converse, Vertex, or OpenAI (Responses or chat completions) behind ``/v1/messages``,
or one of the pass-throughs (``/anthropic``, ``/bedrock``, ``/vertex_ai``), which relay the
provider's own bytes. Each knows its fake provider and the fake's route names, how the client calls
it, and how its provider says "slow down" and "overloaded" (status, envelope, headers), so a check
scripts one fault and runs it everywhere.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.fakes import HttpError, RecordedRequest
from harness.fakes.server import FakeProvider
from harness.gateway.configs import (
    BEDROCK_INVOKE_MODEL,
    SONNET,
    VERTEX_LOCATION,
    VERTEX_PASSTHROUGH_MODEL,
    VERTEX_PROJECT,
)
from harness.protocol.client import Exchange, GatewayClient, message_body
from harness.verdict.catalogue import catalogue

from .asserts import CLOUD_BETAS_JUDGED_ELSEWHERE

# What each provider sends with a 429, as its documentation names it.
ANTHROPIC_BACKOFF = (
    ("retry-after", "7"),
    ("x-should-retry", "true"),
    ("anthropic-ratelimit-requests-limit", "50"),
    ("anthropic-ratelimit-requests-remaining", "0"),
    ("anthropic-ratelimit-requests-reset", "2026-12-03T12:00:07Z"),
)
OPENAI_BACKOFF = (
    ("retry-after", "7"),
    ("x-ratelimit-limit-requests", "500"),
    ("x-ratelimit-remaining-requests", "0"),
    ("x-ratelimit-reset-requests", "7s"),
)

ANTHROPIC_RATE = HttpError(
    429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"
)
ANTHROPIC_OVERLOAD = HttpError(529, "overloaded_error", "Overloaded")
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html#API_runtime_InvokeModel_Errors
BEDROCK_RATE = HttpError(
    429, "ThrottlingException", "Too many requests, please wait before trying again."
)
BEDROCK_OVERLOAD = HttpError(
    503, "ServiceUnavailableException", "Bedrock is unable to process your request."
)
# cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude (429 quota in Google's
# envelope; Anthropic's own 529 relayed in Anthropic's envelope).
VERTEX_RATE = HttpError(
    429,
    "RESOURCE_EXHAUSTED",
    "Quota exceeded for aiplatform.googleapis.com/"
    "online_prediction_requests_per_base_model with base model: anthropic-claude-sonnet-4-5.",
)
# platform.openai.com/docs/guides/error-codes (429 rate limit; 503 "The engine is currently
# overloaded").
OPENAI_RATE = HttpError(
    429,
    "requests",
    "Rate limit reached for gpt-4o on requests per min (RPM): Limit 500.",
    fields=(("code", "rate_limit_exceeded"),),
)
OPENAI_OVERLOAD = HttpError(
    503,
    "server_error",
    "The engine is currently overloaded, please try again later.",
    fields=(("code", None),),
)

BEDROCK_PASS_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hi through the pass-through"}],
}
VERTEX_PASS_BODY = {
    "anthropic_version": "vertex-2023-10-16",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hi through the pass-through"}],
}


@dataclass(frozen=True)
class Route:
    """One way through the gateway to one provider."""

    name: str
    fake: str  # the fake provider's fixture, without ``_provider``
    json_route: str  # the fake's route name for a non-streamed request, and for a streamed one
    stream_route: str
    rate_limit: HttpError
    overload: HttpError
    pool: str | None = (
        None  # fresh_model's pool; None for a pass-through (no router, no retries, no cooldown)
    )
    gateway: str = "deployed"
    backoff: tuple[tuple[str, str], ...] = ()  # the headers this provider sends with a 429
    keepalive: bool = False  # whether its stream has a keep-alive frame (Anthropic's `ping`)
    needs: tuple[str, ...] = ()
    marks: tuple[Any, ...] = field(default=())

    @property
    def passthrough(self) -> bool:
        return self.pool is None

    def fake_routes(self) -> tuple[str, ...]:
        # LiteLLM picks Responses or chat completions by version and setting: both are scripted,
        # both read.
        return (
            ("responses", "chat") if self.fake == "openai" else (self.json_route, self.stream_route)
        )

    def script(
        self,
        fake: FakeProvider,
        item: Any,
        *,
        stream: bool,
        times: int | None = 1,
        optional: bool = False,
    ) -> None:
        if self.fake == "openai":
            fake.script_generation(item, times, optional=optional)  # type: ignore[attr-defined]
        else:
            fake.script(
                self.stream_route if stream else self.json_route,
                item,
                times=times,
                optional=optional,
            )

    def received(self, fake: FakeProvider) -> list[RecordedRequest]:
        """What reached the provider on this route (not the token endpoint, not model listings)."""
        routes = self.fake_routes()
        return [r for r in fake.received() if r.route in routes]

    def send(
        self, gateway: GatewayClient, model: str | None, *, stream: bool, text: str = "Say hello."
    ) -> Exchange:
        """The request a client sends this way: a Messages body, or the provider's own for a
        pass-through."""
        return gateway.request(
            "POST",
            self.path(stream),
            json_body=self.body(model, stream, text),
            validate=False,
            reason="a check under faults judges what arrived and how it ended",
        )

    def path(self, stream: bool) -> str:
        if self.name == "bedrock-passthrough":
            return (
                f"/bedrock/model/{BEDROCK_INVOKE_MODEL[0]}/"
                f"{'invoke-with-response-stream' if stream else 'invoke'}"
            )
        if self.name == "vertex-passthrough":
            where = f"projects/{VERTEX_PROJECT}/locations/{VERTEX_LOCATION}"
            op = "streamRawPredict" if stream else "rawPredict"
            return (
                f"/vertex_ai/v1/{where}/publishers/anthropic/models/{VERTEX_PASSTHROUGH_MODEL}:{op}"
            )
        return (
            "/anthropic" if self.name == "anthropic-passthrough" else ""
        ) + "/v1/messages?beta=true"

    def body(self, model: str | None, stream: bool, text: str = "Say hello.") -> dict[str, Any]:
        if self.name == "bedrock-passthrough":
            return {**BEDROCK_PASS_BODY, "messages": [{"role": "user", "content": text}]}
        if self.name == "vertex-passthrough":
            body = {**VERTEX_PASS_BODY, "messages": [{"role": "user", "content": text}]}
            return {**body, "stream": True} if stream else body
        return message_body(model or SONNET, text, stream=stream)


ROUTES = (
    Route(
        "anthropic",
        "anthropic",
        "messages",
        "messages",
        ANTHROPIC_RATE,
        ANTHROPIC_OVERLOAD,
        pool="anthropic",
        backoff=ANTHROPIC_BACKOFF,
        keepalive=True,
    ),
    Route(
        "bedrock-invoke",
        "bedrock",
        "invoke",
        "invoke_stream",
        BEDROCK_RATE,
        BEDROCK_OVERLOAD,
        pool="bedrock-invoke",
        needs=("bedrock",),
        marks=(CLOUD_BETAS_JUDGED_ELSEWHERE,),
    ),
    Route(
        "bedrock-converse",
        "bedrock",
        "converse",
        "converse_stream",
        BEDROCK_RATE,
        BEDROCK_OVERLOAD,
        pool="bedrock-converse",
        needs=("bedrock",),
        marks=(CLOUD_BETAS_JUDGED_ELSEWHERE,),
    ),
    Route(
        "vertex",
        "vertex",
        "raw_predict",
        "stream_raw_predict",
        VERTEX_RATE,
        ANTHROPIC_OVERLOAD,
        pool="vertex",
        keepalive=True,
        needs=("vertex",),
        marks=(CLOUD_BETAS_JUDGED_ELSEWHERE,),
    ),
    Route(
        "openai-responses",
        "openai",
        "responses",
        "responses",
        OPENAI_RATE,
        OPENAI_OVERLOAD,
        pool="openai",
        backoff=OPENAI_BACKOFF,
        needs=("openai",),
    ),
    Route(
        "openai-chat",
        "openai",
        "chat",
        "chat",
        OPENAI_RATE,
        OPENAI_OVERLOAD,
        pool="openai",
        gateway="deployed-openai-chat",
        backoff=OPENAI_BACKOFF,
        needs=("openai",),
    ),
    Route(
        "anthropic-passthrough",
        "anthropic",
        "messages",
        "messages",
        ANTHROPIC_RATE,
        ANTHROPIC_OVERLOAD,
        backoff=ANTHROPIC_BACKOFF,
        keepalive=True,
        needs=("anthropic-passthrough",),
    ),
    Route(
        "bedrock-passthrough",
        "bedrock",
        "invoke",
        "invoke_stream",
        BEDROCK_RATE,
        BEDROCK_OVERLOAD,
        needs=("bedrock-passthrough",),
        marks=(CLOUD_BETAS_JUDGED_ELSEWHERE,),
    ),
    Route(
        "vertex-passthrough",
        "vertex",
        "raw_predict",
        "stream_raw_predict",
        VERTEX_RATE,
        ANTHROPIC_OVERLOAD,
        keepalive=True,
        needs=("vertex-passthrough",),
        marks=(CLOUD_BETAS_JUDGED_ELSEWHERE,),
    ),
)
BY_NAME = {r.name: r for r in ROUTES}
# A fault check is not a check of betas: Claude Code's beta list, which LiteLLM forwards to Bedrock
# and Vertex as it stands, would have them refuse every request before any fault (that is
# ROUTE-008's finding).
CLOUD_BETA_RULES: tuple[str, ...] = tuple(CLOUD_BETAS_JUDGED_ELSEWHERE.kwargs["rules"])


def client_events(route: Route, ex: Exchange) -> list[str]:
    """The stream's events as the client saw them, by Anthropic's names, whatever the framing.

    A Bedrock pass-through relays the event stream: each ``chunk`` frame carries an Anthropic event,
    and an exception frame counts as an ``error``.
    """
    if ex.events is not None:
        return [e.type or e.event or "" for e in ex.events]
    if route.name != "bedrock-passthrough" or not ex.content or ex.status != 200:
        return []
    events, whole = bedrock_chunks(ex.content)
    types = [str(e.get("type", "?")) for e in events]
    return types if whole else [*types, "(cut frame)"]


def bedrock_chunks(content: bytes) -> tuple[list[dict[str, Any]], bool]:
    """The Anthropic events an InvokeModelWithResponseStream body carries (an exception frame as
    ``{"type": "error"}``), and whether it ended on a whole frame."""
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    buffer.add_data(content)
    events: list[dict[str, Any]] = []
    read = 0
    try:
        for message in buffer:
            read += message.prelude.total_length
            if message.headers.get(":message-type") == "exception":
                events.append({"type": "error"})
                continue
            data = json.loads(message.payload or b"{}").get("bytes")
            events.append(json.loads(base64.b64decode(data)) if data else {})
    except Exception:  # a frame cut in half by the break ends what can be read
        read = -1
    return events, read == len(content)


def as_sse(events: list[dict[str, Any]]) -> str:
    """Anthropic events written as the SSE a client on /v1/messages reads."""
    return "".join(f"event: {e.get('type')}\ndata: {json.dumps(e)}\n\n" for e in events)


def streamed_text(ex: Exchange) -> str:
    """The text deltas the client received, joined (for "no duplicated content")."""
    if ex.events is None:
        return ""
    deltas = [
        e.data.get("delta")
        for e in ex.events
        if e.type == "content_block_delta" and isinstance(e.data, dict)
    ]
    return "".join(d.get("text", "") for d in deltas if isinstance(d, dict))


def route_params(requirement: str, routes: tuple[Route, ...] = ROUTES) -> list[Any]:
    """One case per route, on the route's gateway; a route the catalogue rules out is skipped with
    its reason."""
    ruled_out = dict(catalogue()[requirement].not_on)
    unknown = set(ruled_out) - set(BY_NAME)
    if unknown:
        raise ValueError(f"{requirement}: not_on names unknown route(s) {sorted(unknown)}")
    params = []
    for route in routes:
        marks = [
            pytest.mark.gateway(route.gateway),
            *(pytest.mark.needs(n) for n in route.needs),
            *route.marks,
        ]
        if route.name in ruled_out:
            marks.append(
                pytest.mark.skip(reason=f"not applicable on {route.name}: {ruled_out[route.name]}")
            )
        params.append(pytest.param(route, id=route.name, marks=marks))
    return params
