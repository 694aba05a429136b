"""Accepting what moved, as one reviewed command; and the file's lint.

``accept`` reads a run (its ``compat.json``) and rewrites only the entries of the checks that moved
in the classes asked for: an ``improved`` (or accepted ``changed`` / ``regressed``) check gets its
new fingerprint, a ``fixed`` one loses its entry, a ``new failure`` gains one. It never removes an
entry for a check the run did not show passing (a filtered or broken run prunes nothing) and it
refuses a ``security`` change outright: that takes a waiver, with a reason and an expiry date,
written by a person. It prints a markdown summary of what moved, for the pull request.

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
from harness.tools.maintainer.deviations.record import NEW, gateway_fields, problems, write
from harness.verdict.catalogue import catalogue
from harness.verdict.causes import Mitigation
from harness.verdict.causes import problems as cause_table_problems
from harness.verdict.deviations import DIRECTORY, Deviation, causes, load, waivers
from harness.verdict.impact import exposures
from harness.verdict.runs import own_class

ACCEPTABLE = ("improved", "fixed", "changed", "regressed", "new failure")
DEFAULT_CLASSES = ("improved", "fixed")


@dataclass
class Accepted:
    entries: list[dict[str, Any]]
    moved: list[tuple[str, str, str, list[str]]] = field(
        default_factory=list
    )  # class, check, requirement, arrows
    refused: list[tuple[str, str]] = field(default_factory=list)  # check, why

    def markdown(self, run_label: str, path: Path) -> str:
        lines = [
            f"### Known deviations accepted from {run_label}",
            "",
            (
                f"`{path.name}`: {len(self.moved)} "
                f"entr{'y' if len(self.moved) == 1 else 'ies'} rewritten."
            ),
            "",
        ]
        if self.moved:
            lines += ["| class | check | requirement | what moved |", "| --- | --- | --- | --- |"]
            lines += [
                f"| {k} | `{c}` | {r} | {'<br>'.join(a) or '—'} |" for k, c, r, a in self.moved
            ]
        if self.refused:
            lines += ["", "Refused (not written):", *(f"- `{c}`: {why}" for c, why in self.refused)]
        return "\n".join(lines)


def deviations_path(run: dict[str, Any], given: Path | None) -> Path:
    if given is not None:
        return given
    name = run["info"].get("deviations_file") or ""
    if not name:
        raise HarnessError(
            "the run names no deviations file (was it run with --no-deviations, or on a version "
            "without one?): pass --file"
        )
    return DIRECTORY / name


def _wanted(result: dict[str, Any], checks: list[str]) -> bool:
    short = result["nodeid"].removeprefix("suites/")
    return not checks or any(c in (result["requirement"], short, result["nodeid"]) for c in checks)


def accept(run: dict[str, Any], path: Path, classes: Iterable[str], checks: list[str]) -> Accepted:
    """The file's new entries, with only the wanted moved checks rewritten."""
    wanted = set(classes)
    if unknown := wanted - set(ACCEPTABLE):
        raise HarnessError(
            f"cannot accept class(es) {sorted(unknown)}: choose from {', '.join(ACCEPTABLE)}"
            + (
                "; a security change takes a waiver (reason, expiry), never accept"
                if "security" in unknown
                else ""
            )
        )
    existing = load(path) if path.exists() else []
    security = {r.id for r in catalogue().values() if r.security}
    out = Accepted([_entry(d) for d in existing])
    for result in run["results"]:
        if not _wanted(result, checks):
            continue
        klass = own_class(result, result["requirement"] in security)
        short = result["nodeid"].removeprefix("suites/")
        if klass == "security":
            out.refused.append(
                (short, "a security change: only a waiver (reason and expiry) accepts it")
            )
        elif klass in wanted:
            _apply(out, existing, klass, short, result)
    return out


def _apply(
    out: Accepted, existing: list[Deviation], klass: str, short: str, result: dict[str, Any]
) -> None:
    old = next((d for d in existing if d.matches(short)), None)
    if old is not None and "*" in old.check:
        out.refused.append((short, f"listed by the pattern {old.check}; edit that entry by hand"))
        return
    arrows = list(result.get("moves") or [])
    out.entries = [e for e in out.entries if e["check"] != short]
    if klass != "fixed":
        observed = (
            old.observed
            if old
            else NEW + (result.get("reason") or result["fingerprint"].get("outcome", ""))
        )
        # A reviewed move keeps its cause; a new entry gets none, and `deviations lint` asks for
        # one.
        out.entries.append(
            {
                "check": short,
                "requirement": result["requirement"],
                "observed": observed,
                **({"cause": old.cause} if old and old.cause else {}),
                "fingerprint": result["fingerprint"],
            }
        )
    out.moved.append((klass, short, result["requirement"], arrows))


