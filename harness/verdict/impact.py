"""What a Claude Code user meets when a gateway breaks a requirement: impacts, the level rule,
observed exposures.

A requirement's ``impact`` (catalogue.yaml) says what a Claude Code user meets when a gateway breaks
it; its level follows from the impact by :data:`LEVEL_OF`, the written rule (docs/impact.md), unless
the catalogue records an exception with its reason. An *exposure* is never taken from a
requirement's impact or its ``security`` flag: it is claimed only when a check's fingerprint shows
one (:func:`exposures`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

Impact = Literal["exposure", "blocked", "cost", "degraded", "operator", "none-visible"]
# Worst first: the answer lists causes in this order.
IMPACTS: tuple[Impact, ...] = (
    "exposure",
    "blocked",
    "cost",
    "degraded",
    "operator",
    "none-visible",
)
# The impacts a Claude Code user meets; the other two are the operator's, or nobody's today.
USER_IMPACTS = frozenset(IMPACTS[:4])
MEANING: dict[str, str] = {
    "exposure": (
        "a credential, or another user's data or model, reaches someone who must not have it"
    ),
    "blocked": "Claude Code shows an error, or a feature it uses refuses",
    "cost": "usage, cost or billing is wrong, or the provider keeps working after the client left",
    "degraded": "it works, but a feature is silently off or worse",
    "operator": "only the operator sees it (logs, admin routes, health, metrics, the docs)",
    "none-visible": "no effect on any profiled Claude Code version today",
}
# The written rule (docs/impact.md#the-level-rule): a level follows from what a user meets.
LEVEL_OF: dict[str, str] = {
    "exposure": "must",
    "blocked": "must",
    "cost": "must",
    "degraded": "should",
    "operator": "info",
    "none-visible": "info",
}


def rank(impact: str) -> int:
    """0 for the worst impact; unknown ones last."""
    return IMPACTS.index(impact) if impact in IMPACTS else len(IMPACTS)


def rule_breaks(entries: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every requirement whose level is not the rule's for its impact and records no exception."""
    out = []
    for rid, entry in entries.items():
        impact, level = entry.get("impact"), entry.get("level")
        if impact in LEVEL_OF and LEVEL_OF[impact] != level and not entry.get("level_exception"):
            out.append(
                f"{rid}: impact {impact} makes it {LEVEL_OF[impact]}, not {level} "
                "(re-level it, or give level_exception: the reason)"
            )
    return out


# -- exposures, from what a check observed ---------------------------------------------------------

# Requirements that state a refusal: a check of one whose request reached a provider, or got a 2xx,
# was served when it must not have been. (Their checks script no answer the gateway may legitimately
# use.)
REFUSALS = frozenset({"AUTH-003", "AUTH-004", "KEYS-002", "KEYS-004", "PASS-004"})
# Requirements whose only failure is a leak: a failing check of one observed the leak itself.
LEAKS = {
    "AUTH-005": "the gateway key reached a provider",
    "AUTH-007": "an error echoed the master key",
    "PASS-005": "the pass-through forwarded the gateway key",
}
_CLIENT_2XX = re.compile(r"-> 2\d\d\b")


def exposures(requirement: str, fingerprint: Mapping[str, Any] | None) -> list[str]:
    """What a check's fingerprint shows reaching someone who must not have it; empty when nothing
    did."""
    fp = fingerprint or {}
    found: list[str] = []
    if fp.get("gateway_key_at_provider") is True:
        found.append("the gateway key reached a provider")
    if fp.get("network_escape"):
        found.append("a request left loopback")
    if any(str(place).startswith("client:") for place in fp.get("secret_exposed") or []):
        found.append("a secret reached a client")
    declared = fp.get("declared") or {}
    if any(str(o).startswith("HTTP 2") for o in declared.get("unlisted keys: outcomes") or []):
        found.append("a key the allowlist lacks was served")
    if str(declared.get("unauthenticated request", "")).startswith("starts and enforces no auth"):
        found.append("an unauthenticated request was served")
    if declared.get("served without the master key"):
        found.append("a management route or the MCP endpoint served a caller without the key")
    if requirement in REFUSALS:
        if any(calls for calls in (fp.get("provider_calls") or {}).values()):
            found.append("a request that must be refused reached a provider")
        if any(_CLIENT_2XX.search(str(line)) for line in fp.get("client") or []):
            found.append("a request that must be refused was answered 2xx")
    failed = str(fp.get("outcome", "passed")) != "passed"
    if requirement in LEAKS and failed:
        found.append(LEAKS[requirement])
    return list(dict.fromkeys(found))
