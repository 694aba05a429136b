"""Accepting what moved, as one reviewed command; and the file's lint.

``accept`` reads a run (its ``compat.json``) and rewrites only the entries of the checks that moved
in the classes asked for: an ``improved`` (or accepted ``changed`` / ``regressed``) check gets its new
fingerprint, a ``fixed`` one loses its entry, a ``new failure`` gains one. It never removes an entry
for a check the run did not show passing (a filtered or broken run prunes nothing) and it refuses a
``security`` change outright: that takes a waiver, with a reason and an expiry date, written by a person.
It prints a markdown summary of what moved, for the pull request.

``lint`` lists entries that match no check, entries for checks that a run shows passing (stale), and
waivers past their expiry date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.tools.deviations.record import NEW, gateway_fields, problems, write
from harness.verdict.catalogue import catalogue
from harness.verdict.deviations import DIRECTORY, Deviation, load, waivers
from harness.verdict.runs import own_class

ACCEPTABLE = ("improved", "fixed", "changed", "regressed", "new failure")
DEFAULT_CLASSES = ("improved", "fixed")


@dataclass
class Accepted:
    entries: list[dict[str, Any]]
    moved: list[tuple[str, str, str, list[str]]] = field(default_factory=list)  # class, check, requirement, arrows
    refused: list[tuple[str, str]] = field(default_factory=list)  # check, why

    def markdown(self, run_label: str, path: Path) -> str:
        lines = [f"### Known deviations accepted from {run_label}", "",
                 f"`{path.name}`: {len(self.moved)} entr{'y' if len(self.moved) == 1 else 'ies'} rewritten.", ""]
        if self.moved:
            lines += ["| class | check | requirement | what moved |", "| --- | --- | --- | --- |"]
            lines += [f"| {k} | `{c}` | {r} | {'<br>'.join(a) or '—'} |" for k, c, r, a in self.moved]
        if self.refused:
            lines += ["", "Refused (not written):", *(f"- `{c}`: {why}" for c, why in self.refused)]
        return "\n".join(lines)


def deviations_path(run: dict[str, Any], given: Path | None) -> Path:
    if given is not None:
        return given
    name = run["info"].get("deviations_file") or ""
    if not name:
        raise HarnessError("the run names no deviations file (was it run with --no-deviations, or on a version "
                           "without one?): pass --file")
    return DIRECTORY / name


def _wanted(result: dict[str, Any], checks: list[str]) -> bool:
    short = result["nodeid"].removeprefix("suites/")
    return not checks or any(c in (result["requirement"], short, result["nodeid"]) for c in checks)


def accept(run: dict[str, Any], path: Path, classes: Iterable[str], checks: list[str]) -> Accepted:
    """The file's new entries, with only the wanted moved checks rewritten."""
    wanted = set(classes)
    if unknown := wanted - set(ACCEPTABLE):
        raise HarnessError(f"cannot accept class(es) {sorted(unknown)}: choose from {', '.join(ACCEPTABLE)}"
                           + ("; a security change takes a waiver (reason, expiry), never accept"
                              if "security" in unknown else ""))
    existing = load(path) if path.exists() else []
    security = {r.id for r in catalogue().values() if r.security}
    out = Accepted([_entry(d) for d in existing])
    for result in run["results"]:
        if not _wanted(result, checks):
            continue
        klass = own_class(result, result["requirement"] in security)
        short = result["nodeid"].removeprefix("suites/")
        if klass == "security":
            out.refused.append((short, "a security change: only a waiver (reason and expiry) accepts it"))
        elif klass in wanted:
            _apply(out, existing, klass, short, result)
    return out


def _apply(out: Accepted, existing: list[Deviation], klass: str, short: str, result: dict[str, Any]) -> None:
    old = next((d for d in existing if d.matches(short)), None)
    if old is not None and "*" in old.check:
        out.refused.append((short, f"listed by the pattern {old.check}; edit that entry by hand"))
        return
    arrows = list(result.get("moves") or [])
    out.entries = [e for e in out.entries if e["check"] != short]
    if klass != "fixed":
        observed = old.observed if old else NEW + (result.get("reason") or result["fingerprint"].get("outcome", ""))
        out.entries.append({"check": short, "requirement": result["requirement"], "observed": observed,
                            "fingerprint": result["fingerprint"]})
    out.moved.append((klass, short, result["requirement"], arrows))


def _entry(d: Deviation) -> dict[str, Any]:
    entry: dict[str, Any] = {"check": d.check, "requirement": d.requirement, "observed": d.observed}
    if d.fingerprint is not None:
        entry["fingerprint"] = d.fingerprint
    return entry


def save(run: dict[str, Any], path: Path, accepted: Accepted) -> None:
    order = list(catalogue())
    accepted.entries.sort(key=lambda e: (order.index(e["requirement"]) if e["requirement"] in order else len(order),
                                         e["check"]))
    # gateway_fields keeps the file's own fields, its waivers among them.
    write(path, gateway_fields(run, path), accepted.entries, "python -m harness deviations accept")


# -- lint -----------------------------------------------------------------------------------------

def lint(path: Path, checks: dict[str, str], run: dict[str, Any] | None,
         today: dt.date | None = None) -> tuple[list[str], list[str]]:
    """(problems that fail the lint, stale entries that are good news to clean up)."""
    bad = [p for p in problems(path, checks) if "matches no check" in p]
    bad += [f"waiver for {w.check} expired on {w.expires} ({w.reason})" for w in waivers(path)
            if w.expires < (today or dt.date.today())]
    stale: list[str] = []
    if run is not None and run["info"].get("deviations_file") == path.name:
        for result in run["results"]:
            if result.get("deviation") in ("fixed", "improved"):
                stale.append(f"{result['nodeid'].removeprefix('suites/')}: {result['deviation']} in the run "
                             "(python -m harness deviations accept --run ...)")
    return bad, stale
