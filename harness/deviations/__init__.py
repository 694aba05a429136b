"""Known deviations: the checks a given gateway version is known to fail, with what it does instead.

``pytest suites/`` passes when the gateway behaves exactly as recorded: each listed
check becomes a strict xfail, so a deviation that disappears fails the run too
("XPASS(strict)"), and the file must be updated. ``--no-deviations`` shows the raw results.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.errors import HarnessError

DIRECTORY = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Deviation:
    check: str  # "test_file.py::test_name[param]", where * matches anything
    requirement: str
    observed: str

    def matches(self, nodeid: str) -> bool:
        pattern = re.escape(self.check).replace(r"\*", ".*")
        return re.fullmatch(pattern, nodeid.removeprefix("suites/")) is not None


def file_for(gateway: str, version: str) -> Path:
    return DIRECTORY / f"{gateway}-{version}.yaml"


def load(path: Path) -> list[Deviation]:
    """Read a deviations file; a HarnessError names the file and the bad entry."""
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise HarnessError(f"cannot read the deviations file {path}: {exc}") from None
    out = []
    for n, entry in enumerate(raw.get("deviations") or []):
        try:
            observed = " ".join(str(entry["observed"]).split())
            out.append(Deviation(str(entry["check"]), str(entry["requirement"]), observed))
        except (KeyError, TypeError):
            raise HarnessError(f"{path}: deviation #{n} needs check, requirement and observed") from None
    return out
