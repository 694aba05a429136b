"""The fake provider's journal: each request as it arrived, and what the fake answered it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from harness.fakes.script import Fault


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
    # Whose bytes the answer is: "live <cassette>", "derived <cassette> (<how>)" or "synthetic"
    # (issue 40); "" when nothing answered.
    source: str = ""
    # What the provider answered: the status and the body's bytes (a stream's, joined).
    response_status: int = 0
    response_body: bytes = b""
    response_pauses: list[float] = field(default_factory=list)  # before each chunk of a stream
    response_headers: dict[str, str] = field(default_factory=dict)
    response_chunks: list[bytes] | None = (
        None  # a stream's chunks as written (None for a plain body)
    )
    # The provider's clock: when each chunk (or the whole body) had been written (time.monotonic()).
    emitted_at: list[float] = field(default_factory=list)
    # When the provider saw the gateway hang up (a failed write, or EOF while it was silent); None
    # if it did not.
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


# Framing is the server's own business: a replayed body is re-framed, never copied as it was.
HOP_BY_HOP = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}
)


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
        return cls(
            status, {"content-type": "application/json", **headers}, json.dumps(payload).encode()
        )


def secret_places(requests: Iterable[RecordedRequest], secret: str) -> list[str]:
    """Every header, body or query of the journalled requests that contains ``secret``."""
    found = []
    for n, req in enumerate(requests):
        found += [f"request #{n} header {k}" for k, v in req.headers.items() if secret in v]
        if secret.encode() in req.raw_body:
            found.append(f"request #{n} body")
        if any(secret in v for vs in req.query.values() for v in vs):
            found.append(f"request #{n} query")
    return found
