"""What changed between two Claude Code versions, from their captured profiles.

The gate shows this beside its verdict: a new default model name the config lacks, a beta
that must now be forwarded, a body field, a header, an endpoint or a probe the gateway has
never seen. Values that change every capture (ids, timings, the version in the user agent)
are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VOLATILE_HEADERS = {
    "user-agent",
    "x-claude-code-session-id",
    "content-length",
    "authorization",
    "x-api-key",
}


@dataclass(frozen=True)
class Change:
    aspect: (
        str  # "default model names", "betas", "headers", "body fields", "endpoints and probes", ...
    )
    item: str
    old: Any
    new: Any

    def line(self) -> str:
        if self.old is None:
            return f"{self.aspect}: + {self.item}" + (
                f" = {self.new}" if self.new not in (None, True) else ""
            )
        if self.new is None:
            return f"{self.aspect}: - {self.item}" + (
                f" (was {self.old})" if self.old is not True else ""
            )
        return f"{self.aspect}: {self.item}: {self.old} -> {self.new}"


def _mapping(aspect: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    return [
        Change(aspect, k, old.get(k), new.get(k))
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    ]


def _members(aspect: str, old: list[str], new: list[str]) -> list[Change]:
    return _mapping(aspect, dict.fromkeys(old, True), dict.fromkeys(new, True))


def _headers(profile: dict[str, Any]) -> dict[str, Any]:
    # anthropic-beta is compared value by value under "betas"; here only which headers are sent, and
    # fixed values.
    return {
        k: ("<varies>" if k in VOLATILE_HEADERS else v)
        for k, v in profile.get("headers", {}).items()
        if k != "anthropic-beta"
    }


def _requests(profile: dict[str, Any], mode: str | None) -> list[str]:
    section = profile.get(mode, {}) if mode else profile
    if mode:
        return list(dict.fromkeys(section.get("requests", [])))
    endpoint = section.get("endpoint", {})
    return [
        f"{endpoint.get('method')} {endpoint.get('path')}"
        + (f"?{endpoint['query']}" if endpoint.get("query") else "")
    ]


def profile_diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every difference that matters to a gateway, grouped by aspect, in a stable order."""
    changes = _mapping("default model names", old.get("defaults", {}), new.get("defaults", {}))
    changes += _members("betas", old.get("betas", []), new.get("betas", []))
    changes += _mapping("headers", _headers(old), _headers(new))
    changes += _members("body fields", old.get("body_fields", []), new.get("body_fields", []))
    changes += _members("endpoints and probes", _requests(old, None), _requests(new, None))
    for mode in ("bedrock", "vertex"):
        changes += _members(f"{mode} requests", _requests(old, mode), _requests(new, mode))
        changes += _members(
            f"{mode} betas (header)",
            old.get(mode, {}).get("betas_header", []),
            new.get(mode, {}).get("betas_header", []),
        )
        changes += _members(
            f"{mode} betas (body)",
            old.get(mode, {}).get("betas_body", []),
            new.get(mode, {}).get("betas_body", []),
        )
        changes += _members(
            f"{mode} body fields",
            old.get(mode, {}).get("body_fields", []),
            new.get(mode, {}).get("body_fields", []),
        )
    return changes


def render(old: dict[str, Any], new: dict[str, Any]) -> str:
    changes = profile_diff(old, new)
    head = f"Claude Code {old.get('version')} -> {new.get('version')}: {len(changes)} change(s)"
    return "\n".join([head, *(f"  {c.line()}" for c in changes)])
