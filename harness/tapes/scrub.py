"""Keeping secrets out of cassettes: what is scrubbed before anything is written, and what ``check``
refuses.

Scrubbed, in requests and responses:
- credential, cookie, organisation/project id and request id headers (replaced by ``<scrubbed>``);
- every value of a credential-like environment variable (``*_API_KEY``, ``*_TOKEN``, ``*SECRET*``,
  ``AWS_*``), wherever it appears: headers, URI and query, bodies, SSE data;
- anything secret-shaped (an Anthropic, OpenAI, AWS or Google key, a bearer token, a private key).

A streamed body is scrubbed chunk by chunk, so its pacing survives; a secret split across
two chunks merges them rather than slip through.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from vcr.request import Request

SCRUBBED = "<scrubbed>"
SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "x-amz-security-token",
        "x-amz-date",
        "x-amz-content-sha256",
        "openai-organization",
        "openai-project",
        "anthropic-organization-id",
        "x-request-id",
        "request-id",
        "x-amzn-requestid",
        "x-amz-request-id",
        "cf-ray",
        "x-goog-user-project",
        "x-litellm-call-id",
    }
)
SECRET_ENV = re.compile(r"(API_KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS?)$|^AWS_|_KEY$", re.I)
SECRET_SHAPES = (
    re.compile(rb"sk-ant-[A-Za-z0-9_-]{8,}"),
    re.compile(rb"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}"),
    re.compile(rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(rb"\bAIza[0-9A-Za-z_-]{35}\b"),
    re.compile(rb"\bya29\.[0-9A-Za-z_-]{20,}"),
    re.compile(rb"[Bb]earer\s+(?!<scrubbed>)[A-Za-z0-9._~+/=-]{16,}"),
    re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
)
# Ids of the provider's own bookkeeping inside bodies (Anthropic's error bodies carry one).
BODY_IDS = re.compile(rb'("(?:request_id|organization_id|project_id)"\s*:\s*")[^"]*(")')


def environment_secrets(env: Mapping[str, str] | None = None) -> list[str]:
    """The values of credential-like variables: what must never be written, whatever its shape."""
    source = os.environ if env is None else env
    return sorted(
        {v for k, v in source.items() if SECRET_ENV.search(k) and len(v) >= 8},
        key=len,
        reverse=True,
    )


class Scrubber:
    def __init__(self, secrets: Iterable[str]) -> None:
        # The plain, URL-encoded and JSON-escaped spellings of each secret.
        forms = {form for s in secrets for form in (s, quote(s, safe=""), s.replace("/", "\\/"))}
        self.literals = sorted((f.encode() for f in forms if f), key=len, reverse=True)

    def scrub_bytes(self, data: bytes) -> bytes:
        for literal in self.literals:
            data = data.replace(literal, SCRUBBED.encode())
        for shape in SECRET_SHAPES:
            data = shape.sub(SCRUBBED.encode(), data)
        return BODY_IDS.sub(rb"\1" + SCRUBBED.encode() + rb"\2", data)

    def scrub_text(self, value: str) -> str:
        return self.scrub_bytes(value.encode()).decode("utf-8", "replace")

    def headers(self, headers: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in headers.items():
            values = value if isinstance(value, list) else [value]
            kept = [
                SCRUBBED if name.lower() in SENSITIVE_HEADERS else self.scrub_text(str(v))
                for v in values
            ]
            out[name] = kept if isinstance(value, list) else kept[0]
        return out

    def request(self, request: Request) -> Request:
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        uri = self.scrub_text(request.uri)
        return Request(request.method, uri, self.scrub_bytes(body), self.headers(request.headers))

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(response)
        out["headers"] = self.headers(out.get("headers") or {})
        raw = (out.get("body") or {}).get("string", b"")
        body = raw if isinstance(raw, bytes) else str(raw).encode()
        if out.get("chunks"):
            out["body"]["string"], out["chunks"] = self._chunked(body, out["chunks"])
        else:
            out["body"] = {"string": self.scrub_bytes(body)}
        return out

    def _chunked(self, body: bytes, timing: list[list[float]]) -> tuple[bytes, list[list[float]]]:
        pieces, at = [], 0
        for pause, length in timing:
            pieces.append((pause, self.scrub_bytes(body[at : at + int(length)])))
            at += int(length)
        joined = b"".join(p for _, p in pieces)
        if (
            self.scrub_bytes(joined) != joined
        ):  # a secret straddled two chunks: one chunk, scrubbed whole
            whole = self.scrub_bytes(body)
            return whole, [[sum(float(p) for p, _ in timing), len(whole)]]
        return joined, [[pause, len(piece)] for pause, piece in pieces]


def findings(data: bytes, secrets: Iterable[str] = ()) -> list[str]:
    """Where ``data`` holds something secret-shaped, or one of ``secrets``; empty when clean."""
    found = [
        f"a value shaped like {shape.pattern[:24].decode()!r}…"
        for shape in SECRET_SHAPES
        if shape.search(data)
    ]
    found += [
        f"the value of a credential variable ({s[:4]}…)" for s in secrets if s.encode() in data
    ]
    return found
