"""The search itself, over release indices, with no knowledge of how a release is run.

Index 0 is the good release (V1), the last index the bad one (V2). Each check keeps its own
interval: the highest index known to answer as V1 does (``lo``) and the lowest known, or assumed, to
differ (``hi``, at first V2). A step runs at the midpoint of the first unfinished interval, and it
runs every named check: the checks that changed in the same release finish together, and a step
taken for one check is evidence about all the others (a step costs a pytest session and proxies, not
the few checks in it).

With ``n`` releases after V1, a check is found within ceil(log2 n) + 1 steps: V1, then halving. V2
itself is run only when the answer is V2 (one step more): the caller named it bad, and running it
every time would add a step to every search. A check is **not monotone** when the steps contradict
one change point (a release after the first differing one answers as V1 again, or one before the
last like-V1 release differs) or when the releases that differ do not all differ the same way. A
bisect sees only the releases it tries: a change that comes and goes between two of them is
invisible, and the sweep (every release) is the way to be sure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Observation:
    """One check at one release, judged against the same check at V1 (the gate's classes)."""

    # "same", "fixed", "improved", "changed", "regressed", "new failure", "security", "flaky"
    klass: str
    outcome: str
    moves: tuple[str, ...] = ()

    @property
    def differs(self) -> bool:
        return self.klass != "same"

    @property
    def change(self) -> tuple[str, tuple[str, ...]]:
        """What moved, for telling whether two differing releases differ the same way."""
        return self.klass, self.moves


@dataclass
class Track:
    """One check's search."""

    check: str
    hi: int
    lo: int = 0
    seen: dict[int, Observation] = field(default_factory=dict)
    contradictions: list[str] = field(default_factory=list)
    remarks: list[str] = field(
        default_factory=list
    )  # what later steps showed that does not bear on the answer
    stopped: str = (
        ""  # why the search ended early (a flaky answer, the check missing from a release)
    )
    found_after: int = 0  # the steps run when its interval closed

    @property
    def open(self) -> bool:
        return not self.stopped and self.hi - self.lo > 1

    @property
    def answered(self) -> bool:
        return not self.stopped and not self.open and self.hi in self.seen

    def observe(self, index: int, seen: Observation | None, label: Callable[[int], str]) -> None:
        if seen is None:
            self._unknown(f"the check did not run at {label(index)}")
            return
        self.seen[index] = seen
        if seen.klass == "flaky":
            self._unknown(f"two runs at {label(index)} disagreed (flaky): no release can be blamed")
        elif seen.differs:
            self._differs(index, label)
        else:
            self._same(index, label)

    def _unknown(self, why: str) -> None:
        """A step that tells nothing about this check: it ends a search still going, and is noted
        after one."""
        if self.answered:
            self.remarks.append(f"after its answer: {why}")
        else:
            self.stopped = self.stopped or why

    def _differs(self, index: int, label: Callable[[int], str]) -> None:
        if index <= self.lo:
            self.contradictions.append(
                f"{label(index)} differs, yet {label(self.lo)} after it answers as V1"
            )
        elif index < self.hi:
            self.hi = index

    def _same(self, index: int, label: Callable[[int], str]) -> None:
        # At hi itself (V2, run to confirm what was assumed) answering as V1 is an answer, not a
        # contradiction.
        if index > self.hi and self.hi in self.seen:
            self.contradictions.append(
                f"{label(index)} answers as V1 again, after {label(self.hi)} differed"
            )
        elif index > self.lo:
            self.lo = index


@dataclass
class Found:
    """A check's answer: the first release that differs from V1 (None when V2 does not), and the
    evidence."""

    check: str
    first: int | None
    last_same: int
    tried: dict[int, Observation]
    monotone: bool
    notes: list[str]
    found_after: int  # steps, V1's included, run by the time its answer was known


Observe = Callable[[int, list[str]], dict[str, Observation]]


def search(
    count: int, checks: Sequence[str], observe: Observe, label: Callable[[int], str] = str
) -> list[Found]:
    """Each check's first differing release among indices 1..count-1; ``observe(i, checks)`` runs a
    step.

    ``observe(0, ...)`` must return every check as "same" (it is V1 against itself); the caller
    compares every later step with that run."""
    if count < 2:
        raise ValueError("a bisect needs a good and a bad release")
    tracks = [Track(c, count - 1) for c in checks]
    steps = [0]
    _step(0, tracks, observe, label, steps)
    while opened := [t for t in tracks if t.open]:
        _step((opened[0].lo + opened[0].hi) // 2, tracks, observe, label, steps)
    if any(not t.stopped and t.hi == count - 1 and t.hi not in t.seen for t in tracks):
        _step(count - 1, tracks, observe, label, steps)
    return [_found(t, label) for t in tracks]


def _step(
    index: int, tracks: list[Track], observe: Observe, label: Callable[[int], str], steps: list[int]
) -> None:
    answers = observe(index, [t.check for t in tracks])
    steps[0] += 1
    for t in tracks:
        t.observe(index, answers.get(t.check), label)
        if not t.found_after and (t.stopped or t.answered):
            t.found_after = steps[0]


def _found(track: Track, label: Callable[[int], str]) -> Found:
    notes = [*track.contradictions, *track.remarks]
    if track.stopped:
        notes.append(track.stopped)
    differing = {i: o for i, o in sorted(track.seen.items()) if o.differs and o.klass != "flaky"}
    first = track.hi if track.hi in differing else None
    if first is None and not track.stopped:
        notes.append("V2 answers as V1 does: nothing changed between them for this check")
    kinds: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for index, seen in differing.items():
        kinds.setdefault(seen.change, []).append(label(index))
    changes = set(kinds)
    if len(changes) > 1:
        notes.append(
            "it changed more than once, the releases that differ do not differ the same way: "
            + "; ".join(
                f"{', '.join(at)}: {klass} {' / '.join(moves[:2])}".rstrip()
                for (klass, moves), at in kinds.items()
            )
        )
    monotone = not track.contradictions and len(changes) <= 1
    return Found(
        track.check,
        None if track.stopped else first,
        track.lo,
        dict(sorted(track.seen.items())),
        monotone,
        notes,
        track.found_after,
    )
