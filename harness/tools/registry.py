"""When each Claude Code version was published, from the npm registry, and the gate's minimum age.

A release a few hours old is the one most likely to be pulled or to be a hijacked publish;
LiteLLM's own release gate waits 3 days. ``--min-age-days N`` makes the gate refuse a Claude Code
version younger than that, by the registry's own publish time.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess

from harness.claude_code.cli import PACKAGE, npm_unavailable
from harness.errors import HarnessError


def publish_times(package: str = PACKAGE) -> dict[str, dt.datetime]:
    """Version -> publish time, as ``npm view <package> time`` reports it."""
    if reason := npm_unavailable():
        raise HarnessError(f"cannot read publish times: {reason}")
    done = subprocess.run(
        ["npm", "view", package, "time", "--json"], capture_output=True, text=True, timeout=120
    )
    if done.returncode:
        raise HarnessError(
            f"`npm view {package} time` failed:\n" + "\n".join(done.stderr.splitlines()[-10:])
        )
    raw = json.loads(done.stdout)
    return {
        v: dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
        for v, t in raw.items()
        if v not in ("created", "modified")
    }


def age_days(version: str, times: dict[str, dt.datetime], now: dt.datetime | None = None) -> float:
    if version not in times:
        raise HarnessError(
            f"Claude Code {version} is not published on npm ({PACKAGE}); "
            f"`npm view {PACKAGE} versions` lists the ones there are."
        )
    return ((now or dt.datetime.now(dt.UTC)) - times[version]).total_seconds() / 86400


def refuse_if_too_new(
    version: str, min_age_days: float, times: dict[str, dt.datetime], now: dt.datetime | None = None
) -> float:
    """The version's age in days; a HarnessError when it is younger than ``min_age_days``."""
    age = age_days(version, times, now)
    if age < min_age_days:
        raise HarnessError(
            f"Claude Code {version} was published {times[version]:%Y-%m-%d %H:%M} UTC, "
            f"{age:.1f} day(s) ago, under the gate's minimum age of {min_age_days:g} day(s) "
            "(--min-age-days). A release that young may still be pulled or be a hijacked "
            "publish; gate it once it is older, or lower --min-age-days."
        )
    return age
