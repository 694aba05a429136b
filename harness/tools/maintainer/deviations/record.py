"""Writing and checking deviations files: fingerprints are recorded from a run, never hand-written.

``record`` runs the suite with ``--no-deviations`` (or reads such a run), and
rewrites the file from what it saw: one entry per failing check, with the
check's observation as its fingerprint. A person then reviews the diff and
writes the ``observed`` explanation of new entries; explanations of existing
entries are kept. Entries for checks that did not run are left alone.

``check`` holds a file to the rules the run relies on: every entry has a
fingerprint, names a check that exists under the requirement that check
states, and no check is listed twice.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError
from harness.plugin.collected import collect
from harness.verdict.catalogue import catalogue
from harness.verdict.deviations import Deviation, header, load
from harness.verdict.fingerprint import differences

ROOT = Path(__file__).resolve().parents[4]
NEW = "NEW, to be explained by a reviewer: "


@dataclass
class Refresh:
    """What ``record`` changed, for its summary and its exit code."""

    entries: list[dict[str, Any]]
    added: list[str] = field(default_factory=list)
    fingerprinted: list[str] = field(default_factory=list)  # listed before, with no fingerprint
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: int = 0
    untouched: int = 0
    errors: list[str] = field(default_factory=list)
    unstable: list[str] = field(default_factory=list)
    security: list[str] = field(
        default_factory=list
    )  # moved for the worse on a security dimension: kept as was


def run_suite(
    out_dir: Path,
    litellm_python: str | None,
    impl: str | None,
    extra: list[str],
    profile: str = "defaults",
) -> dict[str, Any]:
    """One ``pytest suites/ --no-deviations`` run; its JSON report."""
    # Paths among the extra arguments (suites/test_errors.py) narrow the collection; otherwise all
    # of suites/.
    given = [
        a
        for prev, a in zip(["", *extra], extra, strict=False)
        if a.startswith("suites/") and not prev.startswith("-")
    ]  # not an option's value (--deselect X)
    paths = [] if given else ["suites"]
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        *paths,
        "-q",
        "-p",
        "no:cacheprovider",
        "--tb=no",
        "--no-deviations",
        "--no-rerun",
        "--report-dir",
        str(out_dir),
        "--litellm-settings",
        profile,
    ]
    # Under the isolated profile only the checks whose verdict can depend on the settings run (as in
    # CI).
    cmd += ["-m", "settings_sensitive"] if profile != "defaults" else []
    cmd += ["--litellm-python", litellm_python] if litellm_python else []
    cmd += ["--gateway-impl", impl] if impl else []
    done = subprocess.run([*cmd, *extra], cwd=ROOT, capture_output=True, text=True)
    report = out_dir / "compat.json"
    if done.returncode > 1 or not report.exists():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise HarnessError(
            f"the suite did not complete (pytest exit {done.returncode}), so nothing was "
            f"recorded. Last lines:\n{tail}"
        )
    data: dict[str, Any] = json.loads(report.read_text())
    return data


def _short(nodeid: str) -> str:
    return nodeid.removeprefix("suites/")


def _explanation(result: dict[str, Any], old: Deviation | None) -> str:
    if old is not None and not old.observed.startswith(NEW):
        return old.observed
    text = result.get("evidence", {}).get("failure", "")
    first = next((line[1:].strip() for line in text.splitlines() if line.startswith("E ")), "")
    return NEW + (first or result["fingerprint"].get("outcome", ""))[:300]


def refresh(existing: list[Deviation], runs: list[dict[str, Any]]) -> Refresh:
    """The new entries: existing ones for checks that did not run, recorded ones for those that
    did."""
    results = {_short(r["nodeid"]): r for r in runs[0]["results"]}
    out = Refresh([])
    out.unstable = _unstable(results, runs[1:])
    for entry in existing:
        if not any(entry.matches(n) for n in results):
            out.entries.append(
                _entry(
                    entry.check, entry.requirement, entry.observed, entry.fingerprint, entry.cause
                )
            )
            out.untouched += 1
    for nodeid, result in results.items():
        old = next((d for d in existing if d.matches(nodeid)), None)
        if result["outcome"] == "error":
            out.errors.append(nodeid)
        if result["outcome"] == "fail" and nodeid not in out.unstable:
            _record(out, nodeid, result, old)
        elif result["outcome"] == "pass" and old is not None:
            out.removed.append(nodeid)
        elif (
            old is not None
        ):  # skipped, a harness error or unstable: nothing learnt, the old entry stands
            out.entries.append(
                _entry(nodeid, old.requirement, old.observed, old.fingerprint, old.cause)
            )
            out.untouched += 1
    order = list(catalogue())
    out.entries.sort(
        key=lambda e: (
            order.index(e["requirement"]) if e["requirement"] in order else len(order),
            e["check"],
        )
    )
    return out


def _unstable(results: dict[str, dict[str, Any]], others: list[dict[str, Any]]) -> list[str]:
    """Failing checks whose fingerprint differs between runs: recording one would make the gate
    flaky."""
    seen = [{_short(r["nodeid"]): r for r in run["results"]} for run in others]
    return [
        n
        for n, r in results.items()
        if r["outcome"] == "fail"
        and any(n in s and s[n]["fingerprint"] != r["fingerprint"] for s in seen)
    ]


def _record(out: Refresh, nodeid: str, result: dict[str, Any], old: Deviation | None) -> None:
    if old is not None and old.fingerprint is not None:
        req = catalogue().get(result["requirement"])
        klass, _ = old.judge(result["fingerprint"], bool(req and req.security), result.get("ranks"))
        if klass == "security":
            # A re-record never accepts a security change: the old entry stands, and the run keeps
            # failing.
            out.security.append(nodeid)
            out.entries.append(
                _entry(nodeid, old.requirement, old.observed, old.fingerprint, old.cause)
            )
            return
    # A cause is carried over only where the fingerprint did not move: a moved check may have
    # another cause, and `deviations lint` asks a person to name it (docs/impact.md#causes).
    moved = (
        old is None
        or old.fingerprint is None
        or bool(differences(old.fingerprint, result["fingerprint"]))
    )
    out.entries.append(
        _entry(
            nodeid,
            result["requirement"],
            _explanation(result, old),
            result["fingerprint"],
            None if moved or old is None else old.cause,
        )
    )
    if old is None:
        out.added.append(nodeid)
    elif old.fingerprint is None:
        out.fingerprinted.append(nodeid)
    elif moved:
        out.changed.append(nodeid)
    else:
        out.kept += 1


def _entry(
    check: str,
    requirement: str,
    observed: str,
    fingerprint: dict[str, Any] | None,
    cause: str | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"check": check, "requirement": requirement, "observed": observed}
    if cause:
        entry["cause"] = cause
    if fingerprint is not None:
        entry["fingerprint"] = fingerprint
    return entry


def write(path: Path, gateway: dict[str, Any], entries: list[dict[str, Any]], command: str) -> None:
    """The file, with a header saying how it was made; only the explanations are for people to
    edit."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    intro = (
        f"# Known deviations of {gateway.get('label', 'the gateway')} from the requirements "
        "catalogue.\n"
        f"# Written by `{command}` on {stamp}.\n"
        "# Review the diff. Edit only the `observed` explanations: each fingerprint is what "
        "the check\n"
        "# observed when it was recorded, and a run holds the check to it "
        "(harness/verdict/deviations/).\n"
    )
    body = {
        **{k: v for k, v in gateway.items() if k != "label"},
        "recorded_at": stamp,
        "deviations": entries,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(intro + yaml.safe_dump(body, sort_keys=False, width=110, allow_unicode=True))


def gateway_fields(run: dict[str, Any], path: Path) -> dict[str, Any]:
    """The file's header fields: kept from the old file, the version from the run."""
    info = run["info"]
    fields = header(path)
    fields.pop("recorded_at", None)
    if info["litellm_version"][:1].isdigit():
        # The gateway's version under its driver's name (``litellm: 1.108.7``, ``portkey: ...``).
        fields[info.get("gateway", "litellm")] = info["litellm_version"]
    return {"label": info["label"], **fields}


# -- check ----------------------------------------------------------------------------------------


def collected_node_ids() -> set[str]:
    """Every node id a default run collects (tests/ and suites/), without running anything."""
    return collect("tests", "suites").node_ids


def collected_checks(only_sensitive: bool = False) -> dict[str, str]:
    """Every check in suites/ (node id without ``suites/``) and the requirement it states.

    ``only_sensitive``: just the settings-sensitive ones, all that run under a non-default profile.
    """
    collector = collect("suites")
    if only_sensitive:
        return {n: r for n, r in collector.requirements.items() if n in collector.sensitive}
    return collector.requirements


def problems(path: Path, checks: dict[str, str], scope: str = "in suites/") -> list[str]:
    """Every rule the file breaks; empty when it is fit to gate a run. ``checks``: those the file
    may list."""
    try:
        entries = load(path)
    except HarnessError as exc:
        return [str(exc)]
    known = catalogue()
    out: list[str] = []
    listed: Counter[str] = Counter()
    for d in entries:
        matched = [n for n in checks if d.matches(n)]
        listed.update(matched)
        if not d.fingerprint:
            out.append(
                f"{d.check}: no fingerprint (record it with `python -m harness deviations record`)"
            )
        elif "outcome" not in d.fingerprint:
            out.append(
                f"{d.check}: the fingerprint has no outcome, so it was not recorded by this harness"
            )
        if d.requirement not in known:
            out.append(f"{d.check}: requirement {d.requirement} is not in the catalogue")
        if not matched:
            out.append(f"{d.check}: matches no check {scope}")
        out += [
            f"{d.check}: {n} states {checks[n]}, not {d.requirement}"
            for n in matched
            if checks[n] != d.requirement
        ]
    out += [f"{n}: listed by {count} entries" for n, count in sorted(listed.items()) if count > 1]
    return out


def fingerprint_fields(path: Path) -> Counter[str]:
    """How many entries carry each fingerprint field, for the summary."""
    return Counter(k for d in load(path) for k in (d.fingerprint or {}))


def rewrite_causes(path: Path, table: dict[str, Any]) -> None:
    """The file with its ``causes:`` table replaced; its entries, leading comments and date as they
    were."""
    lines = path.read_text().splitlines(keepends=True)
    intro = "".join(itertools.takewhile(lambda line: line.startswith("#"), lines))
    body = yaml.safe_load("".join(lines)) or {}
    entries = body.pop("deviations", [])
    body.pop("causes", None)
    body = {**body, "causes": table, "deviations": entries}
    path.write_text(intro + yaml.safe_dump(body, sort_keys=False, width=110, allow_unicode=True))
