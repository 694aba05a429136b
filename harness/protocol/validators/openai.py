"""OpenAI's streams held to the OpenAI SDK's types: each chat chunk a ``ChatCompletionChunk``, each
Responses event the ``ResponseStreamEvent`` member its ``type`` names.

The SDK's types are newer than some live answers, and the live answers win (issue 40). A field
the SDK requires and a recorded live answer lacks is allowed only when named here, with why:

- ``sequence_number``: the Responses API added it to every event in 2025-04; live streams
  recorded before lack it.
- ``cache_write_tokens`` (``usage.input_tokens_details``): newer SDKs require it; the API of
  2025-09 did not send it.
- ``logprobs`` (text delta and done events): the API added it in 2025-07.
"""

from __future__ import annotations

from typing import Any, get_args

import pydantic
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import ResponseStreamEvent

from harness.protocol.validators.sse import parse_sse

LATER_FIELDS = frozenset({"sequence_number", "cache_write_tokens", "logprobs"})


def _by_type() -> dict[str, type[pydantic.BaseModel]]:
    union = get_args(ResponseStreamEvent)[0]
    out = {}
    for model in get_args(union):
        kind = get_args(model.model_fields["type"].annotation)
        if kind:
            out[str(kind[0])] = model
    return out


RESPONSE_EVENTS = _by_type()


def _problems(model: type[pydantic.BaseModel], data: Any, where: str) -> list[str]:
    try:
        model.model_validate(data)
    except pydantic.ValidationError as exc:
        return [
            f"{where}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors()
            if not (e["type"] == "missing" and str(e["loc"][-1]) in LATER_FIELDS)
        ]
    return []


def stream_problems(path: str, text: str) -> list[str]:
    """Every event of a chat or Responses stream that the SDK's types refuse."""
    out: list[str] = []
    for n, event in enumerate(parse_sse(text)):
        if not isinstance(event.data, dict):
            continue  # data: [DONE]
        if not path.endswith("/responses"):
            out += _problems(ChatCompletionChunk, event.data, f"chunk {n}")
            continue
        kind = str(event.data.get("type"))
        model = RESPONSE_EVENTS.get(kind)
        if model is None:
            out.append(f"event {n}: {kind!r} is no Responses stream event")
        else:
            out += _problems(model, event.data, f"event {n} {kind}")
    return out
