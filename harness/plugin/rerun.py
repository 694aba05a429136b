"""No verdict from a flake: a check whose class is not ``same`` runs once more before it is judged.

A check that fails with no deviations entry, or whose observation moved from its entry (fixed,
improved, changed, regressed, security), runs a second time in the same place (same worker, same
proxies). If the two runs agree (same class, same fingerprint) the first run's reports stand. If
they disagree, the check is ``flaky``: it is reported as a failure with both runs' classes, never
passed. On LiteLLM's pinned version nearly every check is ``same``, so this costs nothing there;
``--no-rerun`` turns it off. ``--rerun-against RUN`` also runs twice a check that passes where RUN's
failed or deviated, or fails where it passed (the gate passes its baseline's run). A check that ran
twice and agreed says so in the run (``ran_twice``): the gate runs once more only the checks that
moved against its baseline and did not already run twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from _pytest.runner import runtestprotocol

from harness.plugin import observing
from harness.verdict.classes import BAD_OUTCOMES, GOOD_OUTCOMES

# The class a check's call phase got (harness.plugin.deviations), and its observation.
JUDGED = pytest.StashKey[tuple[str, Any]]()
_PER_RUN: tuple[pytest.StashKey[Any], ...] = (
    observing.SOURCES,
    observing.DECLARED,
    observing.RANKS,
    observing.PROVIDERS,
    observing.SECRETS,
)


def judged(item: pytest.Item) -> tuple[str, Any] | None:
    return item.stash.get(JUDGED, None)


def _forget(item: pytest.Item) -> None:
    """What the first run left on the item, so the second observes afresh."""
    keys: tuple[pytest.StashKey[Any], ...] = (*_PER_RUN, JUDGED)
    for key in keys:
        if key in item.stash:
            del item.stash[key]


# --rerun-against: whether each check was good (passed, fixed) or bad (failed, deviated) in that
# run.
AGAINST = pytest.StashKey[dict[str, bool]]()


def _against(config: pytest.Config) -> dict[str, bool]:
    if AGAINST not in config.stash:
        path = config.getoption("rerun_against", None)
        results = json.loads(Path(path).read_text())["results"] if path else []
        config.stash[AGAINST] = {
            r["nodeid"]: r["outcome"] in GOOD_OUTCOMES
            for r in results
            if r["outcome"] in GOOD_OUTCOMES | BAD_OUTCOMES
        }
    return config.stash[AGAINST]


def _flipped(item: pytest.Item, reports: list[pytest.TestReport]) -> bool:
    """Good where the --rerun-against run had it bad, or bad where it was good: the gate's
    "moved"."""
    before = _against(item.config).get(item.nodeid)
    call = next((r for r in reports if r.when == "call"), None)
    if before is None or call is None or (call.skipped and not hasattr(call, "wasxfail")):
        return False
    bad_now = any(r.failed for r in reports) or hasattr(call, "wasxfail")
    return before == bad_now


def _needs_second_run(item: pytest.Item, reports: list[pytest.TestReport]) -> bool:
    found = judged(item)
    if found is not None and found[0] != "same":
        return True
    if found is None and any(r.failed for r in reports):
        return True
    return _flipped(item, reports)


def _class_of(item: pytest.Item, reports: list[pytest.TestReport]) -> tuple[str, Any]:
    found = judged(item)
    if found is not None:
        return found
    return ("failed" if any(r.failed for r in reports) else "passed"), None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    if not item.config.getoption("rerun") or "req" not in dict(item.user_properties):
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    properties = list(item.user_properties)
    # The first run tears down only the check's own fixtures: its proxy must still be there for a
    # second run.
    reports = runtestprotocol(item, nextitem=cast(pytest.Item, _Parents(item)), log=False)
    if not _needs_second_run(item, reports):
        reports += _rest_of_teardown(item, nextitem)
    else:
        first = _class_of(item, reports)
        _forget(item)
        item.user_properties[:] = properties
        item._initrequest()  # type: ignore[attr-defined]  # as pytest-rerunfailures does
        again = runtestprotocol(item, nextitem=nextitem, log=False)
        reports += [r for r in again if r.when == "teardown" and r.failed]
        second = _class_of(item, again)
        if second != first:
            _mark_flaky(reports, first, second)
        else:
            call = next((r for r in reports if r.when == "call"), reports[0])
            call.user_properties.append(("ran_twice", True))
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _rest_of_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> list[pytest.TestReport]:
    """What the first run's teardown kept (module, session fixtures) and the next check does not
    need.

    Only the setup state's own teardown: the teardown hooks already ran once (pytest's logging
    plugin, for one, cannot run its teardown twice); an error here is reported as the check's
    teardown error.
    """
    call = pytest.CallInfo.from_call(
        lambda: item.session._setupstate.teardown_exact(nextitem), "teardown"
    )
    if call.excinfo is None:
        return []
    return [item.ihook.pytest_runtest_makereport(item=item, call=call)]


class _Parents:
    """Stands in for the next item in a teardown: everything above this check is still needed."""

    def __init__(self, item: pytest.Item) -> None:
        self._chain = cast(list[pytest.Item | pytest.Collector], item.listchain()[:-1])

    def listchain(self) -> list[pytest.Item | pytest.Collector]:
        return self._chain


def _mark_flaky(
    reports: list[pytest.TestReport], first: tuple[str, Any], second: tuple[str, Any]
) -> None:
    call = next((r for r in reports if r.when == "call"), reports[0])
    call.user_properties.append(("flaky", f"first run: {first[0]}; second run: {second[0]}"))
    text = (
        f"FLAKY: two runs of this check disagreed (first run: {first[0]}, "
        f"second run: {second[0]}).\n"
        f"first run's observation: {first[1]}\nsecond run's observation: {second[1]}\n"
        "No verdict is drawn from it; the first run's reports are kept, and it fails."
    )
    call.sections.append(("flaky: the two runs", text))
    if call.outcome != "failed":
        call.outcome = "failed"
        if hasattr(call, "wasxfail"):
            del call.wasxfail
        call.longrepr = text
