"""The report's data: one run of the suite, as plain JSON-able dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# fixed: a known deviation that no longer occurs (the run fails until its entry is removed).
Outcome = Literal["pass", "fail", "deviation", "fixed", "skipped", "error", "not-covered"]
SCHEMA = "cc-gateway-conformance/run/1"


@dataclass
class CheckResult:
    nodeid: str
    name: str
    requirement: str
    area: str
    level: str
    outcome: Outcome
    duration: float = 0.0
    reason: str = ""
    evidence: dict[str, str] = field(default_factory=dict)
    observed: dict[str, Any] = field(default_factory=dict)
    # What the check observed, in the stable form a known deviation is held to
    # (harness.verdict.fingerprint).
    fingerprint: dict[str, Any] = field(default_factory=dict)
    # For a listed check: the verdict (deviation / changed / fixed) and the fingerprint on file.
    deviation: str = ""
    recorded_fingerprint: dict[str, Any] | None = None
    # Where the fake providers' answers came from: "scripted", "recorded <cassette>", ...
    provider_answers: list[str] = field(default_factory=list)
    # Whose bytes each provider route answered with (issue 40): "<fake> <route>: live <cassette>",
    # "...: derived <cassette> (<how>)" or "...: synthetic".
    reply_sources: list[str] = field(default_factory=list)
    # Non-default gateway settings the check needed (@pytest.mark.settings), and why.
    settings: dict[str, str] = field(default_factory=dict)
    # The Claude Code version the check is about ("" when every version shares it): a grid cell's
    # share.
    claude_code: str = ""
    # For a failing or deviating check: its wire, for `python -m harness repro`
    # (harness.plugin.snapshot).
    repro: dict[str, Any] | None = None
    # The direction each declared value is better in ("more", "fewer", ...), for the ranked
    # comparison.
    ranks: dict[str, str] = field(default_factory=dict)
    # For a listed check that moved: each moved field, with its arrow
    # (harness.verdict.fields.FieldMove.arrow).
    moves: list[str] = field(default_factory=list)
    # Two runs of the check disagreed (harness.plugin.rerun): what each run's class was.
    flaky: str = ""
    # The check ran a second time in its session and the runs agreed: a gate need not run it again.
    ran_twice: bool = False
    # Its setup failed (a proxy that would not start, a fake that died): the harness's failure,
    # never the gateway's; the first line of the error. The check is classed "harness error"
    # (harness.verdict.classes).
    harness_error: str = ""


@dataclass
class RunInfo:
    label: str  # what the column is called, e.g. "LiteLLM 1.108.7"
    litellm_version: str
    python_version: str
    suite_revision: str
    config_hash: str
    started_at: str
    catalogue_revision: str = ""
    # The gateway driver the run judged (harness.gateway.drivers, issue 41) and its gateway's
    # version; litellm_version is the same version under the field's older name.
    gateway: str = "litellm"
    gateway_version: str = ""
    claude_code_profiles: list[str] = field(default_factory=list)
    deviations_file: str = ""
    user_config: dict[str, Any] | None = None
    # --litellm-settings: the profile, and the settings the harness laid over each config for it.
    settings: dict[str, Any] = field(default_factory=dict)
    providers: str = (
        "scripted"  # --providers: scripted answers, or recorded ones where a check has them
    )
    # --proxy-launch: "fork" (from one preloaded LiteLLM, harness.gateway.forkserver) or "exec", as
    # each proxy started.
    proxy_launch: str = ""
    # The gateways (one entry per start) whose proxy failed to start once and was started again:
    # harness hiccups a run survived, shown so they are not hidden (issue 38).
    proxy_starts_retried: list[str] = field(default_factory=list)
    # The config, environment and side files of each gateway a repro snapshot refers to
    # (harness.tools.user.repro).
    gateways: dict[str, Any] = field(default_factory=dict)
    # Per level: how many requirements a fault of the reference gateway is proven to break (the kill
    # matrix).
    proven: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class Run:
    info: RunInfo
    requirements: list[dict[str, Any]]
    results: list[CheckResult]
    schema: str = SCHEMA

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
