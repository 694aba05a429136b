"""A client that talks to a gateway the way Claude Code does, and keeps the wire transcript.

The headers are those measured from the real Claude Code CLI (see
``harness.claude_code``): ``/v1/messages?beta=true``, ``anthropic-version``, a
comma-separated ``anthropic-beta`` list, ``x-app: cli``, and the key as
``Authorization: Bearer`` (``ANTHROPIC_AUTH_TOKEN``) or ``x-api-key``
(``ANTHROPIC_API_KEY``).
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from harness.claude_code import CURRENT, ClaudeCodeFacts
from harness.protocol import loopback
from harness.protocol.validators import StreamGrammarError, StreamResult, check_stream, parse_sse
from harness.protocol.validators.bodies import (
    BodyShapeError,
    validate_message,
    validate_token_count,
)
from harness.protocol.validators.sse import SSEEvent, iter_sse, render_sse

Auth = Literal["bearer", "x-api-key", "none"]


def claude_code_headers(profile: ClaudeCodeFacts) -> dict[str, str]:
    """The headers a Claude Code version sends on every Messages call, from its captured profile."""
    return {
        "anthropic-version": "2023-06-01",
        "anthropic-beta": ",".join(profile.betas),
        "x-app": "cli",
        "user-agent": profile.user_agent,
        "anthropic-dangerous-direct-browser-access": "true",
        **profile.extra_headers,
    }


# The newest captured profile's, for checks that speak as "Claude Code" without naming a version.
CLAUDE_CODE_BETAS = CURRENT.betas
CLAUDE_CODE_HEADERS = claude_code_headers(CURRENT)


@dataclass
class Exchange:
    """One request to the gateway and what came back."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    # The body's bytes as they came (a binary stream, such as Bedrock's event stream, is not text).
    content: bytes = b""
    events: list[SSEEvent] | None = None
    stream: StreamResult | None = None
    started: float = 0.0
    elapsed: float = 0.0
    # How the answer's connection broke before it was whole ("" if it did not); only with
    # validate=False.
    broken: str = ""
    # Why this exchange's answer was not validated (validate=False); shown in the transcript.
    unvalidated: str = ""

    @property
    def ended(self) -> float:
        """When the exchange was over on the monotonic clock: the answer read, or the client hung
        up."""
        return self.started + self.elapsed

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            raise AssertionError(f"response is not JSON:\n{self.transcript()}") from None

    def transcript(self, redact: str | None = None) -> str:
        hdrs = "\n".join(f"> {k}: {v}" for k, v in self.request_headers.items())
        body = (
            self.request_body
            if isinstance(self.request_body, str)
            else json.dumps(self.request_body)
        )
        answer = render_sse(self.events) if self.events is not None else self.text
        rhdrs = "\n".join(f"< {k}: {v}" for k, v in self.headers.items())
        out = (
            f"> {self.method} {self.url}\n{hdrs}\n>\n> {body}\n"
            f"< {self.status}\n{rhdrs}\n<\n{answer}"
        )
        if self.broken:
            out += f"\n(the connection broke before the answer was whole: {self.broken})"
        if self.unvalidated:
            out += f"\n(not validated: {self.unvalidated})"
        return out.replace(redact, "<master-key>") if redact else out


