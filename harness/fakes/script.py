"""What a test scripts a fake provider to answer, independent of any wire format.

A :class:`Reply` is a list of content blocks plus stop reason and usage. Each fake
provider renders it in its own dialect (Anthropic Messages, OpenAI chat
completions, OpenAI Responses), as JSON or as a stream. Keeping the script
provider-neutral lets one check run the same scenario across providers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from harness import tapes as cassettes
from harness.tapes.matching import player


@dataclass(frozen=True)
class Text:
    text: str
    # How the text is cut into deltas; None splits it into words.
    chunks: tuple[str, ...] | None = None

    def pieces(self) -> list[str]:
        if self.chunks is not None:
            return list(self.chunks)
        words = self.text.split(" ")
        return [w if i == 0 else " " + w for i, w in enumerate(words)]


@dataclass(frozen=True)
class ToolUse:
    name: str
    input: dict[str, Any]
    id: str = "toolu_01FakeToolUse000000000001"
    # Number of input_json_delta chunks the arguments are streamed in.
    chunks: int = 3

    def json_pieces(self) -> list[str]:
        text = json.dumps(self.input)
        size = max(1, -(-len(text) // self.chunks))
        return [text[i : i + size] for i in range(0, len(text), size)]


@dataclass(frozen=True)
class Thinking:
    thinking: str
    signature: str = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"


@dataclass(frozen=True)
class RedactedThinking:
    data: str = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"


Block = Text | ToolUse | Thinking | RedactedThinking


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 12
    output_tokens: int = 7
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    # (5-minute, 1-hour) cache writes, sent as usage.cache_creation when given (the extended
    # cache TTL's split); server tool calls, sent as usage.server_tool_use when any.
    cache_ttl_split: tuple[int, int] | None = None
    web_search_requests: int = 0


@dataclass(frozen=True)
class StreamError:
    """An ``error`` event sent mid-stream after ``after_events`` events."""

    after_events: int
    type: str = "overloaded_error"
    message: str = "Overloaded"


@dataclass(frozen=True)
class Reply:
    blocks: tuple[Block, ...] = (Text("Hello from the fake provider."),)
    stop_reason: str = "end_turn"
    stop_sequence: str | None = None
    usage: Usage = field(default_factory=Usage)
    # None echoes the model the request asked for, as real providers do.
    model: str | None = None
    message_id: str = "msg_01FakeProviderMessage0001"
    # Seconds between stream events; realistic pacing exposes buffering bugs.
    delay: float = 0.0
    stream_error: StreamError | None = None
    # (event index, seconds): the provider falls silent that long before sending that event.
    stall: tuple[int, float] | None = None
    # Extra response headers (rate-limit headers, x-should-retry, ...), as the provider sends them.
    headers: tuple[tuple[str, str], ...] = ()
    # Keep-alive `ping` events after message_start, ``delay`` apart (Anthropic's SSE only: Bedrock's
    # event stream and OpenAI's streams have no keep-alive frame).
    pings: int = 0

    @classmethod
    def text(cls, text: str, **kw: Any) -> Reply:
        return cls(blocks=(Text(text),), **kw)


@dataclass(frozen=True)
class HttpError:
    """An HTTP error answered with the provider's own error body."""

    status: int
    type: str
    message: str = "error scripted by the test"
    headers: tuple[tuple[str, str], ...] = ()
    fields: tuple[
        tuple[str, Any], ...
    ] = ()  # more fields of the provider's error object (OpenAI's param and code)


@dataclass(frozen=True)
class RawSSE:
    """A stream sent verbatim, e.g. a recorded transcript."""

    text: str
    delay: float = 0.0


@dataclass(frozen=True)
class RawJSON:
    body: Any
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TokenCount:
    input_tokens: int


@dataclass(frozen=True)
class ModelList:
    ids: tuple[str, ...]


class Recorded:
    """Answer from a cassette (``cassettes/<name>.yaml``): the recorded interaction matching the
    request.

    Each interaction is played once, in the order the gateway's requests match them, so a
    tool-use round trip scripted as ``Recorded("anthropic/tool-use")`` with ``times=2``
    answers both turns. ``speed`` above 1 replays a paced stream faster.
    """

    def __init__(self, name: str, speed: float = 1.0, root: Any = None) -> None:
        self.name, self.speed, self.root = name, speed, root  # root: another cassettes directory
        self._player: Any = None

    def __repr__(self) -> str:
        return f"Recorded({self.name!r})"

    def player(self) -> Any:
        """The vcrpy cassette playing this tape; loaded on first use, so a broken one fails the
        check."""
        if self._player is None:
            self._player = player(cassettes.load(self.name, self.root))
        return self._player


@dataclass(frozen=True)
class Echo:
    """Answer each request with its own last user text, so concurrent answers can be told apart
    (load checks)."""

    prefix: str = "echo: "
    delay: float = 0.0


@dataclass(frozen=True)
class Fault:
    """A transport fault around an answer (RESIL checks).

    ``drop-stream``: the answer's first ``after`` chunks, then the connection is closed with no end.
    ``drop-body``: a non-streamed answer's headers and half its body, then the connection is closed.
    ``silence``: nothing for ``seconds`` (the fake watches whether the gateway hangs up meanwhile),
    then the connection is closed, or ``reply`` is sent if there is one.
    """

    kind: Literal["drop-stream", "drop-body", "silence"]
    reply: Reply | HttpError | None = None
    after: int = 3
    seconds: float = 0.0


@dataclass(frozen=True)
class RawMessage:
    """A whole Messages answer as JSON, with any block types (server tools, citations, tool search
    results, ...). Streamed, it is sent as Anthropic streams it: each block started empty and filled
    by its deltas (text, citations, thinking and signature, tool input); result blocks arrive
    whole."""

    message: Any
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Live:
    """Answer with a live recording's answer (``cassettes/live/<source>/<name>.yaml``), byte for
    byte, whatever the request: the strict fake holds the request to the provider's rules first
    (issue 40). ``derive`` turns it into a route no live recording covers, and says so:
    ``invoke-stream`` or ``vertex`` (:mod:`harness.fakes.live`)."""

    name: str  # "live/pydantic-ai/anthropic-thinking-part-stream"
    interaction: int = 0
    derive: str = ""
    delay: float = 0.0  # between a stream's events


Scripted = (
    Live
    | Reply
    | HttpError
    | RawSSE
    | RawJSON
    | RawMessage
    | TokenCount
    | ModelList
    | Recorded
    | Fault
    | Echo
)