def _entry(d: Deviation) -> dict[str, Any]:
    entry: dict[str, Any] = {"check": d.check, "requirement": d.requirement, "observed": d.observed}
    if d.cause:
        entry["cause"] = d.cause
    if d.fingerprint is not None:
        entry["fingerprint"] = d.fingerprint
    return entry


def save(run: dict[str, Any], path: Path, accepted: Accepted) -> None:
    order = list(catalogue())
    accepted.entries.sort(
        key=lambda e: (
            order.index(e["requirement"]) if e["requirement"] in order else len(order),
            e["check"],
        )
    )
    # gateway_fields keeps the file's own fields, its waivers among them.
    write(path, gateway_fields(run, path), accepted.entries, "python -m harness deviations accept")


# -- lint -----------------------------------------------------------------------------------------


def lint(
    path: Path,
    checks: dict[str, str],
    run: dict[str, Any] | None,
    today: dt.date | None = None,
    sensitive: dict[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """(problems that fail the lint, stale entries that are good news to clean up)."""
    bad = [p for p in problems(path, checks) if "matches no check" in p]
    bad += cause_problems(path, checks, checks if sensitive is None else sensitive)
    bad += [
        f"waiver for {w.check} expired on {w.expires} ({w.reason})"
        for w in waivers(path)
        if w.expires < (today or dt.date.today())
    ]
    stale: list[str] = []
    if run is not None and run["info"].get("deviations_file") == path.name:
        for result in run["results"]:
            if result.get("deviation") in ("fixed", "improved"):
                stale.append(
                    f"{result['nodeid'].removeprefix('suites/')}: {result['deviation']} in the run "
                    "(python -m harness deviations accept --run ...)"
                )
    return bad, stale


def cause_problems(path: Path, checks: dict[str, str], sensitive: dict[str, str]) -> list[str]:
    """Every entry names a cause of the file's table, every cause is named, complete, claims an
    exposure only where a fingerprint shows one, and proves its mitigation (docs/impact.md)."""
    entries, table = load(path), causes(path)
    out = cause_table_problems(table, [(d.check, d.cause) for d in entries])
    for cid, cause in table.items():
        mine = [d for d in entries if d.cause == cid]
        if cause.impact == "exposure" and not any(
            exposures(d.requirement, d.fingerprint) for d in mine
        ):
            out.append(
                f"cause {cid}: impact exposure, but no fingerprint of its checks shows one "
                "(an exposure is claimed only when observed)"
            )
        if cause.mitigation is not None:
            out += [
                f"cause {cid}: {p}"
                for p in _proof_problems(path, cause.mitigation, mine, entries, checks, sensitive)
            ]
    return out


def _proof_problems(
    path: Path,
    mitigation: Mitigation,
    mine: list[Deviation],
    entries: list[Deviation],
    checks: dict[str, str],
    sensitive: dict[str, str],
) -> list[str]:
    """A mitigation's proof holds: the run that proves it runs every check of the cause, and expects
    a pass."""
    target = mitigation.proof_target
    if mitigation.proof_kind == "check":
        if target.removeprefix("suites/") not in checks:
            return [f"its proof {target} is not a check in suites/"]
        listed = [d.check for d in entries if d.matches(target.removeprefix("suites/"))]
        return [f"its proof {target} is a known deviation of this file: it fails"] if listed else []
    profiled = path.with_name(path.name.removesuffix(".yaml") + f".{target}.yaml")
    if not profiled.exists():
        return [f"its proof names profile {target!r}, which has no deviations file {profiled.name}"]
    failing = load(profiled)
    out = [
        f"its proof: {d.check} does not run under {target} (not settings-sensitive)"
        for d in mine
        if not any(d.matches(n) for n in sensitive)
    ]
    out += [
        f"its proof: {d.check} still fails under {target} ({profiled.name} lists it)"
        for d in mine
        if any(o.check == d.check for o in failing)
    ]
    return out
