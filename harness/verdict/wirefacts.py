"""The wire facts a failure is recognised by: what the client got and what the provider received,
reduced to what does not change from run to run.

Standard library only: a repro folder carries a copy beside its ``repro.py``
(:mod:`harness.tools.user.repro.replay`), and the pytest layer computes the recorded facts with the
same code when a check fails.
"""

from __future__ import annotations

import json
from typing import Any

PROVIDER_PORT = "{PROVIDER_PORT}"
# Headers that differ on every run or carry a credential: compared by presence only, or not at all.
VOLATILE = {
    "host",
    "content-length",
    "user-agent",
    "date",
    "traceparent",
    "accept-encoding",
    "connection",
    "accept",
    "x-amz-date",
    "x-amz-security-token",
}
# A credential exchange (Vertex's OAuth token) happens once per gateway process, not once per check.
TOKEN_PATHS = ("/token",)
SECRET = {"authorization", "x-api-key", "x-goog-api-key"}


def _events(text: str) -> list[str]:
    return [line[6:].strip() for line in text.splitlines() if line.startswith("event:")]


def answer_facts(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """What the client got, in a form that does not change from run to run."""
    kind = (headers.get("content-type") or "").split(";")[0].strip()
    out: dict[str, Any] = {"status": status, "content_type": kind}
    text = body.decode("utf-8", "replace")
    if kind == "text/event-stream":
        out["events"] = _events(text)
        return out
    try:
        parsed = json.loads(text)
    except ValueError:
        return out
    if isinstance(parsed, dict):
        out["fields"] = sorted(parsed)
        error = parsed.get("error")
        if isinstance(error, dict):
            out["error_type"] = error.get("type")
    return out


def provider_facts(method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """What the provider received: where, the protocol headers with their values, the body's
    fields."""
    kept = {
        k: v
        for k, v in sorted(headers.items())
        if (
            k.startswith(("anthropic-", "x-"))
            and k not in SECRET
            and not k.startswith("x-stainless")
            and k not in VOLATILE
        )
    }
    out: dict[str, Any] = {
        "request": f"{method} {path}",
        "headers": kept,
        "credential": sorted(k for k in headers if k in SECRET),
    }
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        out["body_fields"] = sorted(parsed)
        out["model"] = parsed.get("model")
    return out


def facts(answers: list[dict[str, Any]], received: list[dict[str, Any]]) -> dict[str, Any]:
    kept = [r for r in received if not r["request"].split(" ", 1)[1].endswith(TOKEN_PATHS)]
    return {"client": answers, "provider": kept}


def differences(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    out = []
    for side in ("client", "provider"):
        a, b = recorded.get(side, []), now.get(side, [])
        if len(a) != len(b):
            out.append(f"{side}: {len(a)} exchange(s) when the check failed, {len(b)} now")
        for n, (x, y) in enumerate(zip(a, b, strict=False)):
            for key in sorted(set(x) | set(y)):
                if x.get(key) != y.get(key):
                    out.append(f"{side} #{n} {key}: then {x.get(key)!r}, now {y.get(key)!r}")
    return out
