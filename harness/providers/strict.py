"""Fakes as strict as the real provider: what the real API refuses, the fake refuses the same way.

Otherwise a gateway could pass a check while sending something the provider would
reject. The fake Anthropic refuses a model id Anthropic does not serve (404
``not_found_error``), a body that is not a JSON object, a missing ``model``,
``messages`` or (on Messages) ``max_tokens``, and an ``anthropic-beta`` value that
does not exist (400 ``invalid_request_error``), with Anthropic's wording. The fake
OpenAI does the same for its models and bodies. What exists is read from the
catalogues kept with the cassettes (``cassettes/<provider>/catalogue.json``).

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


def anthropic_refusal(route: str | None, raw: bytes, beta_header: str | None) -> HttpError | None:
    if route not in ("messages", "count_tokens"):
        return None
    body = _body(raw)
    if body is None:
        return HttpError(400, "invalid_request_error", "There was an error parsing the body of your request.")
    required = ("model", "messages", "max_tokens") if route == "messages" else ("model", "messages")
    missing = [f for f in required if f not in body]
    if missing:
        return HttpError(400, "invalid_request_error", f"{missing[0]}: Field required")
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
