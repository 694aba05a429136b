"""What ``python -m harness cassettes check | verify | diff`` do, as functions that return findings.

- ``check``: no cassette holds anything secret (a credential header with a value, a value of a
  credential variable, anything secret-shaped), and every cassette loads with its provenance.
- ``verify``: every recorded stream passes the grammar validator, every body the SDK types, so a
  cassette is known to be what the provider speaks before a check trusts it.
- ``diff``: what changed in a provider's behaviour between two recordings of a scenario.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pydantic
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

from harness.protocol.validators import (
    BodyShapeError,
    bedrock,
    check_stream,
    validate_error,
    validate_message,
    validate_model_list,
)
from harness.protocol.validators import openai as openai_streams
from harness.protocol.validators.bodies import validate_token_count
from harness.tapes import CassetteError, Interaction, Tape, load
from harness.tapes.scrub import SCRUBBED, SENSITIVE_HEADERS, environment_secrets, findings


def check(paths: Iterable[Path], secrets: Iterable[str] | None = None) -> list[str]:
    known = list(environment_secrets() if secrets is None else secrets)
    out: list[str] = []
    for path in paths:
        try:
            tape = load(path)
        except CassetteError as exc:
            out.append(str(exc))
            continue
        out += [f"{path}: {problem}" for problem in _secrets_in(tape, known)]
    return out


def _secrets_in(tape: Tape, secrets: list[str]) -> list[str]:
    out = []
    for n, i in enumerate(tape.interactions):
        raw = (
            i.request.body
            if isinstance(i.request.body, bytes)
            else str(i.request.body or "").encode()
        )
        places = {
            "request uri": i.request.uri.encode(),
            "request body": raw,
            "response body": i.body,
            "request headers": json.dumps(dict(i.request.headers)).encode(),
            "response headers": json.dumps(i.headers).encode(),
        }
        out += [
            f"interaction {n} {where}: {f}"
            for where, data in places.items()
            for f in findings(data, secrets)
        ]
        headers = [*i.request.headers.items(), *i.headers.items()]
        out += [
            f"interaction {n}: header {k} is kept unscrubbed"
            for k, v in headers
            if k.lower() in SENSITIVE_HEADERS and str(v).strip("[]'\" ") != SCRUBBED
        ]
    return out


# -- verify ---------------------------------------------------------------------------------------


def verify(tape: Tape) -> list[str]:
    """Each interaction's answer, held to the grammar and the provider's SDK types."""
    out = []
    for n, i in enumerate(tape.interactions):
        try:
            problem = _verify_one(tape, i)
        except (BodyShapeError, pydantic.ValidationError, ValueError) as exc:
            problem = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        if problem:
            out.append(
                f"{tape.name} interaction {n} ({i.request.method} {i.request.path} -> {i.status}): "
                f"{problem}"
            )
    return out


def _verify_one(tape: Tape, i: Interaction) -> str:
    if tape.provider == "bedrock":
        return "; ".join(_bedrock(i)[:3])
    if tape.provider == "openai" and i.headers.get("content-type", "").startswith(
        "text/event-stream"
    ):
        found = openai_streams.stream_problems(i.request.path, i.body.decode("utf-8", "replace"))
        return "; ".join(found[:3])
    if i.headers.get("content-type", "").startswith("text/event-stream"):
        result = (
            check_stream(i.body.decode("utf-8", "replace"))
            if tape.provider == "anthropic"
            else None
        )
        broken = result is not None and not result.ok
        if broken != (tape.provenance.get("expect") == "invalid-stream"):
            return "stream grammar: " + (
                "; ".join(str(v) for v in result.violations[:3])
                if result and broken
                else "expected an invalid stream, but it is valid"
            )
        return ""
    body = json.loads(i.body) if i.body else None
    validator = _anthropic if tape.provider == "anthropic" else _openai
    validator(i.request.path, i.status, body)
    return ""


def _anthropic(path: str, status: int, body: Any) -> None:
    if status >= 400:
        validate_error(body, status)
    elif path.endswith("/count_tokens"):
        validate_token_count(body)
    elif path.endswith("/models"):
        validate_model_list(body)
    else:
        validate_message(body)


def _openai(path: str, status: int, body: Any) -> None:
    if status >= 400:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or "message" not in error:
            raise ValueError(f"not OpenAI's error envelope: {json.dumps(body)[:200]}")
    elif path.endswith("/responses"):
        Response.model_validate(body)
    elif path.endswith("/chat/completions"):
        ChatCompletion.model_validate(body)


def _bedrock(i: Interaction) -> list[str]:
    """Bedrock's answers against botocore's service model; Invoke's events against Anthropic's."""
    path = i.request.path
    if i.status >= 400:
        body = json.loads(i.body)
        ok = isinstance(body, dict) and isinstance(body.get("message"), str)
        return [] if ok else [f"not Bedrock's error envelope: {i.body[:200]!r}"]
    if path.endswith("/converse-stream"):
        return bedrock.converse_stream_problems(i.body)
    if path.endswith("/converse"):
        return bedrock.converse_problems(json.loads(i.body))
    if path.endswith("/invoke-with-response-stream"):
        events = bedrock.invoke_stream_events(i.body)
        text = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
        return [str(v) for v in check_stream(text).violations]
    validate_message(json.loads(i.body))
    return []


# -- diff -----------------------------------------------------------------------------------------


def shape(i: Interaction) -> dict[str, set[str]]:
    """What a diff compares: status, header names, JSON field paths, SSE event types."""
    out: dict[str, set[str]] = {
        "status": {str(i.status)},
        "headers": set(i.headers),
        "fields": set(),
        "events": set(),
    }
    text = i.body.decode("utf-8", "replace")
    if i.headers.get("content-type", "").startswith("text/event-stream"):
        for line in text.splitlines():
            if line.startswith("data:"):
                data = _json(line[5:])
                if isinstance(data, dict):
                    out["events"].add(str(data.get("type", "?")))
                    out["fields"] |= _paths(data, str(data.get("type", "?")))
    else:
        out["fields"] = _paths(_json(text), "$")
    return out


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _paths(value: Any, prefix: str) -> set[str]:
    if isinstance(value, dict):
        return {
            p for k, v in value.items() for p in ({f"{prefix}.{k}"} | _paths(v, f"{prefix}.{k}"))
        }
    if isinstance(value, list):
        return {p for v in value for p in _paths(v, f"{prefix}[]")}
    return set()


def diff(old: Tape, new: Tape) -> list[str]:
    """Added and removed statuses, headers, fields and event types, interaction by interaction."""
    out = []
    if len(old.interactions) != len(new.interactions):
        out.append(f"interactions: {len(old.interactions)} -> {len(new.interactions)}")
    for n, (a, b) in enumerate(zip(old.interactions, new.interactions, strict=False)):
        sa, sb = shape(a), shape(b)
        for kind in sa:
            added, removed = sorted(sb[kind] - sa[kind]), sorted(sa[kind] - sb[kind])
            out += [f"interaction {n} {kind}: + {x}" for x in added]
            out += [f"interaction {n} {kind}: - {x}" for x in removed]
    return out
