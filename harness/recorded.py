"""The recorded Anthropic stream transcripts in ../shared/recorded/anthropic-streams/."""

from __future__ import annotations

from pathlib import Path

DIRECTORY = Path(__file__).resolve().parents[2] / "shared" / "recorded" / "anthropic-streams"
# Complete, valid streams; incomplete_partial_json_response is deliberately broken and left out.
VALID = ("basic_response", "tool_use_response", "refusal_response", "compaction_response", "fallback_response",
         "fallback_credit_response")


def transcript(name: str) -> str:
    return (DIRECTORY / f"{name}.sse").read_text()
