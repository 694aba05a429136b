"""The code of :mod:`harness.claude_code`; what it is for: the package's docstring."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ClaudeCodeFacts:
    version: str
    # alias → the model id the CLI requests for it with no model environment set
    defaults: dict[str, str]
    betas: tuple[str, ...]
    user_agent: str
    extra_headers: dict[str, str] = field(default_factory=dict)


# The quickstart's table ("Default Model Name (v2.1.14)"); it matches 2.0.77, not current 2.1.x.
QUICKSTART_TABLE = ClaudeCodeFacts(
    version="quickstart-table",
    defaults={
        "main": "claude-sonnet-4-5-20250929",
        "light": "claude-haiku-4-5-20251001",
        "plan": "claude-opus-4-5-20251101",
    },
    betas=(),
    user_agent="",
)
CONTEXT_1M_BETA = "context-1m-2025-08-07"


PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
# Profiles captured outside the repository (the gate captures a new version into its own output
# folder), read as well as profiles/: a path list, like PATH.
EXTRA_PROFILES_ENV = "CC_GATEWAY_PROFILES"


# A check that belongs to one Claude Code version says so in its id: test_x[cc-2.1.332],
# test_y[cc-2.0.77-429]. The plugin reads the version from it, and the deviation list matches one
# version's entry against another's.
VERSION_IN_ID = re.compile(r"(?<![\w.])cc-(\d+(?:\.\d+)+)(?![\w.])")


def version_key(version: str) -> tuple[int, ...]:
    """A version's numbers, for ordering (2.1.10 after 2.1.9)."""
    return tuple(int(p) for p in re.findall(r"\d+", version))


def profile_dirs() -> list[Path]:
    extra = os.environ.get(EXTRA_PROFILES_ENV, "")
    return [PROFILES_DIR, *(Path(p) for p in extra.split(os.pathsep) if p)]


def load_profiles(directory: Path | None = None) -> list[dict[str, Any]]:
    """The captured profiles (``python -m harness capture-claude-code``), oldest version first.

    A version profiled in two places counts once: the repository's own profile wins.
    """
    found: dict[str, dict[str, Any]] = {}
    for folder in [directory] if directory else profile_dirs():
        for path in sorted(folder.glob("*.json")):
            profile = json.loads(path.read_text())
            found.setdefault(profile["version"], profile)
    return sorted(found.values(), key=lambda p: version_key(p["version"]))


def default_model_names() -> list[str]:
    """Every model name a known Claude Code version requests by default."""
    return sorted({name for facts in KNOWN for name in facts.defaults.values()})


def cloud_model_ids(mode: str) -> list[str]:
    """Every model id a profiled Claude Code version requests in Bedrock or Vertex mode by
    default."""
    return sorted({m for p in PROFILES for m in p.get(mode, {}).get("models_requested", [])})


def _facts(profile: dict[str, Any]) -> ClaudeCodeFacts:
    headers = profile["headers"]
    extra = {
        k: v.replace("<uuid>", SESSION_ID)
        for k, v in headers.items()
        if k.startswith("x-claude-code-")
    }
    return ClaudeCodeFacts(
        profile["version"],
        dict(profile["defaults"]),
        tuple(profile["betas"]),
        headers.get("user-agent", ""),
        extra,
    )


SESSION_ID = "00000000-0000-4000-8000-000000000000"
PROFILES = load_profiles()
KNOWN = (*(_facts(p) for p in PROFILES), QUICKSTART_TABLE)
CURRENT = _facts(PROFILES[-1])


def profile_body(profile: dict[str, Any], model: str) -> dict[str, Any]:
    """The profile's captured main request body, aimed at ``model``."""
    body = json.loads(json.dumps(profile["body_example"]).replace("<uuid>", SESSION_ID))
    body["model"] = model
    return dict(body)


@dataclass(frozen=True)
class CapturedRequest:
    """One request a profiled Claude Code version sent, in one of its modes (anthropic, bedrock,
    vertex)."""

    version: str
    mode: str
    route: str  # the fake provider's route name: messages, invoke_stream, stream_raw_predict, ...
    model: str
    headers: dict[str, str]
    body: dict[str, Any]


CLOUD_ROUTES = {
    "invoke": "invoke",
    "invoke-with-response-stream": "invoke_stream",
    "converse": "converse",
    "converse-stream": "converse_stream",
    "rawPredict": "raw_predict",
    "streamRawPredict": "stream_raw_predict",
}


