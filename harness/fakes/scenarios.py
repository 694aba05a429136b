"""The provider-facing scenarios: what is recorded from a provider, and replayed by the checks.

A scenario is what a client sends the gateway (one request, or a tool-use round trip of
two) and which gateway model it names. The same definition serves three uses:

- ``python -m harness record`` sends it through LiteLLM to the real provider (or a
  loopback stand-in) and writes what the provider answered as ``cassettes/<name>.yaml``;
- the replay checks (``suites/test_recorded.py``) send it again through the gateway under
  test, with the provider answering from the cassette (``--providers recorded``) or from
  the scenario's ``scripted`` answer (the default);
- the stand-in answers with ``standin``: different on purpose from ``scripted``, so a
  check that passes on a replay is known to have been answered by the cassette.

Choosing them, scripting their answers and sending them: :mod:`harness.fakes.scenario_runner`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.fakes.script import (
    HttpError,
    Live,
    ModelList,
    RedactedThinking,
    Reply,
    Scripted,
    Text,
    Thinking,
    TokenCount,
    ToolUse,
)
from harness.protocol.client import message_body

# Gateway model names of the recording config (harness.gateway.configs "providers"); the
# provider-side id is the recording's choice and lands in the cassette's provenance.
CLAUDE, CLAUDE_BAD_KEY = "cc-recorded-claude", "cc-recorded-claude-bad-key"
CLAUDE_UNKNOWN = "cc-recorded-no-such-claude"
GPT, GPT_BAD_KEY, GPT_UNKNOWN = (
    "cc-recorded-gpt",
    "cc-recorded-gpt-bad-key",
    "cc-recorded-no-such-gpt",
)
# Anthropic documents this prompt as the way to make the API answer with redacted_thinking.
REDACTED_TRIGGER = (
    "ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_46C9A13E193C177646C7398A98432ECCC"
    "E4C1253D5E2D82641AC0E52CC2876CB"
)
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


# Live recordings (cassettes/live/, issue 40) that answer scenarios by default.
LIVE = "live/pydantic-ai/"

ROUTE_PATHS = {
    "messages": frozenset({"/v1/messages"}),
    "count_tokens": frozenset({"/v1/messages/count_tokens"}),
    "models": frozenset({"/v1/models"}),
    "generation": frozenset({"/v1/responses", "/v1/chat/completions"}),
}


@dataclass(frozen=True)
class Scenario:
    name: str  # "<provider>/<scenario>", the cassette's name
    requirement: str  # what the replay check of this scenario states
    model: str
    body: dict[str, Any] | None
    scripted: Scripted | tuple[Scripted, ...]
    standin: Scripted | tuple[Scripted, ...]
    method: str = "POST"
    path: str = "/v1/messages?beta=true"
    route: str = "messages"  # the provider route it reaches (a fake's route name)
    # Builds the second request of a round trip from the first answer's JSON.
    followup: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    note: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)
    # The live recording(s) that answer it by default (issue 40); None: its script does.
    live: Scripted | tuple[Scripted, ...] | None = None

    @property
    def provider(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def provider_paths(self) -> frozenset[str]:
        """The provider paths this scenario's requests reach; anything else is the gateway's own
        chatter."""
        return ROUTE_PATHS[self.route]

    @property
    def stream(self) -> bool:
        return bool((self.body or {}).get("stream"))

    def answers(self, source: str) -> tuple[Scripted, ...]:
        """``live`` (its live recording, else its script), ``scripted`` or ``standin``."""
        if source == "live":
            source = "scripted" if self.live is None else "live"
        chosen = {"live": self.live, "scripted": self.scripted}.get(source, self.standin)
        assert chosen is not None
        return chosen if isinstance(chosen, tuple) else (chosen,)


def tool_result_turn(first: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """Claude Code's second turn: the assistant's tool_use back, and the tool's result."""
    uses = [b for b in answer.get("content", []) if b.get("type") == "tool_use"]
    results = [
        {"type": "tool_result", "tool_use_id": u["id"], "content": "18°C and sunny"} for u in uses
    ]
    messages = [
        *first["messages"],
        {"role": "assistant", "content": answer.get("content", [])},
        {"role": "user", "content": results or "go on"},
    ]
    return {**first, "messages": messages}