class GatewayClient:
    """httpx against the gateway, with Claude Code's headers and a transcript of every exchange."""

    def __init__(
        self,
        base_url: str,
        key: str | None,
        auth: Auth = "bearer",
        timeout: float = 60.0,
        profile: ClaudeCodeFacts = CURRENT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.auth = auth
        # The Claude Code version this client speaks as (its headers); the newest captured one
        # unless named.
        self.profile_headers = claude_code_headers(profile)
        self.exchanges: list[Exchange] = []
        self._http = loopback.client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def headers(
        self, auth: Auth | None = None, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        out = dict(self.profile_headers)
        mode = auth or self.auth
        if mode == "bearer" and self.key is not None:
            out["authorization"] = f"Bearer {self.key}"
        elif mode == "x-api-key" and self.key is not None:
            out["x-api-key"] = self.key
        for k, v in (extra or {}).items():
            # Names as the check wrote them (PROTO-012 sends mixed case); one header per name,
            # whatever its case.
            for same in [name for name in out if name.lower() == k.lower()]:
                del out[same]
            if v is not None:
                out[k] = v
        return out

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: Auth | None = None,
        validate: bool = True,
        reason: str = "",
    ) -> Exchange:
        """Send one request; a streamed answer is read event by event and grammar-checked, and a 200
        JSON answer on Messages or count_tokens is validated against the SDK's types.

        ``validate=False`` (with the ``reason``, shown in the transcript) leaves the answer to the
        check.
        """
        if not validate and not reason:
            raise ValueError(
                "validate=False needs a reason: why is this answer not held to the SDK's types?"
            )
        hdrs = self.headers(auth, headers)
        if content is None and json_body is not None:
            content = json.dumps(json_body).encode()
            hdrs.setdefault("content-type", "application/json")
        url = self.base_url + path
        shown = json_body if json_body is not None else (content or b"").decode("utf-8", "replace")
        ex = Exchange(
            method,
            url,
            hdrs,
            shown,
            started=time.monotonic(),
            unvalidated="" if validate else reason,
        )
        self.exchanges.append(ex)
        if any(v != v.strip() for v in hdrs.values()):
            # httpx (h11) refuses header values with edge whitespace, such as the
            # "Bearer " an empty ANTHROPIC_AUTH_TOKEN produces; send those raw.
            return self._send_raw(ex, content)
        with self._http.stream(method, url, content=content, headers=hdrs) as response:
            ex.status, ex.headers = response.status_code, dict(response.headers)
            try:
                self._read(response, ex)
            except httpx.TransportError as exc:
                if validate:
                    raise
                # A check of a broken upstream judges what arrived and how it ended, not the
                # exception.
                ex.broken = f"{type(exc).__name__}: {exc}"
        ex.elapsed = time.monotonic() - ex.started
        if ex.events is not None:
            ex.stream = check_stream(ex.events)
            if validate and ex.status == 200 and not ex.stream.ok:
                raise StreamGrammarError(ex.stream)
        elif validate and ex.status == 200:
            _validate_body(ex)
        return ex

    @staticmethod
    def _read(response: httpx.Response, ex: Exchange) -> None:
        """The answer's events or bytes into ``ex`` as they arrive, so a break keeps what came
        before it."""
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            ex.events = []
            for event in iter_sse(_tee(response, ex)):
                ex.events.append(event)
            return
        try:
            for chunk in response.iter_bytes():
                ex.content += chunk
        finally:
            ex.text = ex.content.decode("utf-8", "replace")

    @staticmethod
    def _raw_request(
        ex: Exchange, content: bytes | None, timeout: float | None
    ) -> http.client.HTTPConnection:
        """``ex``'s request sent on a bare connection, for what httpx will not send or wait for."""
        url = urlsplit(ex.url)
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=timeout)
        try:
            conn.request(
                ex.method,
                (url.path or "/") + (f"?{url.query}" if url.query else ""),
                body=content,
                headers=ex.request_headers,
            )
        except BaseException:
            conn.close()
            raise
        return conn

    def _send_raw(self, ex: Exchange, content: bytes | None) -> Exchange:
        conn = self._raw_request(ex, content, self._http.timeout.read)
        try:
            response = conn.getresponse()
            ex.status, ex.headers = (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
            )
            ex.text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        ex.elapsed = time.monotonic() - ex.started
        if ex.headers.get("content-type", "").startswith("text/event-stream"):
            ex.events, ex.text = parse_sse(ex.text), ""
            ex.stream = check_stream(ex.events)
        return ex

    def leave_pending(
        self, path: str, body: dict[str, Any], until: Callable[[], object], limit: float = 15.0
    ) -> Exchange:
        """Send a request and hang up, unanswered, once ``until()`` holds (say, once the provider
        has it).

        The client leaves at the moment the check chooses, not at a timeout: a loaded machine can
        take longer than any fixed timeout to forward the request, and the client would leave before
        it.
        """
        hdrs = {**self.headers(), "content-type": "application/json"}
        ex = Exchange("POST", self.base_url + path, hdrs, body, started=time.monotonic())
        self.exchanges.append(ex)
        conn = self._raw_request(ex, json.dumps(body).encode(), limit)
        try:
            deadline = time.monotonic() + limit
            while not (held := bool(until())) and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            conn.close()
        ex.elapsed = time.monotonic() - ex.started
        ex.text = f"(the client hung up after {ex.elapsed:.2f} s, unanswered)"
        if not held:
            raise AssertionError(
                f"the moment to leave never came within {limit:g} s (did the gateway answer at "
                f"once, or never forward the request?):\n{ex.transcript()}"
            )
        return ex

    def messages(
        self, body: dict[str, Any], *, beta: bool = True, prefix: str = "", **kw: Any
    ) -> Exchange:
        """``POST /v1/messages`` as Claude Code sends it (``?beta=true``)."""
        return self.request(
            "POST", f"{prefix}/v1/messages" + ("?beta=true" if beta else ""), json_body=body, **kw
        )

    def count_tokens(self, body: dict[str, Any], *, prefix: str = "", **kw: Any) -> Exchange:
        return self.request(
            "POST", f"{prefix}/v1/messages/count_tokens?beta=true", json_body=body, **kw
        )


# The answers held to the SDK's types on every 200 (any prefix: the Anthropic pass-through answers
# the same).
BODY_VALIDATORS: dict[str, Callable[[Any], object]] = {
    "/v1/messages": validate_message,
    "/v1/messages/count_tokens": validate_token_count,
}


def _validate_body(ex: Exchange) -> None:
    """A success on Messages or count_tokens is the provider's answer in Anthropic's shape, or the
    check fails."""
    path = urlsplit(ex.url).path
    validator = next((v for suffix, v in BODY_VALIDATORS.items() if path.endswith(suffix)), None)
    if validator is None or ex.method != "POST":
        return
    try:
        body = json.loads(ex.text)
    except ValueError:
        raise BodyShapeError(
            f"HTTP 200 on {path} is not JSON",
            ex.text or "(an empty body)",
            f"a success must carry the answer\n{ex.transcript()}",
        ) from None
    try:
        validator(body)
    except BodyShapeError as exc:
        raise BodyShapeError(
            f"HTTP 200 on {path} is not the SDK's type",
            body,
            f"{str(exc).splitlines()[0]}\n{ex.transcript()}",
        ) from None


def message_body(
    model: str, text: str = "Say hello.", *, stream: bool = False, **extra: Any
) -> dict[str, Any]:
    """A minimal Messages request body."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 256,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }
    if stream:
        body["stream"] = True
    return body


def beta_set(header: str | None) -> set[str]:
    """The values of an ``anthropic-beta`` header; Anthropic treats the list as a set."""
    return {b.strip() for b in (header or "").split(",") if b.strip()}


def _tee(response: httpx.Response, ex: Exchange) -> httpx.Response:
    """The same stream, its bytes kept in ``ex.content`` as they pass (a pass-through relays bytes,
    not events)."""

    def chunks() -> Iterator[bytes]:
        for chunk in response.iter_bytes():
            ex.content += chunk
            yield chunk

    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-encoding"}
    return httpx.Response(response.status_code, headers=headers, content=chunks())