def captured_requests(profile: dict[str, Any]) -> list[CapturedRequest]:
    """The profile's main request as sent direct, and rebuilt as its Bedrock and Vertex modes sent
    it.

    A profile keeps one whole body (the direct one) and, per cloud mode, the fields, betas,
    model and path that mode sent; the cloud bodies are the direct body cut to those fields.
    """
    version, body = profile["version"], profile_body(profile, profile["body_example"]["model"])
    headers = {k: v for k, v in profile["headers"].items() if k.startswith("anthropic-")}
    out = [CapturedRequest(version, "anthropic", "messages", body["model"], headers, body)]
    for mode in ("bedrock", "vertex"):
        facts = profile.get(mode) or {}
        if not facts.get("path"):
            continue
        op = re.split(r"[/:]", facts["path"])[-1]
        cloud = {k: v for k, v in body.items() if k in facts["body_fields"]}
        cloud["anthropic_version"] = facts["anthropic_version"]
        if facts.get("betas_body"):
            cloud["anthropic_beta"] = list(facts["betas_body"])
        betas = (
            {"anthropic-beta": ",".join(facts["betas_header"])} if facts.get("betas_header") else {}
        )
        out.append(CapturedRequest(version, mode, CLOUD_ROUTES[op], facts["model"], betas, cloud))
    return out


def claude_code_body(model: str, text: str = "say hi", *, stream: bool = True) -> dict[str, Any]:
    """A small request body with every field the newest profiled Claude Code sends (see
    ``profile_body``)."""
    return {
        "model": model,
        "max_tokens": 32000,
        "stream": stream,
        "metadata": {
            "user_id": json.dumps(
                {
                    "device_id": "0f0f",
                    "account_uuid": "",
                    "session_id": "00000000-0000-4000-8000-000000000000",
                }
            )
        },
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "medium"},
        "system": [
            {
                "type": "text",
                "text": "x-anthropic-billing-header: cc_version=2.1.332.0b8; "
                "cc_entrypoint=sdk-cli;",
            },
            {
                "type": "text",
                "text": "You are a Claude agent, built on Anthropic's Claude Agent SDK.",
                "cache_control": {"type": "ephemeral"},
            },
        ],
        "tools": [
            {
                "name": "Read",
                "description": "Read a file.",
                "input_schema": {
                    "type": "object",
                    "properties": {"file_path": {"type": "string"}},
                    "required": ["file_path"],
                },
            },
            {
                "name": "DeferredToolPlaceholder",
                "description": "A tool loaded on demand.",
                "input_schema": {"type": "object", "properties": {}},
                "defer_loading": True,
            },
        ],
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}],
            }
        ],
    }


# Gateway model discovery (the LLM gateway protocol page): opt-in with this variable from 2.1.129;
# `GET /v1/models?limit=1000`, a 3 s timeout, any redirect a failure; ids kept by a substring match
# from 2.1.223 and by a prefix match before.
DISCOVERY_SINCE = "2.1.129"
DISCOVERY_SUBSTRING_SINCE = "2.1.223"
DISCOVERY_PATH = "/v1/models?limit=1000"
DISCOVERY_TIMEOUT_S = 3.0
DISCOVERY_ENV = "CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY"


# The startup probe: `HEAD {ANTHROPIC_BASE_URL}/api/hello` (HEAD / before), fire-and-forget, aborted
# after 10 s. Read from the 2.1.332 binary: `Dte(`${o...}/api/hello`,{method:"HEAD",
# signal:AbortSignal.timeout(1e4)}).catch(()=>{})` (issue 38: PROTO-003's bound had no source).
PROBE_PATH = "/api/hello"
PROBE_TIMEOUT_S = 10.0


def has_discovery(version: str) -> bool:
    return version_key(version) >= version_key(DISCOVERY_SINCE)


def discovery_keeps(model_id: str, version: str) -> bool:
    """Whether Claude Code ``version``'s discovery keeps a /v1/models entry with this id."""
    lowered = model_id.lower()
    if version_key(version) >= version_key(DISCOVERY_SUBSTRING_SINCE):
        return "claude" in lowered or "anthropic" in lowered
    return lowered.startswith(("claude", "anthropic"))
