"""The pytest side of known deviations: every check's observation, and the verdict on listed checks.

A listed check is judged after its call phase, from its observation (which
already includes what teardown would complain about: unscripted provider
requests, escapes from loopback). Its report is then rewritten:

- same: an xfail, with the recorded explanation;
- improved: an xfail too (it still fails, less badly), its arrows in the reason;
- fixed: a pass, reported as good news (the entry is stale);
- regressed, changed, security: a failure, with each moved field's arrow and the recorded
  fingerprint beside today's observation (``--changes warn``: ``changed`` is an xfail).

A teardown complaint of a matched deviation is forgiven only when it is exactly
what the fingerprint recorded (see :func:`forgiven`); anything else stays an error.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path

import pytest

from harness.claude_code import VERSION_IN_ID, version_key
from harness.errors import HarnessError
from harness.gateway.drivers import Impl
from harness.plugin import observing
from harness.plugin.rerun import JUDGED
from harness.plugin.stash import IMPL, RUN_FACTS
from harness.verdict import deviations, fingerprint
from harness.verdict.catalogue import catalogue
from harness.verdict.classes import Waiver
from harness.verdict.deviations import Deviation
from harness.verdict.fields import FieldMove

DEVIATION = pytest.StashKey[Deviation]()
MATCHED = pytest.StashKey[fingerprint.Observation]()
BORROWED = pytest.StashKey[bool]()
LISTED = pytest.StashKey[list[Deviation]]()
WAIVERS = pytest.StashKey[list[Waiver]]()


def deviations_file(config: pytest.Config, impl: Impl) -> Path | None:
    chosen = config.getoption("deviations")
    if chosen:
        return Path(chosen)
    prefix = impl.driver.deviations_prefix
    if config.getoption("no_deviations") or not prefix:
        return None
    try:
        version = impl.driver.version(config.getoption("litellm_python"))
        path = deviations.file_for(prefix, version, config.getoption("litellm_settings"))
    except HarnessError:
        return None  # the proxy fixture reports the missing litellm with its own paragraph
    return path if path.exists() else None


def apply(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Attach each check's deviation entry; an entry under the wrong requirement, or two, is
    refused."""
    path = deviations_file(config, config.stash[IMPL])
    try:
        known = deviations.load(path) if path else []
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[LISTED] = known
    try:
        config.stash[WAIVERS] = deviations.waivers(path)
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    if path:
        config.stash.setdefault(RUN_FACTS, {})["deviations_file"] = path.name
    exact, wild = _by_check(known)
    borrowing = _by_versionless_check(known)
    for item in items:
        nodeid = item.nodeid.removeprefix("suites/")
        matches = exact.get(nodeid, []) + [d for d in wild if d.matches(nodeid)]
        if not matches:
            if borrowed := _listed_for_another_claude_code(borrowing, item):
                item.stash[DEVIATION], item.stash[BORROWED] = borrowed, True
            continue
        if len(matches) > 1:
            raise pytest.UsageError(
                f"{path}: {item.nodeid} is listed {len(matches)} times "
                f"({', '.join(d.check for d in matches)})"
            )
        req = dict(item.user_properties).get("req")
        if req != matches[0].requirement:
            raise pytest.UsageError(
                f"{path}: {matches[0].check} is listed under {matches[0].requirement}, "
                f"but {item.nodeid} states {req}"
            )
        item.stash[DEVIATION] = matches[0]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        _judge_call(item, call, report)
    return report


def _by_check(known: list[Deviation]) -> tuple[dict[str, list[Deviation]], list[Deviation]]:
    """Entries naming one check, by its id, and entries with a ``*``: every check is held to every
    entry, and matching each check against each entry's pattern cost a third of a second per
    worker."""
    exact: dict[str, list[Deviation]] = {}
    for d in known:
        if "*" not in d.check:
            exact.setdefault(d.check, []).append(d)
    return exact, [d for d in known if "*" in d.check]


def _by_versionless_check(known: list[Deviation]) -> dict[str, list[Deviation]]:
    """Entries that name a Claude Code version, by their check with the version as ``cc-*``."""
    found: dict[str, list[Deviation]] = {}
    for d in known:
        if VERSION_IN_ID.search(d.check):
            found.setdefault(VERSION_IN_ID.sub("cc-*", d.check), []).append(d)
    return found


def _listed_for_another_claude_code(
    by_versionless: dict[str, list[Deviation]], item: pytest.Item
) -> Deviation | None:
    """A check of a Claude Code version the file does not list, listed for another version: that
    entry.

    A new Claude Code version (the gate profiles one on the fly) runs checks no deviations file
    names yet. Where the same check is a known deviation for another version, it is held to that
    entry's fingerprint: failing exactly the same way is the known deviation, failing otherwise is
    new, and passing is simply a pass. The newest listed version's entry is used.
    """
    if "claude_code" not in dict(item.user_properties):
        return None
    same = by_versionless.get(VERSION_IN_ID.sub("cc-*", item.nodeid.removeprefix("suites/")), [])
    if not same:
        return None
    entry = max(same, key=lambda d: version_key(_listed_version(d)))
    return replace(
        entry,
        observed=f"{entry.observed} [listed for Claude Code {_listed_version(entry)}; "
        "this version fails the same way, by fingerprint]",
    )


