"""Fake providers: real HTTP servers on loopback that answer from a script and journal every request."""

from harness.providers.anthropic import FakeAnthropic
from harness.providers.openai import FakeOpenAI
from harness.providers.script import (
    Echo,
    Fault,
    HttpError,
    ModelList,
    RawJSON,
    RawMessage,
    RawSSE,
    Recorded,
    RedactedThinking,
    Reply,
    StreamError,
    Text,
    Thinking,
    TokenCount,
    ToolUse,
    Usage,
)
from harness.providers.server import FakeProvider, RecordedRequest, UnexpectedRequestError

__all__ = [
    "Echo",
    "FakeAnthropic",
    "FakeOpenAI",
    "FakeProvider",
    "Fault",
    "HttpError",
    "ModelList",
    "RawJSON",
    "RawMessage",
    "RawSSE",
    "Recorded",
    "RecordedRequest",
    "RedactedThinking",
    "Reply",
    "StreamError",
    "Text",
    "Thinking",
    "TokenCount",
    "ToolUse",
    "UnexpectedRequestError",
    "Usage",
]
