"""What Claude Code sends, per version.

These facts were measured on 2026-11-25 by running the real CLI from npm
(``claude -p … --output-format json``) against the fake Anthropic provider and
reading its journal. They are an interim, hand-transcribed record: the capture
command of the Claude Code client issue replaces them with generated profiles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ClaudeCodeFacts:
    version: str
    # alias → the model id the CLI requests for it with no model environment set
    defaults: dict[str, str]
    betas: tuple[str, ...]
    user_agent: str
    extra_headers: dict[str, str] = field(default_factory=dict)

    @property
    def default_names(self) -> list[str]:
        return sorted(set(self.defaults.values()))


CC_2_1_332 = ClaudeCodeFacts(
    version="2.1.332",
    defaults={"main": "claude-opus-5-5", "opus": "claude-opus-5-5", "sonnet": "claude-sonnet-5-5",
              "haiku": "claude-haiku-5-5"},
    betas=("claude-code-20250219", "interleaved-thinking-2025-05-14", "context-management-2025-06-27",
           "per-turn-control-2026-07-01", "mid-conversation-tool-changes-2026-07-01",
           "thinking-token-count-2026-05-13", "advanced-tool-use-2025-11-20", "effort-2025-11-24"),
    user_agent="claude-cli/2.1.332 (external, sdk-cli)",
    extra_headers={"x-claude-code-session-id": "00000000-0000-4000-8000-000000000000",
                   "x-stainless-lang": "js", "x-stainless-retry-count": "0"},
)
CC_2_0_77 = ClaudeCodeFacts(
    version="2.0.77",
    defaults={"main": "claude-sonnet-4-5-20250929", "opus": "claude-opus-4-5-20251101",
              "sonnet": "claude-sonnet-4-5-20250929", "haiku": "claude-haiku-4-5-20251001"},
    betas=("claude-code-20250219", "interleaved-thinking-2025-05-14"),
    user_agent="claude-cli/2.0.77 (external, sdk-cli)",
)
# The quickstart's table ("Default Model Name (v2.1.14)"); it matches 2.0.77, not current 2.1.x.
QUICKSTART_TABLE = ClaudeCodeFacts(
    version="quickstart-table",
    defaults={"main": "claude-sonnet-4-5-20250929", "light": "claude-haiku-4-5-20251001",
              "plan": "claude-opus-4-5-20251101"},
    betas=(),
    user_agent="",
)
KNOWN = (CC_2_1_332, CC_2_0_77, QUICKSTART_TABLE)
CURRENT = CC_2_1_332
CONTEXT_1M_BETA = "context-1m-2025-08-07"


def default_model_names() -> list[str]:
    """Every model name a known Claude Code version requests by default."""
    return sorted({name for facts in KNOWN for name in facts.defaults.values()})


def claude_code_body(model: str, text: str = "say hi", *, stream: bool = True) -> dict[str, Any]:
    """A request body shaped like Claude Code 2.1.332's first turn (measured), trimmed to stay small."""
    return {
        "model": model,
        "max_tokens": 32000,
        "stream": stream,
        "metadata": {"user_id": json.dumps({"device_id": "0f0f", "account_uuid": "",
                                            "session_id": "00000000-0000-4000-8000-000000000000"})},
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "medium"},
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332.0b8; cc_entrypoint=sdk-cli;"},
            {"type": "text", "text": "You are a Claude agent, built on Anthropic's Claude Agent SDK.",
             "cache_control": {"type": "ephemeral"}},
        ],
        "tools": [
            {"name": "Read", "description": "Read a file.",
             "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}},
                              "required": ["file_path"]}},
            {"name": "DeferredToolPlaceholder", "description": "A tool loaded on demand.",
             "input_schema": {"type": "object", "properties": {}}, "defer_loading": True},
        ],
        "messages": [{"role": "user", "content": [{"type": "text", "text": text,
                                                   "cache_control": {"type": "ephemeral"}}]}],
    }
