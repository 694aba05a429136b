"""Assertions shared by the conformance checks; each failure says expected vs observed.

The wire transcript and the provider journal are attached to a failing test by
the plugin, so these messages stay short and precise.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from harness.protocol.client import Exchange
from harness.protocol.validators import validate_error
from harness.protocol.validators.bodies import ErrorEnvelope
from harness.protocol.validators.stream import StreamResult

NEEDS_OPENAI = pytest.mark.needs("openai")
# The two provider families a check can run against; OpenAI needs a translating gateway.
PROVIDER_PARAMS = [
    pytest.param("anthropic", id="anthropic"),
    pytest.param("openai", id="openai", marks=NEEDS_OPENAI),
]


def assert_status(ex: Exchange, expected: int | Iterable[int]) -> None:
    allowed = {expected} if isinstance(expected, int) else set(expected)
    assert ex.status in allowed, (
        f"expected HTTP {' or '.join(map(str, sorted(allowed)))}, observed {ex.status}: "
        f"{ex.text[:300]}"
    )


def assert_anthropic_error(ex: Exchange, status: int | None = None) -> ErrorEnvelope:
    """The response is an error in Anthropic's envelope (with the type documented for
    ``status``)."""
    return validate_error(ex.json(), status)


def assert_not_5xx(ex: Exchange) -> None:
    assert ex.status < 500, (
        f"expected a 4xx for a client mistake, observed {ex.status}: {ex.text[:300]}"
    )


def json_diff(sent: Any, received: Any, path: str = "$") -> list[str]:
    """Paths where ``received`` differs from ``sent``, for readable body-equality failures."""
    if isinstance(sent, dict) and isinstance(received, dict):
        out = []
        for key in sorted(set(sent) | set(received), key=str):
            if key not in received:
                out.append(f"{path}.{key}: dropped")
            elif key not in sent:
                out.append(f"{path}.{key}: added {json.dumps(received[key])[:80]}")
            else:
                out += json_diff(sent[key], received[key], f"{path}.{key}")
        return out
    if isinstance(sent, list) and isinstance(received, list) and len(sent) == len(received):
        return [
            d
            for i, (a, b) in enumerate(zip(sent, received, strict=True))
            for d in json_diff(a, b, f"{path}[{i}]")
        ]
    if sent != received:
        return [f"{path}: sent {json.dumps(sent)[:80]}, provider got {json.dumps(received)[:80]}"]
    return []


# STREAM-013's provider sends its events 0.1 s apart, as a provider generating tokens does, and the
# check reads two streams. Events that arrive in one read hide a gateway's reordering, and a proxy's
# first stream (while it still loads code) reads them together: without both, the verdict hung on
# the machine's load (LiteLLM's defaults put a ping first in a CI run on four workers, and not on an
# idle machine).
PROMPT_EVENT_GAP_S = 0.1
PROMPT_STREAMS = 2


def assert_opens_with_message_start(streams: Sequence[StreamResult | None], observe: Any) -> None:
    """STREAM-013: no ping ahead of message_start (the grammar allows it; the documented flow does
    not)."""
    assert streams, "no stream to judge"
    assert None not in streams, "expected an SSE stream"
    pings = [s.leading_pings for s in streams if s is not None]
    observe("pings before message_start", max(pings), better="fewer")
    assert max(pings) == 0, (
        f"expected message_start as event #0 of each stream, observed {pings} ping(s) first"
    )


# Which betas Bedrock and Vertex serve is judged by ROUTE-008, BEDROCK-002, VERTEX-002 and
# CTX1M-005; a check of signing, keys, streams or errors on those routes waives only the beta rules,
# so it still sees the others.
CLOUD_BETAS_JUDGED_ELSEWHERE = pytest.mark.lenient_provider(
    "not a check of betas: which betas Bedrock and Vertex serve is judged by ROUTE-008, "
    "BEDROCK-002, VERTEX-002 and CTX1M-005",
    rules=("BRK-INV-008", "BRK-CNV-013", "VTX-007"),
)
