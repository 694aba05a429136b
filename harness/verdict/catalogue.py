"""The requirements catalogue, loaded from ``catalogue.yaml`` beside this module."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from harness import yamlio
from harness.errors import HarnessError

Level = Literal["must", "should", "info"]
# Who may use the gateway and where a key goes: a deviation here is never "just" a deviation.
SECURITY_AREAS = frozenset({"AUTH", "KEYS"})
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
    # Routes (suites.support.routes) where the requirement's fault cannot be expressed, each with the reason.
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
            raise HarnessError(f"{path}: requirement {rid} cites unknown source {entry.get('source')!r}")
        out[rid] = Requirement(rid, entry["area"], entry["level"], " ".join(entry["statement"].split()),
                               sources[entry["source"]], bool(entry.get("security", entry["area"] in SECURITY_AREAS)),
                               tuple((k, " ".join(str(v).split())) for k, v in (entry.get("not_on") or {}).items()))
    return out


def catalogue_revision(path: Path = CATALOGUE) -> str:
    """A short hash of the catalogue, so runs made from different catalogues can be told apart."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