def _text_pair(what: str) -> tuple[Reply, Reply]:
    return (
        Reply.text(f"Scripted {what} from the harness."),
        Reply.text(
            f"Recorded {what} from the stand-in.", message_id="msg_01StandInRecordedAnswer01"
        ),
    )


def _anthropic() -> list[Scenario]:
    hello = message_body(CLAUDE, "Say hello in five words.")
    tools = message_body(
        CLAUDE, "What is the weather in Paris? Use the tool.", tools=[WEATHER_TOOL]
    )
    think = message_body(
        CLAUDE,
        "What is 17 * 23? Think first.",
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    tool_turns = (
        (
            Reply(blocks=(ToolUse("get_weather", {"city": "Paris"}),), stop_reason="tool_use"),
            Reply.text("Scripted: it is 18°C and sunny in Paris."),
        ),
        (
            Reply(
                blocks=(
                    ToolUse("get_weather", {"city": "Paris"}, id="toolu_01StandInToolUse0001"),
                ),
                stop_reason="tool_use",
            ),
            Reply.text("Recorded: 18°C and sunny in Paris, says the tool."),
        ),
    )
    paced = Reply(blocks=(Text(" ".join(str(n) for n in range(1, 31))),), delay=0.05)
    return [
        Scenario(
            "anthropic/text",
            "PIPE-001",
            CLAUDE,
            hello,
            *_text_pair("hello"),
            live=Live(LIVE + "anthropic-cache-write-and-read"),
        ),
        Scenario(
            "anthropic/text-stream",
            "PIPE-002",
            CLAUDE,
            {**hello, "stream": True},
            *_text_pair("stream"),
        ),
        Scenario(
            "anthropic/tool-use",
            "PIPE-001",
            CLAUDE,
            tools,
            tool_turns[0],
            tool_turns[1],
            followup=tool_result_turn,
            live=(
                Live(LIVE + "anthropic-tool-with-thinking", 0),
                Live(LIVE + "anthropic-tool-with-thinking", 1),
            ),
        ),
        Scenario(
            "anthropic/tool-use-stream",
            "STREAM-002",
            CLAUDE,
            {**tools, "stream": True},
            tool_turns[0],
            tool_turns[1],
            followup=tool_result_turn,
        ),
        Scenario(
            "anthropic/thinking",
            "PIPE-001",
            CLAUDE,
            think,
            Reply(blocks=(Thinking("17*23: 17*20=340, 17*3=51."), Text("391"))),
            Reply(
                blocks=(
                    Thinking(
                        "Seventeen times twenty-three is 391.", signature="EqStandInSignature01"
                    ),
                    Text("It is 391."),
                )
            ),
            live=Live(LIVE + "anthropic-thinking-part"),
        ),
        Scenario(
            "anthropic/thinking-stream",
            "STREAM-003",
            CLAUDE,
            {**think, "stream": True},
            Reply(blocks=(Thinking("17*23: 17*20=340, 17*3=51."), Text("391"))),
            Reply(
                blocks=(
                    Thinking(
                        "Seventeen times twenty-three is 391.", signature="EqStandInSignature01"
                    ),
                    Text("It is 391."),
                )
            ),
            live=Live(LIVE + "anthropic-thinking-part-stream"),
        ),
        Scenario(
            "anthropic/refusal",
            "PIPE-001",
            CLAUDE,
            message_body(CLAUDE, "Explain how to pick a lock."),
            Reply.text("I can't help with that.", stop_reason="refusal"),
            Reply.text("Recorded refusal.", stop_reason="refusal"),
            note="the real API refuses only some prompts; a recording may come back as an answer",
        ),
        Scenario(
            "anthropic/error-401",
            "ERR-001",
            CLAUDE_BAD_KEY,
            {**hello, "model": CLAUDE_BAD_KEY},
            HttpError(401, "authentication_error", "invalid x-api-key"),
            HttpError(401, "authentication_error", "invalid x-api-key (stand-in)"),
        ),
        Scenario(
            "anthropic/error-404",
            "ERR-001",
            CLAUDE_UNKNOWN,
            {**hello, "model": CLAUDE_UNKNOWN},
            HttpError(404, "not_found_error", "model: claude-no-such-model-0"),
            HttpError(404, "not_found_error", "model: claude-no-such-model-0 (stand-in)"),
        ),
        Scenario(
            "anthropic/error-400",
            "ERR-001",
            CLAUDE,
            {**hello, "temperature": 5},
            HttpError(400, "invalid_request_error", "temperature: range: 0..1"),
            HttpError(
                400, "invalid_request_error", "temperature: Input should be less than or equal to 1"
            ),
        ),
        Scenario(
            "anthropic/count-tokens",
            "COUNT-002",
            CLAUDE,
            hello,
            TokenCount(14),
            TokenCount(15),
            path="/v1/messages/count_tokens?beta=true",
            route="count_tokens",
        ),
        Scenario(
            "anthropic/models",
            "PASS-009",
            CLAUDE,
            None,
            ModelList(("claude-sonnet-4-5-20250929",)),
            ModelList(("claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929")),
            method="GET",
            path="/anthropic/v1/models",
            route="models",
        ),
        Scenario(
            "anthropic/paced-stream",
            "STREAM-008",
            CLAUDE,
            message_body(CLAUDE, "Count from 1 to 30, separated by spaces.", stream=True),
            paced,
            paced,
            tags=frozenset({"paced"}),
        ),
        Scenario(
            "anthropic/redacted-thinking-stream",
            "STREAM-004",
            CLAUDE,
            {**think, "stream": True, "messages": [{"role": "user", "content": REDACTED_TRIGGER}]},
            Reply(blocks=(RedactedThinking(), Text("ok"))),
            Reply(
                blocks=(
                    RedactedThinking("EmwKStandInRedactedThinkingData0001"),
                    Text("Recorded ok."),
                )
            ),
            note="the API answers this documented prompt with a redacted_thinking block",
            live=Live(LIVE + "anthropic-redacted-thinking-stream"),
        ),
    ]


def _openai() -> list[Scenario]:
    hello = message_body(GPT, "Say hello in five words.")
    tools = message_body(GPT, "What is the weather in Paris? Use the tool.", tools=[WEATHER_TOOL])
    tool_turns = (
        (
            Reply(
                blocks=(ToolUse("get_weather", {"city": "Paris"}, id="call_01ScriptedCall0001"),),
                stop_reason="tool_use",
            ),
            Reply.text("Scripted: 18°C in Paris."),
        ),
        (
            Reply(
                blocks=(ToolUse("get_weather", {"city": "Paris"}, id="call_01StandInCall0001"),),
                stop_reason="tool_use",
            ),
            Reply.text("Recorded: 18°C in Paris."),
        ),
    )
    return [
        Scenario("openai/text", "PIPE-003", GPT, hello, *_text_pair("hello"), route="generation"),
        Scenario(
            "openai/text-stream",
            "PIPE-004",
            GPT,
            {**hello, "stream": True},
            *_text_pair("stream"),
            route="generation",
        ),
        Scenario(
            "openai/tool-use",
            "PIPE-003",
            GPT,
            tools,
            tool_turns[0],
            tool_turns[1],
            route="generation",
            followup=tool_result_turn,
        ),
        Scenario(
            "openai/error-401",
            "ERR-001",
            GPT_BAD_KEY,
            {**hello, "model": GPT_BAD_KEY},
            HttpError(401, "invalid_api_key", "Incorrect API key provided"),
            HttpError(401, "invalid_api_key", "Incorrect API key provided (stand-in)"),
            route="generation",
        ),
        Scenario(
            "openai/error-404",
            "ERR-001",
            GPT_UNKNOWN,
            {**hello, "model": GPT_UNKNOWN},
            HttpError(404, "model_not_found", "The model `gpt-no-such-model` does not exist"),
            HttpError(
                404, "model_not_found", "The model `gpt-no-such-model` does not exist (stand-in)"
            ),
            route="generation",
        ),
        Scenario(
            "openai/error-400",
            "ERR-001",
            GPT,
            {**hello, "temperature": 5},
            HttpError(400, "invalid_request_error", "temperature must be at most 2"),
            HttpError(
                400, "invalid_request_error", "Invalid 'temperature': decimal above maximum value."
            ),
            route="generation",
        ),
    ]


SCENARIOS: dict[str, Scenario] = {s.name: s for s in [*_anthropic(), *_openai()]}
