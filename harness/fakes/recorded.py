"""Recorded Anthropic streams: the Anthropic SDK's transcripts (``cassettes/anthropic/sdk-*.yaml``)
and live recordings other projects published (``LIVE``).

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
# Live API streams other projects recorded and published (issue 40), by cassette name; each
# cassette's provenance names its source, commit and licence (NOTICE).
LIVE = (
    "live/pydantic-ai/anthropic-thinking-part-stream",
    "live/pydantic-ai/anthropic-redacted-thinking-stream",
    "live/pydantic-ai/anthropic-web-search-stream",
    "live/vercel-ai/anthropic-json-tool-stream",
)
# Every complete stream the recorded-stream checks replay.
STREAMS = VALID + LIVE


def cassette_name(name: str) -> str:
    return name if name in LIVE else "anthropic/sdk-" + name.replace("_", "-")


def stream_id(name: str) -> str:
    """A report row's id: the SDK fixture's name, or ``<source>/<name>`` of a live recording."""
    return name.removeprefix(cassettes.LIVE + "/")


def transcript(name: str) -> str:
    """The stream's exact text, as the provider sent it."""
    return cassettes.load(cassette_name(name)).interactions[0].body.decode()
