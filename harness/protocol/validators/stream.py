"""A state machine for the Anthropic Messages stream grammar.

The grammar (Anthropic's streaming docs, and DESIGN.md): ``message_start`` first;
then for each content block ``content_block_start`` → deltas of the type that
block takes → ``content_block_stop``, with indices 0, 1, 2, … and one block open
at a time; then ``message_delta`` carrying ``stop_reason``; ``message_stop`` last
and exactly once. ``ping`` may come anywhere: the docs say a stream may hold
"any number of ping events" and the SDKs drop pings before parsing, so pings
ahead of ``message_start`` are noted (``leading_pings``) rather than a grammar
break; STREAM-013 judges them on their own. An
``error`` event ends the stream. Event types the validator does not know are
tolerated and noted, because Anthropic adds new ones over time.

Every violation names the rule it breaks, so a failing check says *what* is
wrong with a gateway's stream, not just that it differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.protocol.validators.sse import SSEEvent, parse_sse, render_sse

RULES: dict[str, str] = {
    "data-is-json-object": "every event's data is a JSON object with a `type`",
    "event-name-matches-type": "the SSE `event:` name equals the data's `type`",
    "first-event-is-message-start": "the first event other than `ping` is `message_start`",
    "single-message-start": "`message_start` occurs exactly once",
    "block-index-contiguous": "content blocks are numbered 0, 1, 2, … in order of their start",
    "one-block-open-at-a-time": "a block starts only after the previous one stopped",
    "event-in-open-block": "deltas and `content_block_stop` refer to the block that is open",
    "delta-type-matches-block": "each delta has the type its block takes (text_delta for text, …)",
    "tool-input-is-json": "a tool_use block's joined `partial_json` is a JSON object",
    "blocks-closed-before-message-delta": "every block is stopped before `message_delta`",
    "no-content-after-message-delta": "no content block event follows `message_delta`",
    "message-delta-has-stop-reason": (
        "a `message_delta` with a non-null `stop_reason` precedes `message_stop`"
    ),
    "message-stop-is-last": "`message_stop` occurs exactly once and nothing but pings follows it",
    "stream-is-terminated": "the stream ends with `message_stop` or an `error` event",
    "error-ends-stream": "nothing follows an `error` event",
    "error-event-shape": "an `error` event carries `error.type` and `error.message`",
}

BLOCK_DELTAS: dict[str, frozenset[str]] = {
    "text": frozenset({"text_delta", "citations_delta"}),
    "tool_use": frozenset({"input_json_delta"}),
    "server_tool_use": frozenset({"input_json_delta"}),
    "mcp_tool_use": frozenset({"input_json_delta"}),
    "thinking": frozenset({"thinking_delta", "signature_delta"}),
    "redacted_thinking": frozenset(),
    "compaction": frozenset({"compaction_delta"}),
    "fallback": frozenset(),
}


@dataclass(frozen=True)
class Violation:
    rule: str
    index: int
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] event #{self.index}: {self.message}"


@dataclass
class AssembledBlock:
    """A content block rebuilt from its deltas."""

    start: dict[str, Any]
    deltas: list[dict[str, Any]] = field(default_factory=list)
    stopped: bool = False

    @property
    def type(self) -> str:
        return str(self.start.get("type"))

    def joined(self, key: str) -> str:
        return "".join(str(d.get(key, "")) for d in self.deltas if key in d)

    @property
    def text(self) -> str:
        return self.joined("text")

    @property
    def partial_json(self) -> str:
        return self.joined("partial_json")

    @property
    def thinking(self) -> str:
        return self.joined("thinking")

    @property
    def signature(self) -> str:
        return self.joined("signature")

    def final(self) -> dict[str, Any]:
        """The finished content block, as a non-streamed message would carry it."""
        block = dict(self.start)
        if self.type == "text":
            block["text"] = self.text
            cited = [d["citation"] for d in self.deltas if d.get("type") == "citations_delta"]
            if cited or "citations" in block:
                block["citations"] = [*(block.get("citations") or []), *cited]
        elif self.type in ("tool_use", "server_tool_use", "mcp_tool_use"):
            block["input"] = json.loads(self.partial_json or "{}")
        elif self.type == "thinking":
            block["thinking"], block["signature"] = self.thinking, self.signature
        return block


@dataclass
class StreamResult:
    """What a stream amounted to: the message it built and what the validator saw."""

    events: list[SSEEvent]
    violations: list[Violation] = field(default_factory=list)
    message: dict[str, Any] = field(default_factory=dict)
    blocks: list[AssembledBlock] = field(default_factory=list)
    stop_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    # Pings ahead of message_start: allowed by the grammar, judged by STREAM-013.
    leading_pings: int = 0

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def types(self) -> list[str]:
        return [e.type or e.event for e in self.events]

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.blocks if b.type == "text")

    def rules_broken(self) -> set[str]:
        return {v.rule for v in self.violations}


class StreamGrammarError(AssertionError):
    """A stream broke the Messages grammar; the message lists each rule and the transcript."""

    def __init__(self, result: StreamResult) -> None:
        self.result = result
        lines = "\n".join(f"  {v}" for v in result.violations)
        super().__init__(
            f"stream breaks {len(result.violations)} rule(s) of the Messages stream grammar:\n"
            f"{lines}\n"
            f"--- transcript ---\n{render_sse(result.events)}"
        )


class MessageStreamValidator:
    """Feed events one at a time (``feed``), then ``finish``; or call :func:`validate_stream`."""

    def __init__(self) -> None:
        self.result = StreamResult(events=[])
        self._i = -1
        self._started = False
        self._open: AssembledBlock | None = None
        self._delta_seen = False
        self._stopped = False
        self._ended_by_error = False

    def _violate(self, rule: str, message: str) -> None:
        self.result.violations.append(Violation(rule, self._i, message))

    def feed(self, event: SSEEvent) -> None:
        self._i += 1
        self.result.events.append(event)
        data = event.data
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            self._violate("data-is-json-object", f"data is {event.raw[:80]!r}")
            return
        kind = data["type"]
        if event.event not in ("", "message") and event.event != kind:
            self._violate(
                "event-name-matches-type", f"event name {event.event!r} but type {kind!r}"
            )
        if self._ended_by_error:
            self._violate("error-ends-stream", f"{kind} after an error event")
        elif self._stopped and kind != "ping":
            self._violate("message-stop-is-last", f"{kind} after message_stop")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            self.result.notes.append(f"event #{self._i}: unknown event type {kind!r} tolerated")
            return
        if kind == "ping" and not self._started:
            self.result.leading_pings += 1
        elif kind != "message_start" and not self._started and kind != "error":
            self._violate("first-event-is-message-start", f"{kind} before message_start")
        handler(data)

    def _on_message_start(self, data: dict[str, Any]) -> None:
        if self._started:
            self._violate("single-message-start", "a second message_start")
        elif self._i != self.result.leading_pings:
            self._violate("first-event-is-message-start", f"message_start is event #{self._i}")
        self._started = True
        self.result.message = dict(data.get("message") or {})
        self.result.usage = dict(self.result.message.get("usage") or {})

    def _on_ping(self, data: dict[str, Any]) -> None:
        pass  # a ping before message_start is counted by feed()

    def _on_content_block_start(self, data: dict[str, Any]) -> None:
        index = data.get("index")
        if self._delta_seen:
            self._violate(
                "no-content-after-message-delta", f"block {index} starts after message_delta"
            )
        if self._open is not None:
            self._violate(
                "one-block-open-at-a-time",
                f"block {index} starts while block {len(self.result.blocks) - 1} is open",
            )
        expected = len(self.result.blocks)
        if index != expected:
            self._violate(
                "block-index-contiguous", f"block starts with index {index}, expected {expected}"
            )
        block = AssembledBlock(dict(data.get("content_block") or {}))
        self.result.blocks.append(block)
        self._open = block

    def _in_open_block(self, data: dict[str, Any], kind: str) -> AssembledBlock | None:
        index = data.get("index")
        open_index = len(self.result.blocks) - 1 if self._open is not None else None
        if self._open is None or index != open_index:
            self._violate(
                "event-in-open-block", f"{kind} for index {index}; open block: {open_index}"
            )
            return None
        return self._open

    def _on_content_block_delta(self, data: dict[str, Any]) -> None:
        block = self._in_open_block(data, "content_block_delta")
        if block is None:
            return
        delta = dict(data.get("delta") or {})
        allowed = BLOCK_DELTAS.get(block.type)
        if allowed is None:
            self.result.notes.append(
                f"event #{self._i}: delta for unknown block type {block.type!r}"
            )
        elif delta.get("type") not in allowed:
            self._violate(
                "delta-type-matches-block",
                f"{delta.get('type')!r} in a {block.type!r} block (allowed: {sorted(allowed)})",
            )
        block.deltas.append(delta)

    def _on_content_block_stop(self, data: dict[str, Any]) -> None:
        block = self._in_open_block(data, "content_block_stop")
        if block is None:
            return
        block.stopped = True
        self._open = None
        if block.type in ("tool_use", "server_tool_use", "mcp_tool_use") and block.partial_json:
            try:
                parsed = json.loads(block.partial_json)
            except ValueError as exc:
                self._violate("tool-input-is-json", f"joined partial_json does not parse: {exc}")
            else:
                if not isinstance(parsed, dict):
                    self._violate("tool-input-is-json", f"tool input is {type(parsed).__name__}")

    def _on_message_delta(self, data: dict[str, Any]) -> None:
        if self._open is not None:
            self._violate(
                "blocks-closed-before-message-delta",
                f"message_delta while block {len(self.result.blocks) - 1} is open "
                "(no content_block_stop)",
            )
        self._delta_seen = True
        stop = (data.get("delta") or {}).get("stop_reason")
        if stop is not None:
            self.result.stop_reason = stop
        self.result.usage.update(data.get("usage") or {})

    def _on_message_stop(self, data: dict[str, Any]) -> None:
        if self._stopped:
            self._violate("message-stop-is-last", "a second message_stop")
        if self.result.stop_reason is None:
            self._violate(
                "message-delta-has-stop-reason", "message_stop with no stop_reason before it"
            )
        if self._open is not None and self._delta_seen is False:
            self._violate(
                "blocks-closed-before-message-delta", "message_stop while a block is open"
            )
        self._stopped = True

    def _on_error(self, data: dict[str, Any]) -> None:
        error = data.get("error")
        if not isinstance(error, dict) or not error.get("type") or "message" not in error:
            self._violate("error-event-shape", f"error event data: {data!r:.120}")
        self.result.error = error if isinstance(error, dict) else {"raw": data}
        self._ended_by_error = True

    def finish(self) -> StreamResult:
        if not self._stopped and not self._ended_by_error:
            self._i += 1
            self._violate("stream-is-terminated", "the stream ended without message_stop or error")
        return self.result


def validate_stream(events: list[SSEEvent] | str) -> StreamResult:
    """Run the grammar over a whole stream (events or transcript text); never raises."""
    validator = MessageStreamValidator()
    for event in parse_sse(events) if isinstance(events, str) else events:
        validator.feed(event)
    return validator.finish()


def assert_valid_stream(events: list[SSEEvent] | str) -> StreamResult:
    """Like :func:`validate_stream`, but raise :class:`StreamGrammarError` on any violation."""
    result = validate_stream(events)
    if result.violations:
        raise StreamGrammarError(result)
    return result
