"""The series a bisect (or a sweep) walks: LiteLLM releases, Claude Code releases, or a file's own
list."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

from harness import yamlio
from harness.claude_code import EXTRA_PROFILES_ENV, load_profiles, profile_dirs
from harness.claude_code.cli import install
from harness.errors import HarnessError
from harness.tools import envs
from harness.tools import registry as npm_registry
from harness.tools.user.bisect import Release
from harness.tools.user.capture import capture


def between(
    versions: list[str], good: str, bad: str, pre: bool = False, what: str = "LiteLLM"
) -> list[str]:
    """``versions`` from ``good`` to ``bad`` inclusive, in version order; pre-releases only with
    ``pre``."""
    ordered = sorted(
        {
            v
            for v in versions
            if (parsed := _parse(v)) is not None and (pre or not parsed.is_prerelease)
        },
        key=Version,
    )
    for end, flag in ((good, "--good"), (bad, "--bad")):
        if end not in ordered:
            near = ", ".join(ordered[-5:])
            raise HarnessError(
                f"{flag} {end}: not an installable {what} release on the index"
                f"{'' if pre else ' (pre-releases need --pre)'}; the newest are {near}"
            )
    if Version(good) >= Version(bad):
        raise HarnessError(f"--good {good} must be an older release than --bad {bad}")
    return [v for v in ordered if Version(good) <= Version(v) <= Version(bad)]


def _parse(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


class _LiteLLM:
    """A LiteLLM release's guarded environment, built the first time a step needs it."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.env: envs.Environment | None = None

    def arguments(self) -> list[str]:
        if self.env is None:
            self.env = envs.environment(self.version)
        return ["--litellm-python", str(self.env.python)]

    def built(self) -> str:
        if self.env is None:
            return "not needed"
        return f"built in {self.env.built_seconds:.0f} s" if self.env.built_seconds else "cached"


def litellm_series(good: str, bad: str, pre: bool = False) -> list[Release]:
    versions = between(envs.index_versions(pre=pre), good, bad, pre)
    out = []
    for version in versions:
        lazy = _LiteLLM(version)
        out.append(Release(version, lazy.arguments, built=lazy.built))
    return out


class _ClaudeCode:
    """A Claude Code release installed from npm, its profile captured on the spot when none is on
    file."""

    def __init__(self, version: str, litellm: list[str], captured: Path) -> None:
        self.version, self.litellm, self.captured = version, litellm, captured
        self.note = "not needed"
        self.ready = False

    def arguments(self) -> list[str]:
        if not self.ready:  # once a process; a profile captured by an earlier bisect is on disk
            got = install(self.version)
            self.note = (
                "cached" if not got.install_seconds else f"installed in {got.install_seconds:.0f} s"
            )
            known = {p["version"] for p in load_profiles()}
            if self.version not in known and not (self.captured / f"{self.version}.json").exists():
                started = time.monotonic()
                capture(self.version, self.captured)
                self.note += f", profile captured in {time.monotonic() - started:.0f} s"
            self.ready = True
        return [*self.litellm, "--claude-code", self.version]

    def variables(self) -> dict[str, str]:
        return {EXTRA_PROFILES_ENV: os.pathsep.join(map(str, [*profile_dirs()[1:], self.captured]))}

    def built(self) -> str:
        return self.note


def claude_code_series(
    good: str, bad: str, litellm: list[str], captured: Path, pre: bool = False
) -> list[Release]:
    """Claude Code releases from the npm registry, each run against the same LiteLLM (``litellm``
    arguments)."""
    captured.mkdir(parents=True, exist_ok=True)
    versions = between(list(npm_registry.publish_times()), good, bad, pre, what="Claude Code")
    out = []
    for version in versions:
        lazy = _ClaudeCode(version, litellm, captured)
        out.append(
            Release(
                version, lazy.arguments, token=version, variables=lazy.variables, built=lazy.built
            )
        )
    return out


def file_series(path: Path) -> list[Release]:
    """A series file: ``releases:``, each a ``version`` and the pytest ``args`` that put it under
    test.

    For builds of your own (a LiteLLM fork, one interpreter per commit) and for the harness's
    self-tests, which switch the reference gateway's faults on from one "release" on."""
    try:
        data: Any = yamlio.load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise HarnessError(f"--series {path}: cannot read it ({exc})") from None
    items = data.get("releases") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) < 2 or not all(_release_item(i) for i in items):
        raise HarnessError(
            f"--series {path}: expected `releases:`, a list of at least two entries, each with a "
            "`version` (text) and `args` (a list of pytest arguments)"
        )
    return [
        Release(str(i["version"]), _constant([str(a) for a in i["args"]]), built=_constant("given"))
        for i in items
    ]


def _release_item(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("version"), str | int | float)
        and isinstance(item.get("args"), list)
        and bool(re.fullmatch(r"[\w.+-]+", str(item["version"])))
    )


def _constant(value: Any) -> Any:
    return lambda: value
