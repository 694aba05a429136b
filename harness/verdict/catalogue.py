"""The requirements catalogue, loaded from ``catalogue.yaml`` beside this module."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from harness import yamlio
from harness.errors import HarnessError
from harness.verdict.impact import IMPACTS, Impact

Level = Literal["must", "should", "info"]
# Who may use the gateway and where a key goes: a deviation here is never "just" a deviation.
SECURITY_AREAS = frozenset({"AUTH", "KEYS", "ADMIN"})
CATALOGUE = Path(__file__).with_name("catalogue.yaml")


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str


@dataclass(frozen=True)
class Requirement:
    id: str
    area: str
    level: Level
    statement: str
    source: Source
    security: bool = False
    # What a Claude Code user meets when a gateway breaks it (harness.verdict.impact), and in a
    # sentence.
    impact: Impact = "none-visible"
    sees: str = ""
    # Why the level is not the one the impact gives (docs/impact.md#the-level-rule); empty when it
    # is.
    level_exception: str = ""
    # Routes (suites.support.routes) where the requirement's fault cannot be expressed, each with
    # the reason.
    not_on: tuple[tuple[str, str], ...] = ()


@cache
def catalogue(path: Path = CATALOGUE) -> dict[str, Requirement]:
    """Every requirement by ID; a HarnessError names the first malformed entry."""
    raw = yamlio.load(path.read_text())
    sources = {k: Source(k, v["title"], v["url"]) for k, v in raw["sources"].items()}
    out: dict[str, Requirement] = {}
    for entry in raw["requirements"]:
        rid = entry.get("id", "?")
        if rid in out:
            raise HarnessError(f"{path}: requirement {rid} is listed twice")
        if entry.get("level") not in ("must", "should", "info"):
            raise HarnessError(f"{path}: requirement {rid} has level {entry.get('level')!r}")
        if entry.get("source") not in sources:
            raise HarnessError(
                f"{path}: requirement {rid} cites unknown source {entry.get('source')!r}"
            )
        if entry.get("impact") not in IMPACTS or not str(entry.get("sees") or "").strip():
            raise HarnessError(
                f"{path}: requirement {rid} needs an impact (one of {', '.join(IMPACTS)}) and "
                f"a `sees` sentence: what a Claude Code user meets when a gateway breaks it"
            )
        out[rid] = _requirement(entry, sources[entry["source"]])
    return out


def _requirement(entry: dict[str, Any], source: Source) -> Requirement:
    return Requirement(
        entry["id"],
        entry["area"],
        entry["level"],
        _one_line(entry["statement"]),
        source,
        bool(entry.get("security", entry["area"] in SECURITY_AREAS)),
        entry["impact"],
        _one_line(entry["sees"]),
        _one_line(entry.get("level_exception") or ""),
        tuple((k, _one_line(v)) for k, v in (entry.get("not_on") or {}).items()),
    )


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def entries(path: Path = CATALOGUE) -> dict[str, dict[str, Any]]:
    """The raw entries by ID, for the checks of the catalogue itself (the level rule)."""
    return {str(e.get("id")): e for e in yamlio.load(path.read_text())["requirements"]}


def catalogue_revision(path: Path = CATALOGUE) -> str:
    """A short hash of the catalogue, so runs made from different catalogues can be told apart."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
