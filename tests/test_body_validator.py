"""The body validators accept the documented shapes and reject broken ones."""

from __future__ import annotations

import pytest

from harness.fakes.anthropic import error_json, message_json
from harness.fakes.script import HttpError, RedactedThinking, Reply, Text, Thinking, ToolUse
from harness.protocol.validators import (
    BodyShapeError,
    validate_error,
    validate_message,
    validate_model_list,
    validate_token_count,
)

FULL = Reply(
    blocks=(Thinking("hmm"), RedactedThinking(), Text("hi"), ToolUse("f", {"a": 1})),
    stop_reason="tool_use",
)


def test_rendered_message_is_valid():
    message = validate_message(message_json(FULL, "claude-sonnet-4-5"))
    assert [b.type for b in message.content] == [
        "thinking",
        "redacted_thinking",
        "text",
        "tool_use",
    ]


@pytest.mark.parametrize(
    "breakage",
    [
        lambda b: b.pop("content"),
        lambda b: b.update(role="user"),
        lambda b: b.update(type="chat.completion"),
        lambda b: b["usage"].pop("input_tokens"),
        lambda b: b.update(content=[{"type": "text"}]),
    ],
    ids=[
        "no-content",
        "role-user",
        "openai-type",
        "usage-without-input",
        "text-block-without-text",
    ],
)
def test_broken_message_is_rejected(breakage):
    body = message_json(FULL, "m")
    breakage(body)
    with pytest.raises(BodyShapeError):
        validate_message(body)


def test_openai_chat_completion_is_not_a_message():
    with pytest.raises(BodyShapeError, match="not an Anthropic Message"):
        validate_message({"id": "x", "object": "chat.completion", "choices": []})


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (529, "overloaded_error"),
    ],
    ids=lambda v: str(v),
)
def test_documented_error_envelope_is_valid(status, kind):
    validate_error(error_json(HttpError(status, kind)), status)


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"message": "bad key", "type": "auth_error", "code": "401"}},
        {"detail": "Not authenticated"},
        {"type": "error", "error": {"message": "no type"}},
        "Internal Server Error",
    ],
    ids=["openai-envelope", "fastapi-detail", "missing-type", "plain-text"],
)
def test_foreign_error_body_is_rejected(body):
    with pytest.raises(BodyShapeError):
        validate_error(body)


def test_error_type_must_match_status():
    with pytest.raises(BodyShapeError, match="status 401 documents type 'authentication_error'"):
        validate_error(error_json(HttpError(401, "invalid_request_error")), 401)


def test_token_count_must_be_an_integer():
    validate_token_count({"input_tokens": 12})
    with pytest.raises(BodyShapeError):
        validate_token_count({"input_tokens": "12"})
    with pytest.raises(BodyShapeError):
        validate_token_count({"tokens": 12})


def test_model_list_needs_anthropic_model_entries():
    ok = {
        "data": [
            {"type": "model", "id": "m", "display_name": "m", "created_at": "2025-01-01T00:00:00Z"}
        ]
    }
    assert [m.id for m in validate_model_list(ok)] == ["m"]
    with pytest.raises(BodyShapeError):
        validate_model_list({"object": "list", "data": [{"id": "m", "object": "model"}]})
