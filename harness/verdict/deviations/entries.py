"""The code of :mod:`harness.verdict.deviations`; what it is for: the package's docstring."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness import yamlio
from harness.errors import HarnessError
from harness.verdict.causes import Cause, parse
from harness.verdict.classes import Class, Waiver, classify
from harness.verdict.fields import Direction, FieldMove
from harness.verdict.fingerprint import Observation

DIRECTORY = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Deviation:
    check: str  # "test_file.py::test_name[param]"; a * matches anything (hand-written files only)
    requirement: str
    observed: str
    fingerprint: Observation | None = field(default=None, compare=False)
    cause: str | None = field(default=None, compare=False)  # an entry of the file's causes: table

    def matches(self, nodeid: str) -> bool:
        return _pattern(self.check).fullmatch(nodeid.removeprefix("suites/")) is not None

    def judge(
        self,
        observation: Observation,
        security: bool = False,
        ranks: dict[str, Direction] | None = None,
    ) -> tuple[Class, list[FieldMove]]:
        """The class of a listed check that made ``observation``, and the fields that moved."""
        after = "pass" if observation.get("outcome") == "passed" else "fail"
        if self.fingerprint is None:
            return ("fixed" if after == "pass" else "security" if security else "changed"), []
        return classify("fail", self.fingerprint, after, observation, security, ranks)


@functools.cache
def _pattern(check: str) -> re.Pattern[str]:
    """An entry's check, where ``*`` stands for anything (every check of a run is held to every
    entry)."""
    return re.compile(re.escape(check).replace(r"\*", ".*"))


def file_for(gateway: str, version: str, profile: str = "defaults") -> Path:
    """A version's file for a --litellm-settings profile: LiteLLM's defaults have the plain name."""
    return DIRECTORY / (
        f"{gateway}-{version}.yaml"
        if profile == "defaults"
        else f"{gateway}-{version}.{profile}.yaml"
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yamlio.load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise HarnessError(f"cannot read the deviations file {path}: {exc}") from None
    if not isinstance(raw, dict):
        raise HarnessError(f"{path}: a deviations file is a mapping with a 'deviations' list")
    return raw


def load(path: Path) -> list[Deviation]:
    """Read a deviations file; a HarnessError names the file and the bad entry."""
    out = []
    for n, entry in enumerate(_read(path).get("deviations") or []):
        try:
            observed = " ".join(str(entry["observed"]).split())
            fingerprint = entry.get("fingerprint")
            if fingerprint is not None and not isinstance(fingerprint, dict):
                raise TypeError
            cause = str(entry["cause"]) if entry.get("cause") else None
            out.append(
                Deviation(
                    str(entry["check"]), str(entry["requirement"]), observed, fingerprint, cause
                )
            )
        except (KeyError, TypeError, AttributeError):
            raise HarnessError(
                f"{path}: deviation #{n} needs check, requirement and observed "
                "(and a fingerprint that is a mapping)"
            ) from None
    return out


def header(path: Path) -> dict[str, Any]:
    """The file's own fields besides the entries (gateway version, how it was recorded)."""
    return {k: v for k, v in _read(path).items() if k != "deviations"} if path.exists() else {}


def causes(path: Path | None) -> dict[str, Cause]:
    """The file's root causes (harness.verdict.causes), by id; empty for a file without a table."""
    if path is None or not path.exists():
        return {}
    table = _read(path).get("causes")
    if table is not None and not isinstance(table, dict):
        raise HarnessError(f"{path}: causes: is a mapping of cause ids to causes")
    return parse(table)


def waivers(path: Path | None) -> list[Waiver]:
    """The file's security waivers; each needs check, reason and an expiry date (YYYY-MM-DD)."""
    if path is None or not path.exists():
        return []
    out = []
    for n, entry in enumerate(_read(path).get("waivers") or []):
        try:
            expires = entry["expires"]
            expires = (
                expires if isinstance(expires, dt.date) else dt.date.fromisoformat(str(expires))
            )
            reason = str(entry["reason"]).strip()
            if not reason:
                raise ValueError
            out.append(Waiver(str(entry["check"]), reason, expires))
        except (KeyError, TypeError, ValueError):
            raise HarnessError(
                f"{path}: waiver #{n} needs check, a reason and an expiry date (YYYY-MM-DD)"
            ) from None
    return out
