"""The Anthropic SDK's recorded stream transcripts, kept as cassettes in
``cassettes/anthropic/sdk-*.yaml``.

They come from anthropics/anthropic-sdk-python's test fixtures (MIT; the licence is
``cassettes/anthropic/LICENSE.anthropic-sdk-python``), imported once with their provenance.
"""

from __future__ import annotations

from harness import tapes as cassettes

# Complete, valid streams; incomplete_partial_json_response is deliberately broken and left out.
VALID = (
    "basic_response",
    "tool_use_response",
    "refusal_response",
    "compaction_response",
    "fallback_response",
    "fallback_credit_response",
)
BROKEN = "incomplete_partial_json_response"


def cassette_name(name: str) -> str:
    return "anthropic/sdk-" + name.replace("_", "-")


def transcript(name: str) -> str:
    """The stream's exact text, as the provider sent it."""
    return cassettes.load(cassette_name(name)).interactions[0].body.decode()
