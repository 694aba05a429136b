"""Known deviations: the checks a gateway version is known to fail, and exactly how it fails them.

Each entry names one check, the requirement it states, a human explanation
(``observed``) and a *fingerprint*: the observation (see :mod:`harness.fingerprint`)
the check made when the deviation was recorded by ``python -m harness deviations
record``. At run time a listed check has three outcomes:

- **deviation**: it fails and its observation equals the fingerprint (shown as xfail);
- **fail**: it fails differently; a new failure, shown beside the recorded fingerprint;
- **fixed**: it passes; the run fails until the entry is removed (like XPASS(strict)).

``--no-deviations`` shows the raw results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from harness.errors import HarnessError
from harness.fingerprint import Observation, normalise

DIRECTORY = Path(__file__).resolve().parent
Verdict = Literal["deviation", "changed", "fixed"]


@dataclass(frozen=True)
class Deviation:
    check: str  # "test_file.py::test_name[param]"; a * matches anything (hand-written files only)
    requirement: str
    observed: str
    fingerprint: Observation | None = field(default=None, compare=False)

    def matches(self, nodeid: str) -> bool:
        pattern = re.escape(self.check).replace(r"\*", ".*")
        return re.fullmatch(pattern, nodeid.removeprefix("suites/")) is not None

    def judge(self, observation: Observation) -> Verdict:
        """The outcome of a listed check that made ``observation``."""
        if observation.get("outcome") == "passed":
            return "fixed"
        if self.fingerprint is None or normalise(self.fingerprint) != normalise(observation):
            return "changed"
        return "deviation"


def file_for(gateway: str, version: str, profile: str = "defaults") -> Path:
    """A version's file for a --litellm-settings profile: LiteLLM's defaults have the plain name."""
    return DIRECTORY / (f"{gateway}-{version}.yaml" if profile == "defaults" else f"{gateway}-{version}.{profile}.yaml")


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text()) or {}
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
            out.append(Deviation(str(entry["check"]), str(entry["requirement"]), observed, fingerprint))
        except (KeyError, TypeError, AttributeError):
            raise HarnessError(f"{path}: deviation #{n} needs check, requirement and observed "
                               "(and a fingerprint that is a mapping)") from None
    return out


def header(path: Path) -> dict[str, Any]:
    """The file's own fields besides the entries (gateway version, how it was recorded)."""
    return {k: v for k, v in _read(path).items() if k != "deviations"} if path.exists() else {}
