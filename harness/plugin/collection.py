"""What the plugin does to the collected checks, one named step each, in the order they run.

A check (an item under the suites' folder) must state one known requirement; it then carries its
requirement's id, area and level, its Claude Code version and its non-default settings for the
report. It is marked settings-sensitive, narrowed to the wanted Claude Code versions, skipped where
the implementation under test cannot answer it, and given its known deviation.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from harness.claude_code import VERSION_IN_ID
from harness.errors import HarnessError
from harness.gateway import drivers
from harness.gateway.configs import DEPLOYED_GATEWAYS
from harness.gateway.drivers import Impl
from harness.plugin import deviations, killmatrix
from harness.plugin.stash import IMPL, SUITES_DIR, gateway_name
from harness.verdict.catalogue import Requirement, catalogue


def in_suites(item: pytest.Item) -> bool:
    return _under_suites(str(item.path))


@cache
def _under_suites(path: str) -> bool:
    # Asked of every item several times a run: resolving one path per module, not per ask, spares
    # 12,000 resolves.
    return SUITES_DIR in Path(path).resolve().parents


def claude_code_version(item: pytest.Item) -> str | None:
    """The Claude Code version a check is about, or None for a check every version shares."""
    callspec = getattr(item, "callspec", None)
    found = VERSION_IN_ID.search(callspec.id) if callspec is not None else None
    return found.group(1) if found else None


def requirement_of(item: pytest.Item, known: dict[str, Requirement]) -> Requirement | None:
    ids = [str(m.args[0]) for m in item.iter_markers("req")]
    return known[ids[0]] if len(ids) == 1 and ids[0] in known else None


def label(item: pytest.Item, req: Requirement) -> None:
    """The report's columns for this check: requirement, area, level, Claude Code version,
    settings."""
    item.user_properties += [("req", req.id), ("area", req.area), ("level", req.level)]
    if version := claude_code_version(item):
        item.user_properties.append(("claude_code", version))
    settings = {k: str(v) for m in item.iter_markers("settings") for k, v in m.kwargs.items()}
    if settings:
        item.user_properties.append(("settings", settings))


def narrow_to_witnesses(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The witnesses (what the real CLI prints for each known cause) run only for ``--witness``, and
    then alone: they observe a gateway's known failures, they do not judge it
    (docs/impact.md#witnesses)."""
    wanted = bool(config.getoption("witness", False))
    dropped = [i for i in items if bool(i.get_closest_marker("witness")) != wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if bool(i.get_closest_marker("witness")) == wanted]


def mark_settings_sensitive(item: pytest.Item) -> None:
    """A check on a pool deployment of a gateway that takes the run's settings profile hangs on that
    profile."""
    if (
        "fresh_model" in getattr(item, "fixturenames", ())
        and gateway_name(item) not in DEPLOYED_GATEWAYS
    ):
        item.add_marker(pytest.mark.settings_sensitive)


def narrow_to_claude_code(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--claude-code X: checks about other Claude Code versions are deselected, not run and thrown
    away.

    The grid (``dev.py gate``) relies on it: one run per LiteLLM version carries the shared checks
    once and the version-specific ones for every Claude Code column.
    """
    wanted = config.getoption("claude_code")
    if not wanted:
        return
    dropped = [i for i in items if (v := claude_code_version(i)) is not None and v not in wanted]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(dropped)
        items[:] = [i for i in items if i not in gone]


def narrow_to_requirements(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--req ID: only the checks of the named requirements run (the kill matrix, a bisect step); the
    rest are deselected."""
    wanted = set(config.getoption("req") or ())
    if not wanted:
        return
    dropped = [
        i for i in items if in_suites(i) and dict(i.user_properties).get("req") not in wanted
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        gone = set(dropped)
        items[:] = [i for i in items if i not in gone]


def skip_if_not_applicable(item: pytest.Item, impl: Impl) -> None:
    if impl.driver.blackbox_only and (
        not item.get_closest_marker("blackbox") or gateway_name(item) != "default"
    ):
        item.add_marker(
            pytest.mark.skip(
                reason="black-box mode: this check needs the provider journal or "
                "a harness-built config"
            )
        )
        return
    needed = {str(a) for m in item.iter_markers("needs") for a in m.args}
    # A capability no driver serves is a typo: it would make the check not applicable everywhere.
    served = set().union(*(drivers.driver(n).capabilities for n in drivers.names()))
    if needed - served:
        raise pytest.UsageError(
            f"{item.nodeid} needs {', '.join(sorted(needed - served))}, which no gateway driver "
            "declares (harness/gateway/drivers/)"
        )
    missing = needed - impl.capabilities
    if missing:
        item.add_marker(
            pytest.mark.skip(
                reason=f"not applicable to {impl.label}: needs {', '.join(sorted(missing))}"
            )
        )


def prepare(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every step, in order; a check without exactly one known requirement stops the run before
    anything starts."""
    try:
        known = catalogue()
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    problems = []
    for item in filter(in_suites, items):
        req = requirement_of(item, known)
        if req is None:
            stated = [str(m.args[0]) for m in item.iter_markers("req")]
            problems.append(f"  {item.nodeid}: req markers {stated or 'none'}")
            continue
        label(item, req)
        mark_settings_sensitive(item)
    if problems:
        raise pytest.UsageError(
            "every check in suites/ needs exactly one @pytest.mark.req(ID) naming a requirement in "
            "harness/verdict/catalogue.yaml:\n" + "\n".join(problems)
        )
    unknown = set(config.getoption("req") or ()) - set(known)
    if unknown:
        raise pytest.UsageError(
            f"--req names no requirement in harness/verdict/catalogue.yaml: {sorted(unknown)}"
        )
    narrow_to_witnesses(config, items)
    narrow_to_claude_code(config, items)
    narrow_to_requirements(config, items)
    killmatrix.keep_promised(config, items)
    checks = [i for i in items if in_suites(i)]
    for item in checks:
        skip_if_not_applicable(item, config.stash[IMPL])
    deviations.apply(config, [i for i in checks if not i.get_closest_marker("skip")])
