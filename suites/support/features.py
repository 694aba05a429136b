"""The feature rows of LiteLLM's Claude Code compatibility matrix, as data both sides of the proxy
are held to.

Each row is what Claude Code sends for a feature (body fields and the beta they pair with)
and what Anthropic answers (a whole message, with the block types and usage fields the
feature brings). The checks send the request and script the answer, then compare what the
upstream received and what the client got, field by field.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

PDF = base64.b64encode(b"%PDF-1.4\n% conformance probe\n").decode()
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAA"
    "DUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@dataclass(frozen=True)
class Feature:
    requirement: str
    request: dict[str, Any]  # merged over a minimal Messages body
    content: list[dict[str, Any]]  # the answer's blocks
    beta: str | None = None
    usage: dict[str, Any] = field(default_factory=lambda: {"input_tokens": 12, "output_tokens": 7})
    extra: dict[str, Any] = field(
        default_factory=dict
    )  # top-level answer fields beside content and usage
    stop_reason: str = "end_turn"

    def answer(self, model: str) -> dict[str, Any]:
        return {
            "id": "msg_01FeatureRow0000000000001",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": self.content,
            "stop_reason": self.stop_reason,
            "stop_sequence": None,
            "usage": self.usage,
            **self.extra,
        }


def _user(*blocks: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"role": "user", "content": list(blocks)}]


def _text(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": text, **extra}


WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
SEARCH_RESULT = {
    "type": "web_search_result",
    "url": "https://example.com/gateways",
    "title": "Gateways",
    "encrypted_content": "EqgfCioIARgBIiQ3YTAwMjY1Mi1jZjM2LTQ0ZTAtYjQ2Zi1mMzEzMzIxMGM3ZjYS",
    "page_age": "November 2, 2026",
}
CITED = {
    "type": "web_search_result_location",
    "url": "https://example.com/gateways",
    "title": "Gateways",
    "encrypted_index": "Eo8BCioIAhgBIiQyYjQ0OWJmZi1lNm",
    "cited_text": "A gateway forwards betas.",
}

FEATURES: dict[str, Feature] = {
    "prompt-caching-5m-1h": Feature(
        "FEAT-001",
        {
            "system": [_text("You are terse.", cache_control={"type": "ephemeral", "ttl": "1h"})],
            "messages": _user(_text("hi", cache_control={"type": "ephemeral", "ttl": "5m"})),
        },
        [_text("ok")],
        beta="extended-cache-ttl-2025-04-11",
        usage={
            "input_tokens": 10,
            "output_tokens": 3,
            "cache_creation_input_tokens": 1200,
            "cache_read_input_tokens": 3400,
            "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 1000},
        },
    ),
    "web-search": Feature(
        "FEAT-002",
        {"tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]},
        [
            _text("Let me search."),
            {
                "type": "server_tool_use",
                "id": "srvtoolu_01WebSearch000000000001",
                "name": "web_search",
                "input": {"query": "claude code gateway betas"},
            },
            {
                "type": "web_search_tool_result",
                "tool_use_id": "srvtoolu_01WebSearch000000000001",
                "content": [SEARCH_RESULT],
            },
            _text("Gateways forward betas.", citations=[CITED]),
        ],
        usage={
            "input_tokens": 900,
            "output_tokens": 40,
            "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0},
        },
    ),
    "pdf-and-image": Feature(
        "FEAT-003",
        {
            "messages": _user(
                {
                    "type": "document",
                    "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
                },
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                },
                _text("What are these?"),
            )
        },
        [_text("A PDF and a one-pixel image.")],
    ),
    "structured-output": Feature(
        "FEAT-004",
        {
            "output_config": {
                "format": {
                    "type": "json_schema",
                    "schema": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                        "additionalProperties": False,
                    },
                }
            }
        },
        [_text('{"city": "Oslo"}')],
        beta="structured-outputs-2025-11-13",
    ),
    "tool-search": Feature(
        "FEAT-005",
        {
            "tools": [
                {"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"},
                {**WEATHER, "defer_loading": True},
            ]
        },
        [
            {
                "type": "server_tool_use",
                "id": "srvtoolu_01ToolSearch00000000001",
                "name": "tool_search_tool_regex",
                "input": {"query": "weather"},
            },
            {
                "type": "tool_search_tool_result",
                "tool_use_id": "srvtoolu_01ToolSearch00000000001",
                "content": {
                    "type": "tool_search_tool_search_result",
                    "tool_references": [{"type": "tool_reference", "tool_name": "get_weather"}],
                },
            },
            {
                "type": "tool_use",
                "id": "toolu_01ToolSearchUse000000001",
                "name": "get_weather",
                "input": {"city": "Oslo"},
            },
        ],
        beta="advanced-tool-use-2025-11-20",
        stop_reason="tool_use",
    ),
    "interleaved-thinking": Feature(
        "FEAT-006",
        {
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "tools": [WEATHER],
            "messages": [
                *_user(_text("Weather in Oslo?")),
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "thinking",
                            "thinking": "I should call the tool.",
                            "signature": "EqQBCgIYAh1sig",
                        },
                        {
                            "type": "tool_use",
                            "id": "toolu_01Interleaved000000000001",
                            "name": "get_weather",
                            "input": {"city": "Oslo"},
                        },
                    ],
                },
                *_user(
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_01Interleaved000000000001",
                        "content": "Rain, 4 C",
                    }
                ),
            ],
        },
        [
            {"type": "thinking", "thinking": "The tool says rain.", "signature": "EqQBCgIYAh2sig"},
            _text("Rain and 4 C in Oslo."),
        ],
        beta="interleaved-thinking-2025-05-14",
    ),
    "context-management": Feature(
        "FEAT-007",
        {
            "context_management": {
                "edits": [
                    {
                        "type": "clear_tool_uses_20250919",
                        "trigger": {"type": "input_tokens", "value": 30000},
                    }
                ]
            }
        },
        [_text("ok")],
        beta="context-management-2025-06-27",
        extra={"context_management": {"applied_edits": []}},
    ),
    "citations": Feature(
        "FEAT-008",
        {
            "messages": _user(
                {
                    "type": "document",
                    "source": {
                        "type": "text",
                        "media_type": "text/plain",
                        "data": "The grass is green.",
                    },
                    "title": "Facts",
                    "citations": {"enabled": True},
                },
                _text("What colour is grass?"),
            )
        },
        [
            _text(
                "Green.",
                citations=[
                    {
                        "type": "char_location",
                        "cited_text": "The grass is green.",
                        "document_index": 0,
                        "document_title": "Facts",
                        "start_char_index": 0,
                        "end_char_index": 19,
                    }
                ],
            )
        ],
    ),
}


def request_body(feature: Feature, model: str, stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": 4096,
        "messages": _user(_text("hi")),
        **feature.request,
    }
    if stream:
        body["stream"] = True
    return body