def _listed_version(entry: Deviation) -> str:
    found = VERSION_IN_ID.search(entry.check)
    return found.group(1) if found else ""


def _judge_call(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    if report.skipped:
        return
    observed = observing.observation(item, observing.outcome("call", call.excinfo))
    report.user_properties.append(("fingerprint", observed))
    ranks = observing.ranks(item)
    if ranks:
        report.user_properties.append(("ranks", ranks))
    entry = item.stash.get(DEVIATION, None)
    if entry is None:
        leaked = fingerprint.leaked(observed)
        if leaked and report.passed:
            # A security dimension, whatever the check asserts: a pass with a secret where it must
            # not be is no pass (gateway_key_at_provider, secret_exposed: issue 39).
            report.outcome = "failed"
            report.longrepr = (
                f"[SECURITY] during this check: {leaked} (fingerprint fields "
                "gateway_key_at_provider, secret_exposed), although the check's own assertions "
                "passed."
            )
        item.stash[JUDGED] = (
            "security" if leaked else "same" if report.passed else "new failure",
            observed,
        )
        return
    klass, moved = entry.judge(observed, _is_security(item), ranks)
    item.stash[JUDGED] = (klass, observed)
    if klass == "fixed" and item.stash.get(BORROWED, False):
        return  # another version's entry says nothing about this version passing
    waiver = _waiver(item, klass)
    report.user_properties.append(("deviation", klass))
    if moved:
        report.user_properties.append(("moves", [m.arrow() for m in moved]))
    if entry.fingerprint is not None:
        report.user_properties.append(
            ("recorded_fingerprint", fingerprint.normalise(entry.fingerprint))
        )
    if klass == "fixed":
        return  # good news: a pass; the run's verdict says the entry is stale
    if klass in ("same", "improved") or waiver or (klass == "changed" and _changes(item) == "warn"):
        item.stash[MATCHED] = observed
        report.outcome = "skipped"
        report.wasxfail = _xfail_reason(entry, klass, moved, waiver)
        return
    report.sections.append(
        (
            f"known deviation {klass}: recorded fingerprint vs observed now",
            _changed_text(entry, observed, klass, moved),
        )
    )


def _xfail_reason(
    entry: Deviation, klass: str, moved: list[FieldMove], waiver: Waiver | None
) -> str:
    if klass == "same":
        return f"known deviation: {entry.observed}"
    arrows = "; ".join(m.arrow() for m in moved[:4])
    if waiver:
        return f"security change waived until {waiver.expires} ({waiver.reason}): {arrows}"
    return f"known deviation, {klass} (the entry is stale: deviations accept): {arrows}"


def _is_security(item: pytest.Item) -> bool:
    req = catalogue().get(str(dict(item.user_properties).get("req", "")))
    return bool(req and req.security)


def _changes(item: pytest.Item) -> str:
    return str(item.config.getoption("changes", "fail") or "fail")


def _waiver(item: pytest.Item, klass: str) -> Waiver | None:
    if klass != "security":
        return None
    return next((w for w in item.config.stash.get(WAIVERS, []) if w.covers(item.nodeid)), None)


def _changed_text(
    entry: Deviation, observed: fingerprint.Observation, klass: str, moved: list[FieldMove]
) -> str:
    if entry.fingerprint is None:
        return (
            "The entry has no fingerprint, so no failure can be confirmed as the known one. "
            "Record it with `python -m harness deviations record`.\nobserved now: "
            + json.dumps(observed, sort_keys=True)
        )
    arrows = "\n".join(f"  {m.arrow()}" for m in moved)
    return (
        f"This check is a known deviation ({entry.requirement}: {entry.observed}),\n"
        f"but it now fails differently: {klass.upper()}.\n{arrows}\n"
        + fingerprint.side_by_side(entry.fingerprint, observed)
    )


def forgiven(item: pytest.Item, field: str, now: list[str]) -> bool:
    """Whether a teardown complaint (``now``, under ``field``) is exactly what the deviation
    recorded.

    Fixtures ask this before failing a teardown, so a matched deviation whose recorded
    behaviour includes, say, an unscripted provider request is not failed for it twice,
    while any complaint beyond the fingerprint still fails the check.
    """
    matched = item.stash.get(MATCHED, None)
    return matched is not None and bool(now) and set(now) <= set(matched.get(field, []))
