"""One class per check, and what blocks: the verdict ranks harm, it does not count changes.

A check is compared with its earlier self (the baseline run's result, or the fingerprint a
deviations file recorded), never with a requirement's worst outcome, so a check that goes from
pass to fail is seen even when another check of its requirement already deviated. Classes,
worst first:

- ``security``: a security dimension got worse (a key reached a provider, a request beyond
  loopback), or a check of a security requirement regressed, newly failed or changed. It blocks
  at every level; only a waiver with a reason and an expiry date lets it through.
- ``regressed``: it passed and now fails, or it fails worse (some fields worse, none better).
- ``new failure``: it fails and there is nothing earlier to compare with (a new check, a check the
  baseline skipped, a failure no deviations entry lists).
- ``harness error``: its setup failed (a proxy that would not start, a fake that died) after one
  retry in place: the harness's failure, not the gateway's. Nothing is judged from it; a run with
  one and nothing blocking is NOT JUDGED and exits 3 (HARNESS_EXIT), so CI tells "the harness broke"
  from "the gateway broke".
- ``flaky``: two runs of it disagreed; no verdict is drawn from it.
- ``changed``: it fails differently, some fields better and some worse, or a move no order ranks.
- ``improved``: it still fails, but every field that moved got better.
- ``fixed``: it failed and now passes.
- ``same``: nothing moved.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.verdict.fields import Direction, FieldMove, moves

Class = Literal[
    "security",
    "regressed",
    "new failure",
    "harness error",
    "flaky",
    "changed",
    "improved",
    "fixed",
    "same",
]
SEVERITY: tuple[Class, ...] = (
    "security",
    "regressed",
    "new failure",
    "harness error",
    "flaky",
    "changed",
    "improved",
    "fixed",
    "same",
)
HARNESS_EXIT = 3  # nothing blocks, but the harness failed to judge some checks
GOOD_OUTCOMES = frozenset({"pass", "fixed"})
BAD_OUTCOMES = frozenset({"fail", "error", "deviation"})
# Classes that need a person: they block unless --changes warn.
REVIEW = frozenset({"changed", "flaky"})
BLOCKING = frozenset({"security", "regressed", "new failure"})


@dataclass(frozen=True)
class Waiver:
    """An accepted security change: only with a reason and an expiry date, never by re-recording."""

    check: str
    reason: str
    expires: dt.date

    def covers(self, nodeid: str, today: dt.date | None = None) -> bool:
        # As a deviations entry's check: brackets are literal, * matches anything.
        pattern = re.escape(self.check).replace(r"\*", ".*")
        in_force = (today or dt.date.today()) <= self.expires
        return in_force and re.fullmatch(pattern, nodeid.removeprefix("suites/")) is not None


@dataclass
class CheckVerdict:
    nodeid: str
    requirement: str
    level: str
    klass: Class
    before: str  # the earlier outcome (pass, fail, deviation, ... or "absent")
    after: str
    moves: list[FieldMove] = field(default_factory=list)
    waived: Waiver | None = None
    notes: list[str] = field(default_factory=list)  # arrows already rendered (read back from a run)

    def blocks(
        self, fail_on_should: bool = False, changes: str = "fail", every_level: bool = False
    ) -> bool:
        if self.klass == "security":
            return self.waived is None
        if not every_level and self.level not in (
            {"must", "should"} if fail_on_should else {"must"}
        ):
            return False
        return self.klass in BLOCKING or (self.klass in REVIEW and changes != "warn")

    def arrows(self) -> list[str]:
        return [m.arrow() for m in self.moves] + self.notes

    def to_json(self) -> dict[str, Any]:
        out = {
            "nodeid": self.nodeid,
            "requirement": self.requirement,
            "level": self.level,
            "class": self.klass,
            "before": self.before,
            "after": self.after,
            "moves": self.arrows(),
        }
        if self.waived:
            out["waived"] = f"until {self.waived.expires}: {self.waived.reason}"
        return out


def classify(
    before: str,
    before_fp: Mapping[str, Any] | None,
    after: str,
    after_fp: Mapping[str, Any] | None,
    security: bool,
    ranks: Mapping[str, Direction] | None = None,
) -> tuple[Class, list[FieldMove]]:
    """The class of one check, from its outcome and fingerprint before and after."""
    moved = moves(before_fp or {}, after_fp or {}, ranks) if before_fp and after_fp else []
    klass = _plain_class(before, after, moved)
    if any(m.security for m in moved) or (
        security and klass in ("regressed", "new failure", "changed")
    ):
        return "security", moved
    return klass, moved


def _plain_class(before: str, after: str, moved: list[FieldMove]) -> Class:
    if after not in GOOD_OUTCOMES | BAD_OUTCOMES:
        return "same"  # not run now: nothing to judge
    if before not in GOOD_OUTCOMES | BAD_OUTCOMES:
        return "new failure" if after in BAD_OUTCOMES else "same"
    if before in GOOD_OUTCOMES:
        return "regressed" if after in BAD_OUTCOMES else "same"
    if after in GOOD_OUTCOMES:
        return "fixed"
    kinds = {m.move for m in moved}
    if not kinds:
        return "same"
    if kinds == {"better"}:
        return "improved"
    if kinds == {"worse"}:
        return "regressed"
    return "changed"


def worst(classes: Iterable[Class]) -> Class:
    return min(classes, key=SEVERITY.index, default="same")


@dataclass
class Verdict:
    """Every compared check's class, and the answer a person acts on."""

    checks: list[CheckVerdict]
    fail_on_should: bool = False
    changes: str = "fail"  # "warn": unreviewed changes do not fail
    every_level: bool = (
        False  # one run on its own: pytest fails a check at any level, and so does this
    )

    def counts(self) -> Counter[str]:
        return Counter(c.klass for c in self.checks)

    def blocks(self, check: CheckVerdict) -> bool:
        return check.blocks(self.fail_on_should, self.changes, self.every_level)

    def moved(self) -> list[CheckVerdict]:
        return sorted(
            (c for c in self.checks if c.klass != "same"),
            key=lambda c: (SEVERITY.index(c.klass), not self.blocks(c), c.requirement, c.nodeid),
        )

    def blocking(self) -> list[CheckVerdict]:
        return [c for c in self.moved() if self.blocks(c)]

    def harness_errors(self) -> list[CheckVerdict]:
        return [c for c in self.checks if c.klass == "harness error"]

    def exit_code(self) -> int:
        return 1 if self.blocking() else HARNESS_EXIT if self.harness_errors() else 0

    def state(self) -> str:
        blocking = {c.klass for c in self.blocking()}
        if blocking & BLOCKING:
            return "NOT SAFE"
        if errors := self.harness_errors():
            return f"NOT JUDGED: {len(errors)} harness error{'s' * (len(errors) != 1)}"
        review = [c for c in self.moved() if c.klass in REVIEW]
        return f"SAFE, {len(review)} CHANGES TO REVIEW" if review else "SAFE"

    def requirement_classes(self) -> dict[str, Class]:
        by_req: dict[str, list[Class]] = {}
        for c in self.checks:
            by_req.setdefault(c.requirement, []).append(c.klass)
        return {req: worst(classes) for req, classes in by_req.items()}

    def summary(self) -> str:
        counts = self.counts()
        return ", ".join(f"{counts[k]} {k}" for k in SEVERITY if counts[k])

    def lines(self, top: int = 12) -> list[str]:
        """The banner, the counts per class, then the top items with their arrows."""
        out = [f"{self.state()}  ({self.summary() or 'nothing compared'})"]
        for c in self.moved()[:top]:
            mark = "BLOCKS" if self.blocks(c) else "      "
            waived = f" [waived until {c.waived.expires}: {c.waived.reason}]" if c.waived else ""
            out.append(
                f"  {mark} {c.klass:<11} {c.requirement:<11} {c.level:<6} {c.nodeid}{waived}"
            )
            out += [f"           {a}" for a in c.arrows()[:4]]
        if len(self.moved()) > top:
            out.append(f"  ... and {len(self.moved()) - top} more (see the report)")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state(),
            "exit_code": self.exit_code(),
            "counts": dict(self.counts()),
            "changes": self.changes,
            "fail_on_should": self.fail_on_should,
            "checks": [c.to_json() for c in self.moved()],
            "requirements": {k: v for k, v in self.requirement_classes().items() if v != "same"},
        }


def apply_waivers(
    checks: list[CheckVerdict], waivers: Iterable[Waiver], today: dt.date | None = None
) -> None:
    listed = list(waivers)
    for c in checks:
        if c.klass == "security":
            c.waived = next((w for w in listed if w.covers(c.nodeid, today)), None)
