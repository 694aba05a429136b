"""Bedrock's answers held to AWS's own service model (botocore's ``bedrock-runtime`` shapes).

- ``converse_problems``: a Converse answer's fields, recursively, against ``ConverseResponse``.
- ``converse_stream_problems``: a ConverseStream body: every event-stream frame decodes with
  botocore's parser (lengths and CRCs), every event is a ``ConverseStreamOutput`` member with
  the member's fields, and the events come in the documented order.
- ``invoke_stream_events``: an InvokeModelWithResponseStream body's Anthropic events, out of
  their base64 ``{"bytes": ...}`` chunk frames.

Quirks the live recordings showed (issue 40), allowed here and named:

- ``p``: every event carries a random-length ``"p"`` string, padding against length-based
  traffic analysis; it is in no shape.
- ``cacheReadInputTokenCount`` / ``cacheWriteInputTokenCount``: older Converse answers carry
  these beside the modelled ``cacheReadInputTokens``.
- ``serverToolUsage`` (in ``usage``): the live API sends it; the botocore installed here
  predates it in ``TokenUsage``.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from botocore.eventstream import EventStreamBuffer
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape
from botocore.session import get_session

PADDING = "p"
QUIRKS = frozenset({"cacheReadInputTokenCount", "cacheWriteInputTokenCount", "serverToolUsage"})
ORDER = ("messageStart", "contentBlockStart", "contentBlockDelta", "contentBlockStop")


@cache
def _model() -> ServiceModel:
    # botocore ships the service model as data: no network.
    return get_session().get_service_model("bedrock-runtime")


def shape_problems(value: Any, shape: Shape, path: str = "$") -> list[str]:
    """Fields the shape has no member for, and values of the wrong JSON kind, by path."""
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, observed {type(value).__name__}"]
        out = []
        for key, item in value.items():
            if key in shape.members:
                out += shape_problems(item, shape.members[key], f"{path}.{key}")
            elif key != PADDING and key not in QUIRKS:
                out.append(f"{path}.{key}: no such member of {shape.name}")
        return out
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected a list, observed {type(value).__name__}"]
        return [
            p for n, v in enumerate(value) for p in shape_problems(v, shape.member, f"{path}[{n}]")
        ]
    if isinstance(shape, MapShape) or shape.type_name == "document":
        return []
    kinds = {"string": str, "integer": int, "long": int, "boolean": bool, "double": (int, float)}
    wanted = kinds.get(shape.type_name)
    if wanted is not None and not isinstance(value, wanted):  # type: ignore[arg-type]
        return [f"{path}: expected a {shape.type_name}, observed {json.dumps(value)[:60]}"]
    return []


def converse_problems(body: Any) -> list[str]:
    return shape_problems(body, _model().shape_for("ConverseResponse"))


def frames(body: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """Each frame's headers and payload; botocore raises on a bad length or CRC."""
    buffer = EventStreamBuffer()
    buffer.add_data(body)
    return [(dict(m.headers), bytes(m.payload)) for m in buffer]


def converse_stream_problems(body: bytes) -> list[str]:
    out: list[str] = []
    union = _model().shape_for("ConverseStreamOutput")
    assert isinstance(union, StructureShape)
    seen: list[str] = []
    for n, (headers, payload) in enumerate(frames(body)):
        kind = str(headers.get(":event-type") or headers.get(":exception-type") or "")
        if kind not in union.members:
            out.append(f"frame {n}: {kind!r} is no ConverseStreamOutput member")
            continue
        seen.append(kind)
        out += shape_problems(json.loads(payload), union.members[kind], f"frame {n} {kind}")
    out += _order_problems(seen)
    return out


def _order_problems(seen: list[str]) -> list[str]:
    if not seen:
        return ["no event at all"]
    errors = [k for k in seen if k.endswith("Exception")]
    body = [k for k in seen if not k.endswith("Exception")]
    out = []
    if body and body[0] != "messageStart":
        out.append(f"the first event is {body[0]}, not messageStart")
    if not errors and body[-2:] != ["messageStop", "metadata"]:
        out.append(f"the stream ends {body[-2:]}, not messageStop then metadata")
    return out


def invoke_stream_events(body: bytes) -> list[dict[str, Any]]:
    """The Anthropic events inside InvokeModelWithResponseStream's chunk frames."""
    events = []
    for headers, payload in frames(body):
        if headers.get(":event-type") == "chunk":
            events.append(json.loads(base64.b64decode(json.loads(payload)["bytes"])))
    return events
