"""Which recorded interaction answers a request: vcrpy matchers on method, path and a normalised
body.

Normalised means what changes between two sendings of the same request is
replaced: the model name (a gateway maps aliases to provider ids), ids such as
``msg_…`` or ``toolu_…``, dates, and ``metadata`` (Claude Code's per-user ids).
A cassette whose requests were not recorded (an imported transcript) says
``match_on: [method, path]`` in its provenance.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from vcr import matchers
from vcr.cassette import Cassette
from vcr.errors import UnhandledHTTPRequestError
from vcr.record_mode import RecordMode
from vcr.request import Request

from harness.tapes import Interaction, Tape

IDS = re.compile(r"\b(msg|toolu|srvtoolu|req|resp|call|fc|rs|chatcmpl|run|file)_[A-Za-z0-9_-]{6,}")
DATES = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?\b")
VOLATILE_FIELDS = ("model", "metadata", "user")


def normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: ("<model>" if k == "model" else normalise(v))
            for k, v in sorted(value.items())
            if k not in VOLATILE_FIELDS[1:]
        }
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str):
        return DATES.sub("<date>", IDS.sub(r"\1_<id>", value))
    return value


def normalised_body(request: Request) -> Any:
    raw = request.body or b""
    try:
        return normalise(json.loads(raw))
    except ValueError:
        return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def body(r1: Request, r2: Request) -> None:
    """vcrpy matcher: equal bodies once normalised; the assertion says where they differ."""
    a, b = normalised_body(r1), normalised_body(r2)
    assert a == b, f"normalised bodies differ: {_first_difference(a, b)}"


def _first_difference(a: Any, b: Any, path: str = "$") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key, "<absent>") != b.get(key, "<absent>"):
                return _first_difference(
                    a.get(key, "<absent>"), b.get(key, "<absent>"), f"{path}.{key}"
                )
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {json.dumps(a)[:120]} vs recorded {json.dumps(b)[:120]}"


MATCHERS: dict[str, Callable[[Request, Request], Any]] = {
    "method": matchers.method,
    "path": matchers.path,
    "body": body,
}


def player(tape: Tape) -> Cassette:
    """A vcrpy cassette that plays ``tape`` back, each interaction once, never recording."""
    names = tape.provenance.get("match_on") or ["method", "path", "body"]
    cassette = Cassette(
        str(tape.path), match_on=[MATCHERS[n] for n in names], record_mode=RecordMode.NONE
    )
    for interaction in tape.interactions:
        cassette.append(interaction.request, interaction.response)
    return cassette


class ReplayMiss(AssertionError):
    """A request no recorded interaction matches; it names the request and the closest
    interaction."""


def play(cassette: Cassette, request: Request, name: str) -> Interaction:
    try:
        return Interaction(request, cassette.play_response(request))
    except UnhandledHTTPRequestError:
        raise ReplayMiss(miss_text(cassette, request, name)) from None


def miss_text(cassette: Cassette, request: Request, name: str) -> str:
    closest = cassette.find_requests_with_most_matches(request)
    lines = [
        f"cassette {name}: no unplayed interaction matches {request.method} {request.path}",
        f"  sent:    {json.dumps(normalised_body(request))[:400]}",
    ]
    for stored, _, fails in closest[:1]:
        lines.append(
            f"  closest: {stored.method} {stored.path} {json.dumps(normalised_body(stored))[:400]}"
        )
        lines += [f"  differs in {matcher}: {why}" for matcher, why in fails]
    if not closest:
        lines.append("  closest: none (no interaction shares method or path)")
    return "\n".join(lines)
