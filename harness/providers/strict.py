"""Fakes as strict as the real provider: what the real API refuses, the fake refuses the same way.

Otherwise a gateway could pass a check while sending something the provider would
reject. The fake Anthropic refuses a model id Anthropic does not serve (404
``not_found_error``), a body that is not a JSON object, a missing ``model``,
``messages`` or (on Messages) ``max_tokens``, and an ``anthropic-beta`` value that
does not exist (400 ``invalid_request_error``), with Anthropic's wording. The fake
OpenAI does the same for its models and bodies. What exists is read from the
catalogues kept with the cassettes (``cassettes/<provider>/catalogue.json``).

The fake Bedrock refuses an InvokeModel body that is not a JSON object, lacks
``anthropic_version``, ``max_tokens`` or ``messages``, or carries ``model`` or ``stream``
(Bedrock's "extraneous key" ValidationException), and a Converse body without
``messages``. The fake Vertex refuses a rawPredict body without its ``anthropic_version``,
``max_tokens`` or ``messages``. Their beta names differ from Anthropic's
(``tool-search-tool-2025-10-19``) and no catalogue of them is kept, so betas are not judged.

A cassette is the truth where it exists: a replayed answer is never second-guessed.
A check may loosen a fake on purpose with ``@pytest.mark.lenient_provider("why")``.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from harness.cassettes import DIRECTORY
from harness.providers.script import HttpError


@cache
def catalogue(provider: str) -> dict[str, frozenset[str]]:
    data = json.loads((DIRECTORY / provider / "catalogue.json").read_text())
    return {k: frozenset(v) for k, v in data.items() if isinstance(v, list)}


def _body(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _anthropic_body(raw: bytes, required: tuple[str, ...]) -> tuple[dict[str, Any] | None, HttpError | None]:
    """The body, or Anthropic's refusal of one that is not a JSON object or lacks a required field."""
    body = _body(raw)
    if body is None:
        return None, HttpError(400, "invalid_request_error", "There was an error parsing the body of your request.")
    missing = [f for f in required if f not in body]
    if missing:
        return None, HttpError(400, "invalid_request_error", f"{missing[0]}: Field required")
    return body, None


def anthropic_refusal(route: str | None, raw: bytes, beta_header: str | None) -> HttpError | None:
    if route not in ("messages", "count_tokens"):
        return None
    required = ("model", "messages", "max_tokens") if route == "messages" else ("model", "messages")
    body, refusal = _anthropic_body(raw, required)
    if body is None:
        return refusal
    unknown = [b for b in (v.strip() for v in (beta_header or "").split(",")) if b and b not in
               catalogue("anthropic")["betas"]]
    if unknown:
        return HttpError(400, "invalid_request_error",
                         f"Unexpected value(s) `{', '.join(unknown)}` for the `anthropic-beta` header. Please consult "
                         "our documentation at docs.anthropic.com or try again without the header.")
    if body["model"] not in catalogue("anthropic")["models"]:
        return HttpError(404, "not_found_error", f"model: {body['model']}")
    return None


def openai_refusal(route: str | None, raw: bytes) -> HttpError | None:
    if route not in ("chat", "responses"):
        return None
    body = _body(raw)
    if body is None:
        return HttpError(400, "invalid_request_error", "We could not parse the JSON body of your request.")
    if "model" not in body:
        return HttpError(400, "invalid_request_error", "Missing required parameter: 'model'.")
    needed = "messages" if route == "chat" else "input"
    if needed not in body and "previous_response_id" not in body:
        return HttpError(400, "invalid_request_error", f"Missing required parameter: '{needed}'.")
    if body["model"] not in catalogue("openai")["models"]:
        return HttpError(404, "model_not_found",
                         f"The model `{body['model']}` does not exist or you do not have access to it.")
    return None


BEDROCK_INVOKE_FIELDS = ("anthropic_version", "max_tokens", "messages")


def _bedrock_invalid(message: str) -> HttpError:
    return HttpError(400, "ValidationException", f"Malformed input request: {message}, please reformat your input "
                                                 "and try again.")


def bedrock_refusal(route: str | None, raw: bytes) -> HttpError | None:
    if route not in ("invoke", "invoke_stream", "converse", "converse_stream"):
        return None
    body = _body(raw)
    if body is None:
        return HttpError(400, "ValidationException", "Malformed input request, please reformat your input and try "
                                                     "again.")
    required = BEDROCK_INVOKE_FIELDS if route.startswith("invoke") else ("messages",)
    missing = [f for f in required if f not in body]
    if missing:
        return _bedrock_invalid(f"#: required key [{missing[0]}] not found")
    extraneous = [f for f in ("model", "stream") if f in body] if route.startswith("invoke") else []
    if extraneous:
        return _bedrock_invalid(f"#: extraneous key [{extraneous[0]}] is not permitted")
    return None


def vertex_refusal(route: str | None, raw: bytes) -> HttpError | None:
    """Anthropic's own body rules, with Vertex's anthropic_version in place of the model."""
    if route not in ("raw_predict", "stream_raw_predict"):
        return None
    return _anthropic_body(raw, ("anthropic_version", "max_tokens", "messages"))[1]
