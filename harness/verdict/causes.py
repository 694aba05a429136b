"""Root causes: one gateway behaviour behind many failing checks, told as what a Claude Code user
meets.

A deviations file holds a ``causes:`` table beside its entries, and each entry names its ``cause``.
A cause says what the gateway does wrong, what a Claude Code user sees, the worst impact it has on
them (:mod:`harness.verdict.impact`), the routes and Claude Code modes it touches, the upstream
report, and a ``mitigation`` only when a run proves it (docs/impact.md#mitigations).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.verdict.impact import IMPACTS, USER_IMPACTS

# The answer's route table: one row per way a Claude Code request goes through the gateway.
ROUTES: dict[str, str] = {
    "anthropic": "direct mode, /v1/messages → Anthropic",
    "anthropic-passthrough": "direct mode, the /anthropic pass-through → Anthropic",
    "bedrock-invoke": "direct mode, /v1/messages → Bedrock InvokeModel",
    "bedrock-converse": "direct mode, /v1/messages → Bedrock Converse",
    "vertex": "direct mode, /v1/messages → Vertex AI",
    "openai": "direct mode, /v1/messages → OpenAI (Responses, chat completions)",
    "bedrock-mode": "Bedrock mode (CLAUDE_CODE_USE_BEDROCK), the /bedrock pass-through",
    "vertex-mode": "Vertex mode (CLAUDE_CODE_USE_VERTEX), the /vertex_ai pass-through",
}
MODES = ("direct", "bedrock", "vertex")
# How a mitigation is proven (docs/impact.md#mitigations):
#   profile:NAME  the cause's checks run under --litellm-settings NAME in `dev.py all` and are not
#                 listed in that profile's deviations file, so they pass there or CI fails;
#   check:NODEID  a check that applies the setting and passes in every run of the suite.
PROOF_KINDS = ("profile", "check")
MITIGATION_KINDS = ("litellm-setting", "config", "claude-code-env")


@dataclass(frozen=True)
class Mitigation:
    setting: str  # what to set, as a user writes it
    kind: str  # one of MITIGATION_KINDS
    proof: str  # "profile:isolated" or "check:suites/test_x.py::test_y"
    note: str = ""  # what it costs, or what it does not fix

    @property
    def proof_kind(self) -> str:
        return self.proof.split(":", 1)[0]

    @property
    def proof_target(self) -> str:
        return self.proof.split(":", 1)[-1]


@dataclass(frozen=True)
class Witness:
    """What the real Claude Code CLI printed against a gateway with this cause
    (harness.tools.maintainer.witness)."""

    claude_code: str
    gateway: str
    command: str
    exit_code: int
    printed: str


@dataclass(frozen=True)
class Cause:
    id: str
    summary: str  # what the gateway does wrong
    sees: str  # what a Claude Code user sees
    impact: str
    routes: tuple[str, ...]
    modes: tuple[str, ...]
    upstream: str  # a tracker URL, or "not reported"
    breaks: tuple[str, ...] = ()  # routes where an ordinary Claude Code session cannot work at all
    releases: str = ""  # first and last releases that show it, where bisect or sweep found them
    mitigation: Mitigation | None = None
    witness: Witness | None = None

    @property
    def user_visible(self) -> bool:
        return self.impact in USER_IMPACTS


def _text(raw: Mapping[str, Any], key: str) -> str:
    return " ".join(str(raw.get(key) or "").split())


def _mitigation(raw: Any) -> Mitigation | None:
    if not isinstance(raw, Mapping):
        return None
    return Mitigation(
        _text(raw, "setting"), _text(raw, "kind"), _text(raw, "proof"), _text(raw, "note")
    )


def _witness(raw: Any) -> Witness | None:
    if not isinstance(raw, Mapping):
        return None
    return Witness(
        _text(raw, "claude_code"),
        _text(raw, "gateway"),
        _text(raw, "command"),
        int(raw.get("exit_code", -1)),
        str(raw.get("printed") or "").strip(),
    )


def parse(table: Mapping[str, Any] | None) -> dict[str, Cause]:
    """A file's ``causes:`` table; malformed entries are kept as far as they go, for
    :func:`problems`."""
    out: dict[str, Cause] = {}
    for cid, raw in (table or {}).items():
        raw = raw if isinstance(raw, Mapping) else {}
        out[str(cid)] = Cause(
            str(cid),
            _text(raw, "summary"),
            _text(raw, "sees"),
            _text(raw, "impact"),
            tuple(str(r) for r in raw.get("routes") or ()),
            tuple(str(m) for m in raw.get("modes") or ()),
            _text(raw, "upstream"),
            tuple(str(r) for r in raw.get("breaks") or ()),
            _text(raw, "releases"),
            _mitigation(raw.get("mitigation")),
            _witness(raw.get("witness")),
        )
    return out


def problems(causes: Mapping[str, Cause], named: Iterable[tuple[str, str | None]]) -> list[str]:
    """Every rule the table and the entries' ``cause`` fields break. ``named``: (check, cause) per
    entry."""
    out: list[str] = []
    used: set[str] = set()
    for check, cause in named:
        if not cause:
            out.append(f"{check}: no cause (name an entry of the file's causes: table)")
        elif cause not in causes:
            out.append(f"{check}: cause {cause!r} is not in the file's causes: table")
        else:
            used.add(cause)
    for cid, entry in causes.items():
        out += [f"cause {cid}: {p}" for p in _cause_problems(entry)]
        if cid not in used:
            out.append(
                f"cause {cid}: no deviation names it (remove it, or the entries lost their cause)"
            )
    return out


def _cause_problems(cause: Cause) -> list[str]:
    out = [f"needs {key}" for key in ("summary", "sees", "upstream") if not getattr(cause, key)]
    if cause.impact not in IMPACTS:
        out.append(f"impact {cause.impact!r} is not one of {', '.join(IMPACTS)}")
    out += [
        f"unknown route {r!r} (one of {', '.join(ROUTES)})"
        for r in (*cause.routes, *cause.breaks)
        if r not in ROUTES
    ]
    out += [
        f"breaks {r}, which is not among its routes" for r in cause.breaks if r not in cause.routes
    ]
    out += [
        f"unknown mode {m!r} (one of {', '.join(MODES)})" for m in cause.modes if m not in MODES
    ]
    if cause.upstream != "not reported" and not cause.upstream.startswith("https://"):
        out.append("upstream is a tracker URL or 'not reported'")
    m = cause.mitigation
    if m is not None:
        if not m.setting or m.kind not in MITIGATION_KINDS:
            out.append(f"a mitigation needs a setting and a kind of {', '.join(MITIGATION_KINDS)}")
        if m.proof_kind not in PROOF_KINDS or not m.proof_target:
            out.append(
                "a mitigation needs its proof: profile:NAME or check:NODEID "
                "(docs/impact.md#mitigations)"
            )
    return out
