"""profile-diff: what changed between two Claude Code versions, as a gateway needs to know it."""

from __future__ import annotations

from harness.tools.cli import main
from harness.tools.user.profile_diff import profile_diff, render

OLD = {
    "version": "1.0.0",
    "defaults": {"main": "claude-a"},
    "betas": ["b-old", "b-kept"],
    "headers": {"anthropic-version": "2023-06-01", "user-agent": "claude-cli/1.0.0", "x-gone": "1"},
    "body_fields": ["messages", "model"],
    "endpoint": {"method": "POST", "path": "/v1/messages", "query": "beta=true"},
    "bedrock": {
        "requests": ["POST /model/a/invoke"],
        "betas_header": [],
        "betas_body": [],
        "body_fields": [],
    },
}
NEW = {
    "version": "1.1.0",
    "defaults": {"main": "claude-b", "haiku": "claude-h"},
    "betas": ["b-kept", "b-new"],
    "headers": {
        "anthropic-version": "2023-06-01",
        "user-agent": "claude-cli/1.1.0",
        "x-claude-code-new": "v",
    },
    "body_fields": ["messages", "model", "context_management"],
    "endpoint": {"method": "POST", "path": "/v1/messages", "query": "beta=true"},
    "bedrock": {
        "requests": ["GET /inference-profiles?type=SYSTEM_DEFINED", "POST /model/a/invoke"],
        "betas_header": [],
        "betas_body": ["b-new"],
        "body_fields": [],
    },
}


def test_every_aspect_a_gateway_cares_about_is_compared():
    lines = [c.line() for c in profile_diff(OLD, NEW)]
    assert lines == [
        "default model names: + haiku = claude-h",
        "default model names: main: claude-a -> claude-b",
        "betas: + b-new",
        "betas: - b-old",
        "headers: + x-claude-code-new = v",
        "headers: - x-gone (was 1)",
        "body fields: + context_management",
        "bedrock requests: + GET /inference-profiles?type=SYSTEM_DEFINED",
        "bedrock betas (body): + b-new",
    ]


def test_values_that_change_every_capture_are_not_changes():
    assert profile_diff(OLD, OLD) == []
    assert all("user-agent" not in c.item for c in profile_diff(OLD, NEW))


def test_render_names_both_versions_and_counts():
    assert render(OLD, NEW).splitlines()[0] == "Claude Code 1.0.0 -> 1.1.0: 9 change(s)"


def test_the_command_diffs_two_profiled_versions(capsys):
    assert main(["profile-diff", "2.0.77", "2.1.332"]) == 0
    out = capsys.readouterr().out
    assert "default model names: main: claude-sonnet-4-5-20250929 -> claude-opus-5-5" in out
    assert "body fields: + context_management" in out


def test_an_unprofiled_version_is_named_with_how_to_capture_it(capsys):
    assert main(["profile-diff", "2.0.77", "9.9.9"]) == 2
    assert "capture-claude-code --version 9.9.9" in capsys.readouterr().err
