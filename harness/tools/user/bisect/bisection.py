"""The code of :mod:`harness.tools.user.bisect`; what it is for: the package's docstring."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.tools import envs, runstore
from harness.tools.user import repro
from harness.tools.user.bisect.search import Found, Observation, search
from harness.verdict.runs import BAD, check_verdicts, load_run

REQUIREMENT = re.compile(r"[A-Z][A-Z0-9]*(-[A-Z0-9]+)*-\d{3}")


@dataclass(frozen=True)
class Release:
    """One release of the series: its name, and the pytest arguments that put it under test (built
    lazily)."""

    version: str
    arguments: Callable[[], list[str]]
    # The version as it appears in some node ids (a Claude Code version's checks carry it:
    # [2.1.332-...]).
    token: str = ""
    variables: Callable[[], dict[str, str]] = field(default=dict)
    built: Callable[[], str] = field(
        default=lambda: ""
    )  # how its environment came: "built in 80 s", "cached"

    def normalize(self, nodeid: str, base: Release) -> str:
        """This release's node id as V1's run names the same check."""
        return _swap(nodeid, self.token, base.token)

    def own(self, nodeid: str, base: Release) -> str:
        """V1's node id as this release's run names the same check."""
        return _swap(nodeid, base.token, self.token)


def _swap(nodeid: str, old: str, new: str) -> str:
    """``old`` replaced by ``new`` where it stands as a whole version ([2.1.330-x], [cc-2.1.330]),
    not inside another number."""
    if not old or not new or old == new:
        return nodeid
    return re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w.])", new, nodeid)


@dataclass
class Step:
    version: str
    checks: int
    seconds: float
    reused: bool
    environment: str


@dataclass
class Bisect:
    releases: list[Release]
    selection: list[str]  # node ids and requirement ids, as the user named them
    out: Path
    pytest_args: list[str] = field(default_factory=list)
    store: Path = field(default_factory=lambda: runstore.STORE)
    steps: list[Step] = field(default_factory=list)
    v1_key: str = ""
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    renamed: dict[int, dict[str, Any]] = field(default_factory=dict)  # each run under V1's node ids

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        # A node id copied from V2's run (the gate's page) names V2's Claude Code version: V1 runs
        # its own.
        named = [_swap(c, self.releases[-1].token, self.releases[0].token) for c in self.selection]
        base = self._run_step(0, _narrowing(named), against=None)
        tracked = self._tracked(base, named)
        found = search(len(self.releases), tracked, self._observe, self._label)
        data = self._data(found, time.monotonic() - started)
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "bisect.json").write_text(json.dumps(data, indent=1))
        return data

    def _label(self, index: int) -> str:
        return self.releases[index].version

    def _tracked(self, base: dict[str, Any], named: list[str]) -> list[str]:
        """The checks V1's run holds for the selection, by V1's node ids."""
        ran = [
            r["nodeid"] for r in base["results"] if r["outcome"] not in ("skipped", "not-covered")
        ]
        # In the order they were named: the search halves the first open check's interval first.
        tracked = sorted(ran, key=lambda n: (named.index(n) if n in named else len(ran), n))
        if not tracked:
            raise HarnessError(
                f"bisect: no check of {' '.join(self.selection)} ran at {self._label(0)} (the good "
                "release); name node ids (suites/test_x.py::test_y[case]) or requirement ids"
            )
        return tracked

    def _observe(self, index: int, checks: list[str]) -> dict[str, Observation]:
        release, base = self.releases[index], self.releases[0]
        if index == 0:
            return {
                c: Observation(
                    "flaky" if (_result(self.runs[0], c) or {}).get("flaky") else "same",
                    _outcome(self.runs[0], c),
                )
                for c in checks
            }
        self._run_step(index, [release.own(c, base) for c in checks], against=self._v1_as(index))
        return observations(self.runs[0], self.renamed[index])

    def _v1_as(self, index: int) -> Path:
        """V1's run with its node ids as this release names them, for the session's
        --rerun-against."""
        release = self.releases[index]
        path = self.out / "steps" / f"v1-as-{release.version}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        run = self.runs[0]
        path.write_text(
            json.dumps(
                {
                    **run,
                    "results": [
                        {**r, "nodeid": release.own(r["nodeid"], self.releases[0])}
                        for r in run["results"]
                    ],
                }
            )
        )
        return path

    def _under_v1_ids(self, index: int) -> dict[str, Any]:
        """A step's run with its node ids as V1's run names the same checks."""
        run, release = self.runs[index], self.releases[index]
        return {
            **run,
            "results": [
                {**r, "nodeid": release.normalize(r["nodeid"], self.releases[0])}
                for r in run["results"]
            ],
        }

    def _run_step(self, index: int, selection: list[str], against: Path | None) -> dict[str, Any]:
        release = self.releases[index]
        args = [
            *selection,
            *self.pytest_args,
            *(["--rerun-against", str(against)] if against else []),
        ]
        # V1's run by its own key, not by the file's bytes: a reused V1 run carries where it was
        # reused from.
        keyed = [
            *selection,
            *self.pytest_args,
            *([f"--rerun-against={self.v1_key}"] if against else []),
        ]
        key = runstore.key(f"bisect:{release.version}", [*keyed, *release.arguments()])
        if index == 0:
            self.v1_key = key
        started = time.monotonic()
        run = runstore.find(self.store, key)
        if run is None:
            run = self._session(release, args)
            runstore.store(self.store, key, run)
        self.runs[index] = run
        self.renamed[index] = self._under_v1_ids(index)
        self.steps.append(
            Step(
                release.version,
                len(selection),
                round(time.monotonic() - started, 1),
                run["info"].get("reused_from") is not None,
                release.built(),
            )
        )
        return run

    def _session(self, release: Release, args: list[str]) -> dict[str, Any]:
        """One step's pytest session; node ids this release does not have are left out (that check's
        search stops there) rather than failing the step."""
        out = self.out / "steps" / release.version
        for _ in range(3):
            try:
                report, _, _ = envs.run_suite_with(
                    release.arguments(), out, args, release.variables(), label=release.version
                )
                return load_run(report)
            except HarnessError as exc:
                # pytest names a missing id by its absolute path, and without its [parameters] when
                # the function itself is missing.
                missing = {
                    m.removeprefix(f"{envs.ROOT}/")
                    for m in re.findall(r"not found: (\S+)", str(exc))
                }
                kept = [a for a in args if a not in missing and a.split("[")[0] not in missing]
                if kept == args:
                    raise
                args = kept
        raise HarnessError(f"bisect: the checks named are not collected at {release.version}")

    def _data(self, found: list[Found], seconds: float) -> dict[str, Any]:
        return {
            "good": self._label(0),
            "bad": self._label(len(self.releases) - 1),
            "releases": [r.version for r in self.releases],
            "selection": self.selection,
            "steps": [vars(s) for s in self.steps],
            "wall_seconds": round(seconds, 1),
            "checks": [self._finding(f) for f in found],
        }

    def _finding(self, found: Found) -> dict[str, Any]:
        before = found.tried.get(found.last_same)
        after = found.tried.get(found.first) if found.first is not None else None
        return {
            "check": found.check,
            "first": None if found.first is None else self._label(found.first),
            "last_same": self._label(found.last_same),
            "monotone": found.monotone,
            "notes": found.notes,
            "found_after_steps": found.found_after,
            "before": self._side(found.last_same, found.check),
            "after": self._side(found.first, found.check) if found.first is not None else None,
            "class": after.klass if after else (before.klass if before else "same"),
            "moves": list(after.moves) if after else [],
            "tried": [
                {"version": self._label(i), "class": o.klass, "outcome": o.outcome}
                for i, o in found.tried.items()
            ],
            "repro": self._repro(found),
        }

    def _repro(self, found: Found) -> str | None:
        """A repro folder of the first differing release, or of the last like-V1 one when only that
        one fails."""
        if found.first is None:
            return None
        for index in (found.first, found.last_same):
            result = _result(self.renamed[index], found.check)
            if result and result["outcome"] in BAD and result.get("repro"):
                dest = self.out / "repro" / self.releases[index].version / repro.folder_name(result)
                return str(repro.write_folder(self.runs[index], result, dest))
        return None

    def _side(self, index: int, check: str) -> dict[str, Any]:
        result = _result(self.renamed[index], check) or {}
        return {
            "version": self._label(index),
            "outcome": result.get("outcome", "absent"),
            "fingerprint": result.get("fingerprint"),
        }


def observations(base: dict[str, Any], run: dict[str, Any]) -> dict[str, Observation]:
    """Each check of ``run`` against the same check of ``base``, as the gate classes it."""
    return {
        v.nodeid: Observation(v.klass, v.after, tuple(v.arrows()))
        for v in check_verdicts(base, run)
    }


def _narrowing(selection: list[str]) -> list[str]:
    """Requirement ids become ``--req``; anything else is a node id, as pytest takes it."""
    out: list[str] = []
    for item in selection:
        out += ["--req", item] if REQUIREMENT.fullmatch(item) else [item]
    return out


def _result(run: dict[str, Any], check: str) -> dict[str, Any] | None:
    return next((r for r in run["results"] if r["nodeid"] == check), None)


def _outcome(run: dict[str, Any], check: str) -> str:
    result = _result(run, check)
    return result["outcome"] if result else "absent"
