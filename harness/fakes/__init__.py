"""Fake providers: real HTTP servers on loopback that answer from a script and journal every
request."""

from harness.fakes.anthropic import FakeAnthropic
from harness.fakes.journal import RecordedRequest
from harness.fakes.openai import FakeOpenAI
from harness.fakes.script import (
    Echo,
    Fault,
    HttpError,
    Live,
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
from harness.fakes.server import FakeProvider, UnexpectedRequestError

__all__ = [
    "Echo",
    "FakeAnthropic",
    "FakeOpenAI",
    "FakeProvider",
    "Fault",
    "HttpError",
    "Live",
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
